import Testing
@testable import SeatcastCore

// Unit tests of `Outbox`, the send side of one connection as a pure state machine: every
// rule of its doc comment, without sockets. Time is a plain number the tests choose.

/// A frame labelled `label` (the payload starts with it) of exactly `wire` bytes on the wire.
private func frame(_ label: String, wire: Int = 100, stream: Bool = false, trip: String? = nil) -> Frame {
    let payload = wire - 2 < 126 ? wire - 2 : wire - 4
    precondition(payload >= label.utf8.count && Frame.headerLength(payload) + payload == wire, "no frame of \(wire) wire bytes")
    let bytes = Array(label.utf8) + [UInt8](repeating: UInt8(ascii: "."), count: payload - label.utf8.count)
    return Frame(bytes, stream: stream, tripId: trip)
}

private func event(_ label: String, _ trip: String, wire: Int = 100) -> Frame {
    frame(label, wire: wire, stream: true, trip: trip)
}

private func label(_ f: Frame) -> String {
    String(f.text.prefix { $0 != "." })
}

/// `Outbox.Step` made comparable: written frames by label.
private enum Step: Equatable, CustomStringConvertible {
    case idle
    case write([String])
    case snapshot(String)
    case close(UInt16)

    init(_ s: Outbox.Step) {
        switch s {
        case .idle: self = .idle
        case let .write(frames): self = .write(frames.map(label))
        case let .snapshot(trip): self = .snapshot(trip)
        case let .close(code): self = .close(code)
        }
    }

    var description: String {
        switch self {
        case .idle: "idle"
        case let .write(l): "write\(l)"
        case let .snapshot(t): "snapshot(\(t))"
        case let .close(c): "close(\(c))"
        }
    }
}

/// Holds an outbox so `#expect` can look at results of mutating calls, and plays the
/// server's part where a test needs it (writing, answering `.snapshot` steps).
private final class Harness {
    var ob = Outbox()
    var policy: Outbox.Policy
    /// The connection's subscriptions, as `push` asks for them on overflow.
    var subscriptions: [String]
    /// How often `push` asked for the subscriptions (only an overflow should).
    var subscriptionQueries = 0

    init(cap: Int = 1000, stalled: Double = 1, maxResyncs: Int = 2, window: Double = 10, subscriptions: [String] = ["A", "B"]) {
        policy = Outbox.Policy(maxQueuedBytes: cap, stalledSeconds: stalled, maxResyncs: maxResyncs, resyncWindowSeconds: window)
        self.subscriptions = subscriptions
    }

    private func subs() -> [String] {
        subscriptionQueries += 1
        return subscriptions
    }

    func push(_ f: Frame, at now: Double = 0) -> Outbox.PushResult {
        ob.push(f, now: now, policy, subscriptions: self.subs())
    }

    func next(_ maxBytes: Int = .max) -> Step { Step(ob.next(maxBytes: maxBytes)) }

    @discardableResult func blocked(now: Double) -> Bool { ob.blocked(now: now) }
    @discardableResult func resync(tripId: String) -> Bool { ob.resync(tripId: tripId) }
    @discardableResult func close(_ code: UInt16, drain: Bool = false) -> Bool { ob.close(code, drain: drain) }

    /// One write: `next`, then `wrote` for all of it. The labels written ([] if not a write).
    @discardableResult
    func writeOnce(_ maxBytes: Int = .max) -> [String] {
        guard case let .write(frames) = ob.next(maxBytes: maxBytes) else { return [] }
        let labels = frames.map(label)
        ob.wrote(frames.count)
        return labels
    }

    /// Runs the queue as a server that can always write: writes everything, answers each
    /// `.snapshot` step with a snapshot frame labelled `snap-<trip>`, until `.idle` or
    /// `.close`. Returns every step taken, the last one included.
    func drain(maxBytes: Int = .max, snapshotWire: Int = 100) -> [Step] {
        var steps: [Step] = []
        for _ in 0..<10_000 {
            let s = ob.next(maxBytes: maxBytes)
            steps.append(Step(s))
            switch s {
            case .idle, .close:
                return steps
            case let .write(frames):
                ob.wrote(frames.count)
            case let .snapshot(trip):
                ob.pushSnapshot(event("snap-\(trip)", trip, wire: snapshotWire))
            }
        }
        Issue.record("drain did not end: \(steps.suffix(5))")
        return steps
    }

