/// The last events a trip's map applied, oldest first, at most `capacity` of them: what a
/// resume on the same instance replays without asking the database.
///
/// Invariant: the `seq`s are consecutive (a map applies only its next event, and the ring
/// is emptied whenever the map is reloaded), so an event is found by arithmetic, not by
/// searching.
public struct EventRing: Sendable {
    public let capacity: Int
    private var entries: [EventFrame] = []
    /// Entries before `start` have left the ring; they are removed in bulk, not one by one.
    private var start = 0

    public init(capacity: Int) {
        self.capacity = capacity
    }

    public var count: Int { entries.count - start }
    public var isEmpty: Bool { start == entries.count }
    public var oldestSeq: Int64? { isEmpty ? nil : entries[start].seq }
    public var newestSeq: Int64? { entries.last.map(\.seq) }

    /// Keeps `e`, the map's newest event; the oldest leaves when the ring is full.
    public mutating func append(_ e: EventFrame) {
        guard capacity > 0 else { return }
        assert(isEmpty || e.seq == entries[entries.count - 1].seq + 1, "ring seqs must be consecutive")
        if count >= capacity { start += 1 }
        if start > capacity {
            entries.removeFirst(start)
            start = 0
        }
        entries.append(e)
    }

    /// The frames of every event with `after < seq <= newest` (`newest`: the map's `seq`),
    /// oldest first; nil when the ring no longer has all of them, or `after` is not below
    /// `newest`. Empty when `after == newest`.
    public func frames(after: Int64, through newest: Int64) -> [Frame]? {
        if after == newest { return [] }
        guard after < newest, let oldest = oldestSeq, oldest <= after + 1, newestSeq == newest else { return nil }
        return entries[(start + Int(after + 1 - oldest))...].map(\.frame)
    }

    public mutating func removeAll() {
        entries.removeAll()
        start = 0
    }
}
