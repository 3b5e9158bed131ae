import Testing
@testable import SeatcastCore

@Suite("Outbox: stalls and counted resyncs")
struct OutboxStallTests {
    /// Stalled = waiting for WRITEABLE for more than `stalledSeconds`; `writable()` ends it.
    @Test func stallDetection() {
        let h = OutboxHarness(stalled: 1)
        #expect(!h.ob.isWaiting)
        #expect(!h.ob.isStalled(now: 1000, h.policy))
        #expect(h.blocked(now: 10))
        #expect(h.ob.isWaiting)
        #expect(h.ob.waitingSince == 10)
        // Already waiting: no second request, and the stall keeps its start.
        #expect(!h.blocked(now: 10.5))
        #expect(h.ob.waitingSince == 10)
        #expect(!h.ob.isStalled(now: 10.5, h.policy))
        #expect(!h.ob.isStalled(now: 11, h.policy))
        #expect(h.ob.isStalled(now: 11.001, h.policy))
        h.ob.writable()
        #expect(!h.ob.isWaiting)
        #expect(h.ob.waitingSince == nil)
        #expect(!h.ob.isStalled(now: 100, h.policy))
        // A new wait starts a new stall.
        #expect(h.blocked(now: 100))
        #expect(!h.ob.isStalled(now: 100.5, h.policy))
        #expect(h.ob.isStalled(now: 102, h.policy))
    }

    /// With `stalledSeconds` 0, any wait at all is a stall once time has moved on.
    @Test func zeroStalledSeconds() {
        let h = OutboxHarness(stalled: 0)
        _ = h.blocked(now: 5)
        #expect(!h.ob.isStalled(now: 5, h.policy))
        #expect(h.ob.isStalled(now: 5.000001, h.policy))
    }

    /// Overflows of a client that is not stalled never count, however many.
    @Test func unstalledOverflowsNeverClose() {
        let h = OutboxHarness(maxResyncs: 0)
        for i in 0..<20 {
            let now = Double(i)
            // Sometimes waiting, but never for longer than `stalledSeconds`.
            if i % 2 == 0 { _ = h.blocked(now: now - 0.5) }
            #expect(h.overflow(at: now) == .overflowed, "overflow \(i)")
            h.ob.writable()
            _ = h.drain()
        }
        #expect(h.ob.closeCode == 0)
    }

    /// More than `maxResyncs` stalled overflows within the window close the client with 1013.
    @Test func stalledOverflowsCloseWith1013() {
        let h = OutboxHarness(stalled: 1, maxResyncs: 2, window: 10)
        _ = h.blocked(now: 0)
        #expect(h.overflow(at: 2) == .overflowed)
        h.ob.writable()
        _ = h.drain()
        _ = h.blocked(now: 2)
        #expect(h.overflow(at: 4) == .overflowed)
        h.ob.writable()
        _ = h.drain()
        _ = h.blocked(now: 4)
        _ = h.push(frame("r1"), at: 4)
        #expect(h.overflow(at: 6) == .close(1013, overflowed: true))
        #expect(h.ob.closeCode == 1013)
        // A policy close: the queue (the reply included) and the resyncs are gone.
        #expect(h.ob.isEmpty)
        #expect(h.ob.queuedBytes == 0)
        #expect(h.ob.resyncTrips.isEmpty)
        #expect(h.ob.hasWork)
        #expect(h.next() == .close(1013))
        #expect(h.next() == .close(1013))
        #expect(h.push(frame("r2"), at: 6) == .dropped)
        #expect(h.push(event("a", "A"), at: 6) == .dropped)
    }

    /// With `maxResyncs` 0 the first stalled overflow closes.
    @Test func zeroResyncAllowance() {
        let h = OutboxHarness(stalled: 0, maxResyncs: 0)
        _ = h.blocked(now: 0)
        #expect(h.overflow(at: 1) == .close(1013, overflowed: true))
    }

    /// The count starts over once `resyncWindowSeconds` have passed since the window began.
    @Test func windowResetsAfterResyncWindowSeconds() {
        let h = OutboxHarness(stalled: 1, maxResyncs: 2, window: 10)
        #expect(h.stalledOverflow(at: 2) == .overflowed)   // window starts at 2, count 1
        #expect(h.stalledOverflow(at: 4) == .overflowed)   // count 2
        #expect(h.stalledOverflow(at: 12.5) == .overflowed) // 10.5 s later: new window at 12.5, count 1
        #expect(h.stalledOverflow(at: 14) == .overflowed)  // count 2
        #expect(h.stalledOverflow(at: 15) == .close(1013, overflowed: true)) // count 3 > 2
    }

