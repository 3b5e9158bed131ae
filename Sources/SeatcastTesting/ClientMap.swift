import SeatcastCore

/// A client's view of a trip, built the way docs/PROTOCOL.md tells clients to: take a
/// snapshot, apply later events in seq order, replace everything on a new snapshot.
public struct ClientMap: Sendable {
    public private(set) var map: TripMap
    public var seq: Int64 { map.seq }

    public init(snapshot json: JSON) throws {
        map = TripMap(try Self.parseSnapshot(json))
    }

    /// A full or a compact (`"compact":true`) snapshot.
    public static func parseSnapshot(_ j: JSON) throws -> TripSnapshot {
        if j["compact"] == .bool(true) {
            guard let s = CompactSnapshot.decode(j) else { throw TestFailure("bad compact snapshot: \(j.text.prefix(200))") }
            return s
        }
        guard j.type == "snapshot", let trip = j["tripId"]?.stringValue, let seq = j["seq"]?.int64Value,
              let epoch = j["epoch"]?.stringValue, let rows = j["rows"]?.int64Value, let cols = j["cols"]?.int64Value,
              let seats = j["seats"]?.arrayValue else { throw TestFailure("not a snapshot: \(j.text.prefix(200))") }
        return TripSnapshot(tripId: trip, name: j["name"]?.stringValue ?? "", rows: Int(rows), cols: Int(cols), epoch: epoch, seq: seq,
                            seats: try seats.map { s in
                                guard let no = s["seatNo"]?.stringValue, let st = s["status"]?.stringValue.flatMap(SeatStatus.init(name:)),
                                      let r = s["row"]?.int64Value, let c = s["col"]?.int64Value else { throw TestFailure("bad seat") }
                                return SeatState(seatNo: no, row: Int(r), col: Int(c), status: st,
                                                 untilMs: s["until"]?.stringValue.flatMap(Self.parseMs))
                            })
    }

    /// What one message did to the map.
    public enum Received: Equatable, Sendable {
        /// A snapshot of this trip: it replaced the map.
        case snapshot
        /// The next event in seq order: now part of the map.
        case applied
        /// An event the map already covers (seq at or below the map's): not applied.
        case stale
        /// An event past the next seq (events are missing): not applied.
        case gap
        /// An event naming a seat the trip does not have: not applied.
        case unknownSeat
        /// Anything else (replies, errors, another trip's messages): ignored.
        case ignored
    }

    /// Takes one message as a client does: a snapshot of this trip replaces the map, the
    /// next event is applied, anything else is only classified.
    public mutating func receive(_ j: JSON) throws -> Received {
        guard j["tripId"]?.stringValue == map.tripId else { return .ignored }
        let kind: TripEvent.Kind
        switch j.type {
        case "snapshot":
            map = TripMap(try Self.parseSnapshot(j))
            return .snapshot
        case "seat_locked": kind = .locked
        case "seat_booked": kind = .booked
        case "seat_released": kind = .released
        default: return .ignored
        }
        let e = TripEvent(tripId: map.tripId, seq: j.seq ?? -1, seatNo: j.seatNo ?? "",
                          kind: kind, untilMs: j["until"]?.stringValue.flatMap(Self.parseMs), reason: j["reason"]?.stringValue)
        switch map.apply(e) {
        case .applied: return .applied
        case .stale: return .stale
        case .gap: return .gap
        case .unknownSeat: return .unknownSeat
        }
    }

    /// Applies one message: an event (the next seq; with `skippingStale`, one the map
    /// already covers is passed over, as after a snapshot that replaced a burst) or a
    /// snapshot. Other messages are ignored; an event that does not apply throws.
    public mutating func apply(_ j: JSON, skippingStale: Bool = false) throws {
        let r = try receive(j)
        if r == .gap || r == .unknownSeat || (r == .stale && !skippingStale) {
            throw TestFailure("event seq \(j.seq ?? -1) on map at \(map.seq): \(r)")
        }
    }

    /// Seats whose state differs from `snapshot` (empty when the maps agree), for messages.
    public func differences(from snapshot: TripSnapshot) -> [String] {
        var out: [String] = []
        let mine = map.snapshot
        if mine.seq != snapshot.seq { out.append("seq \(mine.seq) vs database \(snapshot.seq)") }
        if mine.epoch != snapshot.epoch { out.append("epoch \(mine.epoch) vs database \(snapshot.epoch)") }
        let db = Dictionary(uniqueKeysWithValues: snapshot.seats.map { ($0.seatNo, $0) })
        for s in mine.seats where db[s.seatNo] != s {
            out.append("\(s.seatNo): \(s.status.name)/\(s.untilMs.map(String.init) ?? "-") vs database "
                + "\(db[s.seatNo].map { "\($0.status.name)/\($0.untilMs.map(String.init) ?? "-")" } ?? "missing")")
        }
        if mine.seats.count != snapshot.seats.count { out.append("\(mine.seats.count) seats vs database \(snapshot.seats.count)") }
        return out
    }

    /// Status of every seat, for comparisons (until is compared separately when needed).
    public var statuses: [String: SeatStatus] {
        Dictionary(uniqueKeysWithValues: map.snapshot.seats.map { ($0.seatNo, $0.status) })
    }

    /// Parses `2026-11-21T19:30:00.000Z` to ms since the epoch (`Timestamp.parse`).
    public static func parseMs(_ s: String) -> Int64? { Timestamp.parse(s) }
}
