import SeatcastCore

/// One trip as this server instance knows it: its subscribers, its seat map at the
/// newest `seq` delivered, and the last events for resumes. Loop thread only.
final class TripHub {
    let tripId: String
    /// nil while the first snapshot is loading.
    var map: TripMap?
    var subscribers: [Session] = []
    /// Subscribers waiting for the first snapshot, with their request ids and resume positions.
    var waiting: [(Session, String?, StreamPosition?)] = []
    /// The encoded snapshot for `map.seq`, built on first use.
    private var snapshotFrame: Frame?
    /// Recent events (seq, frame), oldest first, at most `ringCapacity`.
    private(set) var ring: [(Int64, Frame)] = []
    private var ringStart = 0
    let ringCapacity: Int
    /// A re-read from the outbox was requested after a gap; further gap events are dropped.
    var rewatchPending = false

    init(tripId: String, ringCapacity: Int) {
        self.tripId = tripId
        self.ringCapacity = ringCapacity
    }

    func snapshot() -> Frame? {
        guard let map else { return nil }
        if let f = snapshotFrame { return f }
        let f = Frame(Messages.snapshot(map.snapshot), stream: true, tripId: tripId)
        snapshotFrame = f
        return f
    }

    /// Applies an event; the frame is remembered for resumes.
    func apply(_ e: TripEvent, _ frame: Frame) -> TripMap.ApplyResult {
        guard map != nil else { return .stale }
        let r = map!.apply(e)
        if r == .applied {
            snapshotFrame = nil
            rewatchPending = false
            if ring.count - ringStart >= ringCapacity { ringStart += 1 }
            if ringStart > ringCapacity { ring.removeFirst(ringStart); ringStart = 0 }
            ring.append((e.seq, frame))
        }
        return r
    }

    /// Frames of events with `seq > after`, when the ring still has all of them.
    func framesAfter(_ after: Int64) -> [Frame]? {
        guard let map else { return nil }
        if after == map.seq { return [] }
        guard after < map.seq, ringStart < ring.count, ring[ringStart].0 <= after + 1 else { return nil }
        return ring[ringStart...].filter { $0.0 > after }.map(\.1)
    }

    func resetRing() {
        ring.removeAll()
        ringStart = 0
    }

    func remove(_ s: Session) {
        if let i = subscribers.firstIndex(where: { $0 === s }) { subscribers.remove(at: i) }
        waiting.removeAll { $0.0 === s }
    }

    var isUnused: Bool { subscribers.isEmpty && waiting.isEmpty }
}