    /// Exactly `resyncWindowSeconds` after the window began is still inside it.
    @Test func windowBoundaryIsInclusive() {
        let h = OutboxHarness(stalled: 1, maxResyncs: 2, window: 10)
        #expect(h.stalledOverflow(at: 2) == .overflowed)
        #expect(h.stalledOverflow(at: 3) == .overflowed)
        #expect(h.stalledOverflow(at: 12) == .close(1013, overflowed: true))
    }

    /// Unstalled overflows in between neither count nor restart the window.
    @Test func unstalledOverflowsDoNotCountInsideWindow() {
        let h = OutboxHarness(stalled: 1, maxResyncs: 1, window: 10)
        _ = h.blocked(now: 0)
        #expect(h.overflow(at: 2) == .overflowed) // counted: 1
        for t in 3...8 {
            h.ob.writable()
            _ = h.drain()
            #expect(h.overflow(at: Double(t)) == .overflowed) // not stalled: not counted
        }
        h.ob.writable()
        _ = h.drain()
        _ = h.blocked(now: 7)
        #expect(h.overflow(at: 9) == .close(1013, overflowed: true)) // counted: 2 > 1
    }

    /// A client that stays stalled while its resync snapshot waits is counted once for it,
    /// however many frames of that trip are dropped meanwhile.
    @Test func stalledClientAwaitingResyncCountedOnce() {
        let h = OutboxHarness(stalled: 1, maxResyncs: 1, window: 100, subscriptions: ["A"])
        // Overflow while not stalled: not counted yet.
        _ = h.push(event("a1", "A", wire: 900), at: 0)
        #expect(h.push(event("a2", "A", wire: 200), at: 0) == .overflowed)
        // The socket then stalls and frames of A keep coming: the first one dropped while
        // stalled counts (1, within the allowance), the others do not.
        _ = h.blocked(now: 1)
        #expect(h.push(event("a3", "A"), at: 1.5) == .dropped) // not stalled yet
        for i in 0..<50 { #expect(h.push(event("a\(i + 4)", "A"), at: 3 + Double(i)) == .dropped) }
        #expect(h.ob.closeCode == 0)
        // The count did reach 1: the next stalled overflow (2 > 1) closes.
        h.ob.writable()
        #expect(h.drain() == [.snapshot("A"), .write(["snap-A"]), .idle])
        _ = h.blocked(now: 60)
        #expect(h.overflow(at: 62) == .close(1013, overflowed: true))
    }

    /// A stalled overflow that was counted is not counted again by the drops that follow it.
    @Test func countedOverflowNotCountedAgainByDrops() {
        let h = OutboxHarness(stalled: 1, maxResyncs: 1, window: 100, subscriptions: ["A"])
        _ = h.blocked(now: 0)
        _ = h.push(event("a1", "A", wire: 900), at: 5)
        #expect(h.push(event("a2", "A", wire: 200), at: 5) == .overflowed) // counted: 1
        for i in 0..<50 { #expect(h.push(event("a\(i + 3)", "A"), at: 6 + Double(i)) == .dropped) }
        #expect(h.ob.closeCode == 0)
        #expect(h.ob.resyncTrips == ["A"])
    }

    /// A drop while stalled and awaiting a resync can itself be the resync too many: 1013.
    @Test func dropWhileStalledCanClose() {
        let h = OutboxHarness(stalled: 1, maxResyncs: 1, window: 100, subscriptions: ["A"])
        _ = h.blocked(now: 0)
        #expect(h.overflow(at: 2) == .overflowed) // stalled: counted 1
        h.ob.writable()
        _ = h.drain()
        // Second overflow, not stalled: resyncs A without counting.
        _ = h.push(event("a1", "A", wire: 900), at: 3)
        #expect(h.push(event("a2", "A", wire: 200), at: 3) == .overflowed)
        _ = h.blocked(now: 3)
        #expect(h.push(frame("r"), at: 3) == .queued)
        #expect(h.push(event("a3", "A"), at: 5) == .close(1013, overflowed: false)) // counted 2 > 1
        #expect(h.ob.closeCode == 1013)
        #expect(h.ob.isEmpty)
        #expect(h.next() == .close(1013))
    }
}
