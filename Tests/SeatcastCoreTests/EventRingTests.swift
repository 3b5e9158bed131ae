import Testing
@testable import SeatcastCore

// Unit tests of `EventRing`, a trip's recent events for resumes.

@Suite("EventRing")
struct EventRingTests {
    private func ring(_ capacity: Int, _ seqs: ClosedRange<Int64>) -> EventRing {
        var r = EventRing(capacity: capacity)
        for s in seqs { r.append(EventFrame(seq: s, frame: tripEventFrame(tripEvent(s)))) }
        return r
    }

    private func seqs(_ frames: [Frame]?) -> [Int64]? {
        frames?.map { frameJSON($0)["seq"]?.int64Value ?? -1 }
    }

    /// The ring keeps the newest `capacity` events, oldest first, however many pass through it.
    @Test func keepsNewest() {
        let r = ring(3, 1...1000)
        #expect(r.count == 3)
        #expect(r.oldestSeq == 998)
        #expect(r.newestSeq == 1000)
        #expect(seqs(r.frames(after: 997, through: 1000)) == [998, 999, 1000])
    }

    /// Frames after a seq: all of them when kept, [] at the newest, nil when older than the ring, ahead of it, or when the ring does not end at `through`.
    @Test func framesAfter() {
        let r = ring(4, 11...16)
        #expect(seqs(r.frames(after: 12, through: 16)) == [13, 14, 15, 16])
        #expect(seqs(r.frames(after: 15, through: 16)) == [16])
        #expect(seqs(r.frames(after: 16, through: 16)) == [])
        #expect(r.frames(after: 11, through: 16) == nil)
        #expect(r.frames(after: 17, through: 16) == nil)
        #expect(r.frames(after: 12, through: 17) == nil)
        let empty = EventRing(capacity: 4)
        #expect(seqs(empty.frames(after: 5, through: 5)) == [])
        #expect(empty.frames(after: 4, through: 5) == nil)
    }

    /// `removeAll` empties it; a ring of capacity 0 keeps nothing.
    @Test func removeAllAndZeroCapacity() {
        var r = ring(4, 1...3)
        r.removeAll()
        #expect(r.isEmpty && r.oldestSeq == nil && r.newestSeq == nil)
        let zero = ring(0, 1...3)
        #expect(zero.isEmpty)
    }
}