    /// Every label `drain` wrote, in order.
    func drainWritten(maxBytes: Int = .max) -> [String] {
        drain(maxBytes: maxBytes).flatMap { if case let .write(l) = $0 { l } else { [String]() } }
    }

    /// Makes one overflow happen at `now`: fills the queue with a stream frame of trip
    /// "F" (not a subscription, so never awaiting a resync) and pushes one more. The queue
    /// must hold no stream frames of "F"'s size beforehand; returns the second push's result.
    func overflow(at now: Double) -> Outbox.PushResult {
        let first = push(event("fill", "F", wire: policy.maxQueuedBytes - 100), at: now)
        #expect(first == .queued || first == .dropped, "filling: \(first)")
        return push(event("over", "F", wire: 200), at: now)
    }

    /// An overflow at `now` by a client stalled for 2 s: the queue drained, writing
    /// blocked since `now - 2`, then `overflow(at:)`.
    func stalledOverflow(at now: Double) -> Outbox.PushResult {
        ob.writable()
        _ = drain()
        _ = blocked(now: now - 2)
        return overflow(at: now)
    }
}

@Suite("Outbox")
struct OutboxTests {
    // MARK: Order and batching

    /// Frames leave in push order; one write carries as many whole frames as fit in `maxBytes`.
    @Test func pushNextWroteOrderAndBatching() {
        let h = Harness(cap: 10_000)
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

    /// `wrote(n)` may report fewer frames than the step offered; the rest comes next.
    @Test func wroteFewerThanOffered() {
        let h = Harness(cap: 10_000)
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
        let h = Harness(cap: 10_000)
        _ = h.push(frame("big", wire: 3000))
        _ = h.push(frame("small"))
        #expect(h.next(1) == .write(["big"]))
        #expect(h.next(0) == .write(["big"]))
        h.ob.wrote(1)
        #expect(h.next(1) == .write(["small"]))
    }

    /// Frames pushed while others are being written join the end of the queue.
    @Test func pushesDuringWritesKeepOrder() {
        let h = Harness(cap: 10_000)
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
        let h = Harness(cap: 1000)
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
        let h = Harness(cap: 1000)
        #expect(h.push(event("snap", "A", wire: 5000)) == .queued)
        #expect(h.push(event("e1", "A")) == .overflowed)
        #expect(h.ob.isEmpty)
        #expect(h.ob.resyncTrips == ["A", "B"])
    }

    /// Stream frames up to exactly the cap are queued; one byte more overflows.
    @Test func capBoundary() {
        let h = Harness(cap: 1000)
        for i in 1...10 { #expect(h.push(event("e\(i)", "A")) == .queued) }
        #expect(h.ob.queuedBytes == 1000)
        #expect(h.subscriptionQueries == 0)
        #expect(h.push(event("e11", "A", wire: 10)) == .overflowed)
        #expect(h.subscriptionQueries == 1)
    }

    /// An overflow drops only stream frames, keeps every reply in order, drops the frame
    /// that overflowed, and schedules one snapshot per subscribed trip after the replies.
    @Test func overflowDropsStreamFramesKeepsReplies() {
        let h = Harness(cap: 1000, subscriptions: ["A", "B", "C"])
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
        let h = Harness(cap: 1000, subscriptions: ["A"])
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
        let h = Harness(cap: 1000, subscriptions: ["A"])
        for i in 1...12 { #expect(h.push(frame("r\(i)")) == .queued) }
        #expect(h.ob.queuedBytes == 1200)
        #expect(h.push(event("a1", "A")) == .overflowed)
        #expect(h.ob.pendingFrames == 12)
        #expect(h.ob.resyncTrips == ["A"])
        #expect(h.drainWritten() == (1...12).map { "r\($0)" } + ["snap-A"])
    }

    /// The subscriptions are asked for only when an overflow needs them (they cost an array per push).
    @Test func subscriptionsEvaluatedOnlyOnOverflow() {
        let h = Harness(cap: 1000)
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
        let h = Harness(cap: 1000, subscriptions: ["A"])
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

    // MARK: Stalls and counted resyncs

    /// Stalled = waiting for WRITEABLE for more than `stalledSeconds`; `writable()` ends it.
    @Test func stallDetection() {
        let h = Harness(stalled: 1)
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
        let h = Harness(stalled: 0)
        _ = h.blocked(now: 5)
        #expect(!h.ob.isStalled(now: 5, h.policy))
        #expect(h.ob.isStalled(now: 5.000001, h.policy))
    }

    /// Overflows of a client that is not stalled never count, however many.
    @Test func unstalledOverflowsNeverClose() {
        let h = Harness(maxResyncs: 0)
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
        let h = Harness(stalled: 1, maxResyncs: 2, window: 10)
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
        let h = Harness(stalled: 0, maxResyncs: 0)
        _ = h.blocked(now: 0)
        #expect(h.overflow(at: 1) == .close(1013, overflowed: true))
    }

    /// The count starts over once `resyncWindowSeconds` have passed since the window began.
    @Test func windowResetsAfterResyncWindowSeconds() {
        let h = Harness(stalled: 1, maxResyncs: 2, window: 10)
        #expect(h.stalledOverflow(at: 2) == .overflowed)   // window starts at 2, count 1
        #expect(h.stalledOverflow(at: 4) == .overflowed)   // count 2
        #expect(h.stalledOverflow(at: 12.5) == .overflowed) // 10.5 s later: new window at 12.5, count 1
        #expect(h.stalledOverflow(at: 14) == .overflowed)  // count 2
        #expect(h.stalledOverflow(at: 15) == .close(1013, overflowed: true)) // count 3 > 2
    }

    /// Exactly `resyncWindowSeconds` after the window began is still inside it.
    @Test func windowBoundaryIsInclusive() {
        let h = Harness(stalled: 1, maxResyncs: 2, window: 10)
        #expect(h.stalledOverflow(at: 2) == .overflowed)
        #expect(h.stalledOverflow(at: 3) == .overflowed)
        #expect(h.stalledOverflow(at: 12) == .close(1013, overflowed: true))
    }

    /// Unstalled overflows in between neither count nor restart the window.
    @Test func unstalledOverflowsDoNotCountInsideWindow() {
        let h = Harness(stalled: 1, maxResyncs: 1, window: 10)
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
        let h = Harness(stalled: 1, maxResyncs: 1, window: 100, subscriptions: ["A"])
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
        let h = Harness(stalled: 1, maxResyncs: 1, window: 100, subscriptions: ["A"])
        _ = h.blocked(now: 0)
        _ = h.push(event("a1", "A", wire: 900), at: 5)
        #expect(h.push(event("a2", "A", wire: 200), at: 5) == .overflowed) // counted: 1
        for i in 0..<50 { #expect(h.push(event("a\(i + 3)", "A"), at: 6 + Double(i)) == .dropped) }
        #expect(h.ob.closeCode == 0)
        #expect(h.ob.resyncTrips == ["A"])
    }

    /// A drop while stalled and awaiting a resync can itself be the resync too many: 1013.
    @Test func dropWhileStalledCanClose() {
        let h = Harness(stalled: 1, maxResyncs: 1, window: 100, subscriptions: ["A"])
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

    // MARK: Replies

    /// Replies are never dropped for the cap; past twice the cap the client is closed with 1008.
    @Test func repliesPastTwiceTheCapClose1008() {
        let h = Harness(cap: 1000)
        for i in 1...20 { #expect(h.push(frame("r\(i)"), at: 0) == .queued) }
        #expect(h.ob.queuedBytes == 2000)
        #expect(h.ob.resyncTrips.isEmpty)
        #expect(h.push(frame("r21", wire: 10), at: 0) == .close(1008, overflowed: false))
        #expect(h.ob.closeCode == 1008)
        #expect(h.ob.isEmpty)
        #expect(h.next() == .close(1008))
        #expect(h.push(frame("r22"), at: 0) == .dropped)
    }

    /// Stream and reply bytes together count towards the 2x limit for replies.
    @Test func streamBytesCountTowardsReplyLimit() {
        let h = Harness(cap: 1000)
        #expect(h.push(event("a1", "A", wire: 1000)) == .queued)
        for i in 1...10 { #expect(h.push(frame("r\(i)")) == .queued) }
        #expect(h.push(frame("r11")) == .close(1008, overflowed: false))
    }

    /// One reply larger than twice the cap closes even an empty queue (no reply is that big in practice).
    @Test func singleHugeReplyCloses() {
        let h = Harness(cap: 1000)
        #expect(h.push(frame("huge", wire: 2001)) == .close(1008, overflowed: false))
    }

    // MARK: Closing

    /// A policy close drops what is queued and any resync; `next` then only closes.
    @Test func policyCloseDropsQueue() {
        let h = Harness(cap: 1000)
        _ = h.push(frame("r1"))
        _ = h.push(event("a1", "A"))
        #expect(h.resync(tripId: "B"))
        #expect(h.close(1008))
        #expect(h.ob.closeCode == 1008)
        #expect(h.ob.isEmpty)
        #expect(h.ob.queuedBytes == 0)
        #expect(h.ob.resyncTrips.isEmpty)
        #expect(h.ob.hasWork)
        #expect(h.next() == .close(1008))
        // Already closing: a second close (even a draining one) changes nothing.
        #expect(!h.close(1001, drain: true))
        #expect(h.ob.closeCode == 1008)
        #expect(h.push(frame("r2")) == .dropped)
        #expect(h.push(event("a2", "A")) == .dropped)
        #expect(!h.resync(tripId: "A"))
        h.ob.pushSnapshot(event("snap-A", "A"))
        #expect(h.ob.isEmpty)
        #expect(h.next() == .close(1008))
    }

    /// A draining close (1001) writes every queued frame first, stream frames included, then closes.
    @Test func drainingCloseWritesQueueFirst() {
        let h = Harness(cap: 10_000)
        _ = h.push(frame("r1"))
        _ = h.push(event("a1", "A"))
        _ = h.push(frame("r2"))
        #expect(h.close(1001, drain: true))
        #expect(h.ob.closeCode == 1001)
        #expect(h.ob.pendingFrames == 3)
        #expect(h.next(200) == .write(["r1", "a1"]))
        // New replies are still taken (an answer to a request the server took); new stream frames are not.
        #expect(h.push(frame("r3")) == .queued)
        #expect(h.push(event("a2", "A")) == .dropped)
        #expect(h.push(event("s", "A", wire: 300)) == .dropped)
        h.ob.wrote(2)
        #expect(h.drain(maxBytes: 100) == [.write(["r2"]), .write(["r3"]), .close(1001)])
        #expect(h.next() == .close(1001))
        // A reply taken after the queue drained (the close frame is not sent yet) still goes before it.
        #expect(h.push(frame("r4")) == .queued)
        #expect(h.drain() == [.write(["r4"]), .close(1001)])
    }

    /// A draining close cancels pending resyncs: the close follows the queue, no snapshot.
    @Test func drainingCloseCancelsResyncs() {
        let h = Harness(cap: 1000, subscriptions: ["A"])
        _ = h.push(frame("r1"))
        _ = h.push(event("a1", "A", wire: 900))
        #expect(h.push(event("a2", "A", wire: 200)) == .overflowed)
        #expect(h.ob.resyncTrips == ["A"])
        #expect(h.close(1001, drain: true))
        #expect(h.ob.resyncTrips.isEmpty)
        #expect(!h.resync(tripId: "A"))
        #expect(h.drain() == [.write(["r1"]), .close(1001)])
        h.ob.pushSnapshot(event("snap-A", "A"))
        #expect(h.next() == .close(1001))
    }

    /// A draining close of an empty queue closes at once.
    @Test func drainingCloseOfEmptyQueue() {
        let h = Harness()
        #expect(h.close(1001, drain: true))
        #expect(h.ob.hasWork)
        #expect(h.next() == .close(1001))
    }

    /// A policy close during a drain is refused (the first close stands) and the drain goes on.
    @Test func policyCloseDuringDrainIsRefused() {
        let h = Harness()
        _ = h.push(frame("r1"))
        #expect(h.close(1001, drain: true))
        #expect(!h.close(1013))
        #expect(h.drain() == [.write(["r1"]), .close(1001)])
    }

    /// Replies piling up past twice the cap during a drain: the overflowing reply is not
    /// queued, the ones before it are still written, and the close stays 1001.
    @Test func replyFloodDuringDrain() {
        let h = Harness(cap: 1000)
        #expect(h.close(1001, drain: true))
        for i in 1...20 { #expect(h.push(frame("r\(i)")) == .queued) }
        let r = h.push(frame("r21"))
        #expect(r != .queued)
        #expect(h.ob.closeCode == 1001)
        #expect(h.drainWritten() == (1...20).map { "r\($0)" })
        #expect(h.next() == .close(1001))
    }

    /// `closed()`: the connection is gone, everything is dropped and nothing is taken.
    @Test func closedDropsEverything() {
        let h = Harness()
        _ = h.push(frame("r1"))
        _ = h.push(event("a1", "A"))
        #expect(h.resync(tripId: "B"))
        h.ob.closed()
        #expect(h.ob.isClosed)
        #expect(h.ob.isEmpty)
        #expect(h.ob.queuedBytes == 0)
        #expect(h.ob.resyncTrips.isEmpty)
        #expect(!h.ob.hasWork)
        #expect(h.next() == .idle)
        #expect(h.push(frame("r2")) == .dropped)
        #expect(h.push(event("a2", "A")) == .dropped)
        #expect(!h.resync(tripId: "A"))
        #expect(!h.close(1001, drain: true))
        h.ob.pushSnapshot(event("snap-A", "A"))
        #expect(h.ob.isEmpty)
        #expect(h.next() == .idle)
        #expect(h.subscriptionQueries == 0)
    }

    /// `closed()` after a close was started drops the drain too.
    @Test func closedDuringDrain() {
        let h = Harness()
        _ = h.push(frame("r1"))
        _ = h.close(1001, drain: true)
        h.ob.closed()
        #expect(h.ob.isEmpty)
        #expect(h.push(frame("r2")) == .dropped)
    }

    // MARK: Resync and snapshots

    /// `resync(tripId:)` schedules each trip once, in order; a trip can be scheduled again once its step was taken.
    @Test func resyncDedup() {
        let h = Harness()
        #expect(h.resync(tripId: "A"))
        #expect(!h.resync(tripId: "A"))
        #expect(h.resync(tripId: "B"))
        #expect(!h.resync(tripId: "B"))
        #expect(h.ob.resyncTrips == ["A", "B"])
        #expect(h.ob.hasWork)
        #expect(h.ob.isEmpty)
        #expect(h.next() == .snapshot("A"))
        #expect(h.ob.resyncTrips == ["B"])
        #expect(h.resync(tripId: "A"))
        #expect(h.ob.resyncTrips == ["B", "A"])
        #expect(h.drain() == [.snapshot("B"), .write(["snap-B"]), .snapshot("A"), .write(["snap-A"]), .idle])
    }

    /// A resync asked for while frames are queued comes after them; the trip's stream
    /// frames pushed meanwhile are dropped (its snapshot replaces them).
    @Test func resyncAfterQueuedFrames() {
        let h = Harness(cap: 10_000)
        _ = h.push(event("a1", "A"))
        _ = h.push(frame("r1"))
        #expect(h.resync(tripId: "A"))
        #expect(h.push(event("a2", "A")) == .dropped)
        #expect(h.push(event("b1", "B")) == .queued)
        #expect(h.drainWritten() == ["a1", "r1", "b1", "snap-A"])
    }

    /// A `.snapshot` step the server skips (no longer subscribed) just moves on.
    @Test func skippedSnapshotStep() {
        let h = Harness()
        _ = h.resync(tripId: "A")
        _ = h.resync(tripId: "B")
        #expect(h.next() == .snapshot("A"))
        #expect(h.next() == .snapshot("B"))
        #expect(h.next() == .idle)
        #expect(!h.ob.hasWork)
    }

    /// `pushSnapshot` takes the snapshot whatever its size and whatever is queued, without overflowing.
    @Test func pushSnapshotIgnoresTheCap() {
        let h = Harness(cap: 1000, subscriptions: ["A"])
        _ = h.push(frame("r1", wire: 900))
        _ = h.resync(tripId: "A")
        #expect(h.writeOnce() == ["r1"])
        #expect(h.next() == .snapshot("A"))
        _ = h.push(frame("r2", wire: 900))
        h.ob.pushSnapshot(event("snap-A", "A", wire: 50_000))
        #expect(h.ob.queuedBytes == 50_900)
        #expect(h.ob.resyncTrips.isEmpty)
        #expect(h.subscriptionQueries == 0)
        #expect(h.drainWritten() == ["r2", "snap-A"])
    }

    // MARK: Compaction

    /// 1,000 frames written in random chunks, with pushes in between: each comes out once,
    /// in order, and the byte count always matches what is left (exercises the compaction
    /// of written frames in `wrote`).
    @Test(arguments: [1, 2, 3, 42, 2024])
    func compactionKeepsOrder(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let h = Harness(cap: Int.max / 4)
        var pushed: [String] = []
        var sizes: [String: Int] = [:]
        func pushOne() {
            let l = "f\(pushed.count)"
            let wire = [10, 100, 127, 130, 600, 3000][Int(rng.next() % 6)]
            #expect(h.push(Bool.random(using: &rng) ? frame(l, wire: wire) : event(l, "A", wire: wire)) == .queued)
            pushed.append(l)
            sizes[l] = wire
        }
        for _ in 0..<500 { pushOne() }
        var written: [String] = []
        var guardSteps = 0
        while written.count < 1000 && guardSteps < 100_000 {
            guardSteps += 1
            if pushed.count < 1000, rng.next() % 3 == 0 {
                for _ in 0..<Int(rng.next() % 20) where pushed.count < 1000 { pushOne() }
            }
            let maxBytes = Int(rng.next() % 8000)
            guard case let .write(frames) = h.ob.next(maxBytes: maxBytes) else {
                #expect(pushed.count < 1000, "idle with \(pushed.count - written.count) unwritten")
                if pushed.count < 1000 { pushOne() }
                continue
            }
            #expect(frames.count >= 1)
            #expect(frames.count == 1 || frames.reduce(0) { $0 + $1.wireCount } <= maxBytes)
            let n = Int(rng.next() % UInt64(frames.count + 1))
            written += frames.prefix(n).map(label)
            h.ob.wrote(n)
            let left = pushed[written.count...].reduce(0) { $0 + sizes[$1]! }
            #expect(h.ob.queuedBytes == left)
            #expect(h.ob.pendingFrames == pushed.count - written.count)
        }
        #expect(written == pushed)
        #expect(written.count == 1000)
        #expect(Set(written).count == 1000)
        #expect(h.next() == .idle)
        #expect(h.ob.queuedBytes == 0)
    }

    /// A client that stays behind: the queue never empties while 10,000 frames pass through it.
    @Test func compactionWhileNeverEmpty() {
        let h = Harness(cap: Int.max / 4)
        var next = 0
        var written: [String] = []
        for _ in 0..<100 { _ = h.push(frame("f\(next)")); next += 1 }
        while next < 10_000 {
            for _ in 0..<3 { _ = h.push(frame("f\(next)")); next += 1 }
            written += h.writeOnce(300)
            #expect(!h.ob.isEmpty)
        }
        written += h.drainWritten()
        #expect(written == (0..<10_000).map { "f\($0)" })
    }
}

/// A small seeded generator, so a failing run can be repeated.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
