import Testing
@testable import SeatcastCore

@Suite("Outbox: order and the cap")
struct OutboxQueueTests {
    // MARK: Order and batching

    /// Frames leave in push order; one write carries as many whole frames as fit in `maxBytes`.
    @Test func pushNextWroteOrderAndBatching() {
        let h = OutboxHarness(cap: 10_000)
        for i in 1...5 { #expect(h.push(frame("m\(i)")) == .queued) }
        #expect(h.ob.queuedBytes == 500)
        #expect(h.ob.pendingFrames == 5)
        #expect(h.ob.hasWork)
        #expect(!h.ob.isEmpty)
        // `next` does not consume: asking twice gives the same frames.
        #expect(h.next(250) == .write(["m1", "m2"]))
        #expect(h.next(250) == .write(["m1", "m2"]))
        // Exactly at the limit still fits; one byte less does not.
        #expect(h.next(200) == .write(["m1", "m2"]))
        #expect(h.next(199) == .write(["m1"]))
        #expect(h.writeOnce(250) == ["m1", "m2"])
        #expect(h.ob.queuedBytes == 300)
        #expect(h.ob.pendingFrames == 3)
        #expect(h.writeOnce(250) == ["m3", "m4"])
        #expect(h.writeOnce(250) == ["m5"])
        #expect(h.next(250) == .idle)
        #expect(h.ob.queuedBytes == 0)
        #expect(h.ob.isEmpty)
        #expect(!h.ob.hasWork)
    }

    /// `peekWrite` is `next`'s `.write` without taking a step: the same frames when the
    /// next step is a write, nil for idle, a pending resync snapshot or a close; it leaves a
    /// resync request in place (where `next` takes it).
    @Test func peekWriteMatchesNextWithoutTakingAStep() {
        let h = OutboxHarness(cap: 10_000)
        #expect(h.ob.peekWrite(maxBytes: 250) == nil)
        for i in 1...3 { _ = h.push(frame("m\(i)")) }
        #expect(h.ob.peekWrite(maxBytes: 250).map { $0.map(label) } == ["m1", "m2"])
        #expect(h.ob.peekWrite(maxBytes: 1).map { $0.map(label) } == ["m1"])
        #expect(h.next(250) == .write(["m1", "m2"]))
        h.ob.wrote(3)
        #expect(h.resync(tripId: "T1"))
        #expect(h.ob.peekWrite(maxBytes: 250) == nil)
        #expect(h.next() == .snapshot("T1"))
        #expect(h.next() == .idle)
        _ = h.push(frame("m4"))
        h.close(1013)
        #expect(h.ob.peekWrite(maxBytes: 250) == nil)
        #expect(h.next() == .close(1013))
    }

    /// `wrote(n)` may report fewer frames than the step offered; the rest comes next.
    @Test func wroteFewerThanOffered() {
        let h = OutboxHarness(cap: 10_000)
        for i in 1...4 { _ = h.push(frame("m\(i)")) }
        #expect(h.next() == .write(["m1", "m2", "m3", "m4"]))
        h.ob.wrote(1)
        #expect(h.ob.queuedBytes == 300)
        #expect(h.next() == .write(["m2", "m3", "m4"]))
        h.ob.wrote(0)
        #expect(h.next() == .write(["m2", "m3", "m4"]))
        h.ob.wrote(3)
        #expect(h.next() == .idle)
    }

    /// A step always carries at least one frame, however small `maxBytes` is.
    @Test func alwaysAtLeastOneFrame() {
        let h = OutboxHarness(cap: 10_000)
        _ = h.push(frame("big", wire: 3000))
        _ = h.push(frame("small"))
        #expect(h.next(1) == .write(["big"]))
        #expect(h.next(0) == .write(["big"]))
        h.ob.wrote(1)
        #expect(h.next(1) == .write(["small"]))
    }

    /// Frames pushed while others are being written join the end of the queue.
    @Test func pushesDuringWritesKeepOrder() {
        let h = OutboxHarness(cap: 10_000)
        _ = h.push(frame("a"))
        _ = h.push(frame("b"))
        #expect(h.next() == .write(["a", "b"]))
        _ = h.push(frame("c"))
        h.ob.wrote(2)
        _ = h.push(event("d", "A"))
        #expect(h.drainWritten() == ["c", "d"])
    }

    // MARK: The cap

    /// An empty queue takes one frame larger than the cap (a big snapshot reaches a client that keeps up).
    @Test func emptyQueueTakesOneFrameLargerThanCap() {
        let h = OutboxHarness(cap: 1000)
        #expect(h.push(event("snap", "A", wire: 5000)) == .queued)
        #expect(h.ob.queuedBytes == 5000)
        #expect(h.ob.resyncTrips.isEmpty)
        #expect(h.subscriptionQueries == 0)
        #expect(h.writeOnce() == ["snap"])
        // Once written, the next large one fits again.
        #expect(h.push(event("snap2", "A", wire: 5000)) == .queued)
        #expect(h.writeOnce() == ["snap2"])
    }

    /// But a second stream frame behind a queued over-cap frame overflows.
    @Test func streamFrameBehindOverCapFrameOverflows() {
        let h = OutboxHarness(cap: 1000)
        #expect(h.push(event("snap", "A", wire: 5000)) == .queued)
        #expect(h.push(event("e1", "A")) == .overflowed)
        #expect(h.ob.isEmpty)
        #expect(h.ob.resyncTrips == ["A", "B"])
    }

    /// Stream frames up to exactly the cap are queued; one byte more overflows.
    @Test func capBoundary() {
        let h = OutboxHarness(cap: 1000)
        for i in 1...10 { #expect(h.push(event("e\(i)", "A")) == .queued) }
        #expect(h.ob.queuedBytes == 1000)
        #expect(h.subscriptionQueries == 0)
        #expect(h.push(event("e11", "A", wire: 10)) == .overflowed)
        #expect(h.subscriptionQueries == 1)
    }

    /// An overflow drops only stream frames, keeps every reply in order, drops the frame
    /// that overflowed, and schedules one snapshot per subscribed trip after the replies.
    @Test func overflowDropsStreamFramesKeepsReplies() {
        let h = OutboxHarness(cap: 1000, subscriptions: ["A", "B", "C"])
        #expect(h.push(frame("r1")) == .queued)
        #expect(h.push(event("a1", "A", wire: 300)) == .queued)
        #expect(h.push(event("b1", "B", wire: 300)) == .queued)
        #expect(h.push(frame("r2")) == .queued)
        #expect(h.push(event("c1", "C")) == .queued)
        #expect(h.ob.queuedBytes == 900)
        #expect(h.push(event("a2", "A", wire: 200)) == .overflowed)
        #expect(h.ob.pendingFrames == 2)
        #expect(h.ob.queuedBytes == 200)
        #expect(h.ob.resyncTrips == ["A", "B", "C"])
        #expect(h.ob.hasWork)
        #expect(h.drain() == [
            .write(["r1", "r2"]),
            .snapshot("A"), .write(["snap-A"]),
            .snapshot("B"), .write(["snap-B"]),
            .snapshot("C"), .write(["snap-C"]),
            .idle,
        ])
        #expect(h.ob.resyncTrips.isEmpty)
        #expect(!h.ob.hasWork)
    }

