/// The seat map of one trip at stream position `seq`: a snapshot with every later
/// event applied in order. The server keeps one per live trip, so a new
/// subscriber's snapshot needs no database round trip, and a client's map can be
/// checked against it.
public struct TripMap: Sendable {
    public private(set) var snapshot: TripSnapshot
    private var index: [String: Int]
    /// The seats are exactly the `rows` x `cols` grid, row-major, named by `SeatNumbering`:
    /// the compact snapshot can describe the trip (see `CompactSnapshot`). Events never
    /// change the layout, so this holds for the map's lifetime.
    public let isGrid: Bool

    public enum ApplyResult: Equatable, Sendable {
        /// The event was the next one and is now part of the map.
        case applied
        /// Already part of the map (`seq` at or below the map's): ignore it.
        case stale
        /// Events between the map's `seq` and this one are missing.
        case gap
        /// The event names a seat the trip does not have.
        case unknownSeat
    }

    public init(_ snapshot: TripSnapshot) {
        self.snapshot = snapshot
        var index = [String: Int](minimumCapacity: snapshot.seats.count)
        for (i, s) in snapshot.seats.enumerated() { index[s.seatNo] = i }
        self.index = index
        isGrid = CompactSnapshot.isGrid(snapshot)
    }

    public var seq: Int64 { snapshot.seq }
    public var epoch: String { snapshot.epoch }
    public var tripId: String { snapshot.tripId }

    public func seat(_ seatNo: String) -> SeatState? {
        index[seatNo].map { snapshot.seats[$0] }
    }

    public mutating func apply(_ e: TripEvent) -> ApplyResult {
        if e.seq <= snapshot.seq { return .stale }
        if e.seq != snapshot.seq + 1 { return .gap }
        guard let i = index[e.seatNo] else { return .unknownSeat }
        switch e.kind {
        case .locked:
            snapshot.seats[i].status = .held
            snapshot.seats[i].untilMs = e.untilMs
        case .released:
            snapshot.seats[i].status = .available
            snapshot.seats[i].untilMs = nil
        case .booked:
            snapshot.seats[i].status = .booked
            snapshot.seats[i].untilMs = nil
        }
        snapshot.seq = e.seq
        return .applied
    }

    public var availableCount: Int { snapshot.seats.reduce(0) { $0 + ($1.status == .available ? 1 : 0) } }
}