    /// The snapshots come only once the queue has drained: replies pushed after the overflow go first.
    @Test func snapshotsWaitForTheQueueToDrain() {
        let h = OutboxHarness(cap: 1000, subscriptions: ["A"])
        _ = h.push(event("a1", "A", wire: 900))
        #expect(h.push(event("a2", "A", wire: 200)) == .overflowed)
        #expect(h.push(frame("r1")) == .queued)
        #expect(h.next() == .write(["r1"]))
        #expect(h.push(frame("r2")) == .queued)
        h.ob.wrote(1)
        #expect(h.drain() == [.write(["r2"]), .snapshot("A"), .write(["snap-A"]), .idle])
    }

    /// A queue of replies alone past the cap overflows on the next stream frame too: no
    /// stream frame to drop, but the trips are resynced and the replies all stay.
    @Test func overflowWithOnlyRepliesQueued() {
        let h = OutboxHarness(cap: 1000, subscriptions: ["A"])
        for i in 1...12 { #expect(h.push(frame("r\(i)")) == .queued) }
        #expect(h.ob.queuedBytes == 1200)
        #expect(h.push(event("a1", "A")) == .overflowed)
        #expect(h.ob.pendingFrames == 12)
        #expect(h.ob.resyncTrips == ["A"])
        #expect(h.drainWritten() == (1...12).map { "r\($0)" } + ["snap-A"])
    }

    /// The subscriptions are asked for only when an overflow needs them (they cost an array per push).
    @Test func subscriptionsEvaluatedOnlyOnOverflow() {
        let h = OutboxHarness(cap: 1000)
        for i in 1...9 { _ = h.push(event("e\(i)", "A")) }
        _ = h.push(frame("r"))
        _ = h.drain()
        #expect(h.subscriptionQueries == 0)
        _ = h.overflow(at: 0)
        #expect(h.subscriptionQueries == 1)
    }

    /// A trip awaiting its resync snapshot drops its stream frames; other trips' frames and
    /// replies are queued; after the snapshot step, the trip's frames queue again, behind it.
    @Test func framesOfTripAwaitingResyncAreDropped() {
        let h = OutboxHarness(cap: 1000, subscriptions: ["A"])
        _ = h.push(event("a1", "A", wire: 900))
        #expect(h.push(event("a2", "A", wire: 200)) == .overflowed)
        #expect(h.push(event("a3", "A")) == .dropped)
        #expect(h.push(event("a4", "A", wire: 5000)) == .dropped)
        #expect(h.push(event("x1", "X")) == .queued)
        #expect(h.push(frame("r1")) == .queued)
        #expect(h.ob.queuedBytes == 200)
        #expect(h.writeOnce() == ["x1", "r1"])
        #expect(h.next() == .snapshot("A"))
        // Taken out of the resync list by the step: a frame pushed before the snapshot
        // itself is queued (the snapshot the server pushes next covers it).
        #expect(h.ob.resyncTrips.isEmpty)
        h.ob.pushSnapshot(event("snap-A", "A"))
        #expect(h.push(event("a5", "A")) == .queued)
        #expect(h.drainWritten() == ["snap-A", "a5"])
    }
}
