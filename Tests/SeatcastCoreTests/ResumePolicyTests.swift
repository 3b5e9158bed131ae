import Testing
@testable import SeatcastCore

// Unit tests of every resume rule of `SubscriptionMachine` (a `subscribe` with `since`):
// ring replays, outbox replays, buffering live events meanwhile and its cap, superseded
// resumes. Each scenario of SeatcastServerTests/ResumeTests, which runs the same rules
// end to end over sockets and PostgreSQL, is mirrored here and named where it is.

@Suite("SubscriptionMachine: resume")
struct ResumePolicyTests {
    let a = TestSubscriber("a"), b = TestSubscriber("b"), c = TestSubscriber("c")

    // MARK: Resume from the ring

    /// ResumeTests.resumeFromRing: a resume whose missed events are all in the ring gets `subscribed` at `since` and exactly those events, then live events.
    @Test func resumeFromRing() {
        let h = SubscriptionHarness(ring: 8)
        h.liveTrip(seq: 10, [b])
        h.recordAll(11...16)
        #expect(h.subscribe(a, since: ("ep1", 10), id: "res1") == [
            .subscribed(a, trip: "T", seq: 10, epoch: "ep1", id: "res1"),
            .replay(a, [11, 12, 13, 14, 15, 16]),
        ])
        #expect(h.record(17) == .deliver(["a", "b"], buffered: 0, resync: []))
    }

    /// ResumeTests.resumeAtCurrentSeq: `since.seq` equal to the trip's seq gets `subscribed` and no events, then live events.
    @Test func resumeAtCurrentSeq() {
        let h = SubscriptionHarness()
        h.liveTrip(seq: 10, [b])
        h.recordAll(11...12)
        #expect(h.subscribe(a, since: ("ep1", 12), id: "res4") == [.subscribed(a, trip: "T", seq: 12, epoch: "ep1", id: "res4")])
        #expect(h.record(13) == .deliver(["a", "b"], buffered: 0, resync: []))
        // Also right after a load (empty ring).
        let h2 = SubscriptionHarness()
        h2.liveTrip(seq: 10, [b])
        #expect(h2.subscribe(a, since: ("ep1", 10)) == [.subscribed(a, trip: "T", seq: 10, epoch: "ep1", id: nil)])
    }

    /// The ring's edge: it serves a resume whose first missed event is its oldest, not one a single event older.
    @Test func ringBoundary() {
        let h = SubscriptionHarness(ring: 4)
        h.liveTrip(seq: 10, [b])
        h.recordAll(11...16)  // the ring keeps 13...16
        #expect(h.hub?.ring.oldestSeq == 13)
        #expect(h.subscribe(a, since: ("ep1", 12)) == [
            .subscribed(a, trip: "T", seq: 12, epoch: "ep1", id: nil), .replay(a, [13, 14, 15, 16]),
        ])
        #expect(h.subscribe(c, since: ("ep1", 11)) == [.loadOutbox(c, trip: "T", epoch: "ep1", after: 11, through: 16)])
    }

    // MARK: Resume from the outbox

    /// ResumeTests.resumeFromOutboxOnInstanceServingTheTrip: a resume older than the ring reads the outbox up to the trip's seq, then gets `subscribed` and the read events.
    @Test func ringMissGoesToOutbox() {
        let h = SubscriptionHarness(ring: 2)
        h.liveTrip(seq: 10, [b])
        h.recordAll(11...16)
        #expect(h.subscribe(a, since: ("ep1", 10), id: "res2b") == [.loadOutbox(a, trip: "T", epoch: "ep1", after: 10, through: 16)])
        #expect(h.hub?.resuming.count == 1)
        #expect(h.outbox(a, seqs: [11, 12, 13, 14, 15, 16]) == [
            .subscribed(a, trip: "T", seq: 10, epoch: "ep1", id: "res2b"), .replay(a, [11, 12, 13, 14, 15, 16]),
        ])
        #expect(h.hub?.resuming.isEmpty == true)
        #expect(h.record(17) == .deliver(["a", "b"], buffered: 0, resync: []))
    }

    /// ResumeTests.resumeFromOutboxOnAnotherInstance and resumeAfterRestart: on an instance that has not loaded the trip, the resume waits for the load, then reads the outbox up to the loaded seq (the ring is empty).
    @Test func resumeOnFreshInstanceReadsOutboxAfterLoad() {
        let h = SubscriptionHarness()
        #expect(h.subscribe(a, since: ("ep1", 10), id: "res3") == [.loadSnapshot("T")])
        #expect(h.loaded(seq: 16) == [.watch("T", after: 16), .loadOutbox(a, trip: "T", epoch: "ep1", after: 10, through: 16)])
        #expect(h.outbox(a, seqs: Array(11...16)) == [
            .subscribed(a, trip: "T", seq: 10, epoch: "ep1", id: "res3"), .replay(a, [11, 12, 13, 14, 15, 16]),
        ])
    }

    /// ResumeTests.unknownOrStaleEpochGetsSnapshot: an epoch the trip does not have, or a seq it has not reached, gets a snapshot, never `subscribed`.
    @Test func unknownEpochOrFutureSeqGetsSnapshot() {
        let h = SubscriptionHarness()
        h.liveTrip(seq: 10, [b])
        h.recordAll(11...11)
        #expect(h.subscribe(a, since: ("no-such-epoch", 10), id: "e1") == [.snapshot(a, trip: "T", seq: 11, epoch: "ep1")])
        #expect(h.subscribe(c, since: ("ep1", 111), id: "e2") == [.snapshot(c, trip: "T", seq: 11, epoch: "ep1")])
        // After a history reset the trip loads with a new epoch: the old one is not resumed.
        let h2 = SubscriptionHarness()
        h2.liveTrip(seq: 11, epoch: "ep2", [b])
        #expect(h2.subscribe(a, since: ("ep1", 10), id: "e3") == [.snapshot(a, trip: "T", seq: 11, epoch: "ep2")])
        #expect(h2.hub?.resuming.isEmpty == true)
    }

    /// ResumeTests.prunedHistoryGetsSnapshot: an outbox read that finds the history gone (nil) answers with a snapshot; so does a read that fails.
    @Test func prunedHistoryOrFailedReadGetsSnapshot() {
        let h = SubscriptionHarness(ring: 2)
        h.subscribe(a, since: ("ep1", 10), id: "p1")
        h.loaded(seq: 16)
        #expect(h.outbox(a, seqs: nil) == [.snapshot(a, trip: "T", seq: 16, epoch: "ep1")])
        #expect(h.hub?.live.map(\.name) == ["a"])
        h.subscribe(b, since: ("ep1", 10), id: "p2")
        #expect(h.outboxFailed(b) == [.snapshot(b, trip: "T", seq: 16, epoch: "ep1")])
        // A resume from the one event still kept works.
        h.recordAll(17...17)
        #expect(h.subscribe(c, since: ("ep1", 16), id: "p3") == [
            .subscribed(c, trip: "T", seq: 16, epoch: "ep1", id: "p3"), .replay(c, [17]),
        ])
    }

    /// ResumeTests.liveEventsDuringOutboxResume: live events during an outbox read are buffered, not delivered, and follow the read events contiguously.
    @Test func liveEventsDuringOutboxResumeAreBuffered() {
        let h = SubscriptionHarness(ring: 2)
        h.liveTrip(seq: 10, [b])
        h.recordAll(11...16)
        h.subscribe(a, since: ("ep1", 10), id: "res7")
        #expect(h.record(17) == .deliver(["b"], buffered: 1, resync: []))
        #expect(h.record(18) == .deliver(["b"], buffered: 1, resync: []))
        #expect(h.hub?.resuming.first?.buffer.map(\.seq) == [17, 18])
        #expect(h.outbox(a, seqs: Array(11...16)) == [
            .subscribed(a, trip: "T", seq: 10, epoch: "ep1", id: "res7"), .replay(a, [11, 12, 13, 14, 15, 16, 17, 18]),
        ])
        #expect(h.record(19) == .deliver(["a", "b"], buffered: 0, resync: []))
    }

    /// Buffered events the outbox read already returned are not sent twice.
    @Test func bufferedEventsDeduplicatedAgainstRead() {
        let h = SubscriptionHarness(ring: 2)
        h.liveTrip(seq: 10, [b])
        h.recordAll(11...16)
        h.subscribe(a, since: ("ep1", 10))
        h.recordAll(17...19)
        // A read that went further than asked (it raced the live events).
        #expect(h.outbox(a, seqs: Array(11...18)) == [
            .subscribed(a, trip: "T", seq: 10, epoch: "ep1", id: nil), .replay(a, Array(11...19)),
        ])
        // An empty read (nothing between `since` and the trip's seq then): just the buffer.
        let h2 = SubscriptionHarness(ring: 0)
        h2.liveTrip(seq: 10, [b])
        h2.recordAll(11...11)
        h2.subscribe(a, since: ("ep1", 10))
        h2.recordAll(12...13)
        #expect(h2.outbox(a, seqs: []) == [.subscribed(a, trip: "T", seq: 10, epoch: "ep1", id: nil), .replay(a, [12, 13])])
    }

    /// A resume buffer may hold exactly the cap; one byte more abandons the resume: the subscriber is resynced and live, without that event, and the read's answer is ignored.
    @Test func bufferOverflowResyncs() {
        let size = tripEventFrame(tripEvent(17)).count
        let h = SubscriptionHarness(ring: 2, maxBuffer: 2 * size)
        h.liveTrip(seq: 10, [b])
        h.recordAll(11...16)
        h.subscribe(a, since: ("ep1", 10))
        h.subscribe(c, since: ("ep1", 10))
        #expect(h.record(17) == .deliver(["b"], buffered: 2, resync: []))
        #expect(h.record(18) == .deliver(["b"], buffered: 2, resync: []))
        #expect(h.hub?.resuming.first?.bufferedBytes == 2 * size)
        #expect(h.record(19) == .deliver(["b"], buffered: 2, resync: ["a", "c"]))
        #expect(h.hub?.resuming.isEmpty == true)
        #expect(h.outbox(a, seqs: Array(11...16)) == [])
        #expect(h.record(20) == .deliver(["a", "b", "c"], buffered: 0, resync: []))
    }

    // MARK: Superseding

    /// SupersededResumeTests.newerSubscribeSupersedesResume: a subscribe while an outbox resume is in flight gets a snapshot; the resume's answer is ignored, and live events go straight to the subscriber.
    @Test func newerSubscribeSupersedesResume() {
        let h = SubscriptionHarness(ring: 2)
        h.liveTrip(seq: 10, [b])
        h.recordAll(11...16)
        h.subscribe(a, since: ("ep1", 10))
        let stale = h.token(a)
        #expect(h.subscribe(a) == [.snapshot(a, trip: "T", seq: 16, epoch: "ep1")])
        #expect(h.outbox(a, seqs: Array(11...16), token: stale) == [])
        #expect(h.record(17) == .deliver(["a", "b"], buffered: 0, resync: []))
    }

    /// A newer resume supersedes an older one: only the newer read's answer counts.
    @Test func newerResumeSupersedesOlder() {
        let h = SubscriptionHarness(ring: 2)
        h.liveTrip(seq: 10, [b])
        h.recordAll(11...16)
        h.subscribe(a, since: ("ep1", 10), id: "first")
        let first = h.token(a)
        h.subscribe(a, since: ("ep1", 12), id: "second")
        #expect(h.token(a) != first)
        #expect(h.hub?.resuming.count == 1)
        #expect(h.outbox(a, seqs: Array(11...16), token: first) == [])
        #expect(h.outbox(a, seqs: Array(13...16)) == [
            .subscribed(a, trip: "T", seq: 12, epoch: "ep1", id: "second"), .replay(a, [13, 14, 15, 16]),
        ])
    }

    /// A live subscriber that subscribes again gets the answer again and stays subscribed once: each event reaches it once.
    @Test func resubscribeWhileLiveStaysOnce() {
        let h = SubscriptionHarness()
        h.liveTrip(seq: 10, [a])
        #expect(h.subscribe(a) == [.snapshot(a, trip: "T", seq: 10, epoch: "ep1")])
        h.recordAll(11...11)
        #expect(h.subscribe(a, since: ("ep1", 10)) == [.subscribed(a, trip: "T", seq: 10, epoch: "ep1", id: nil), .replay(a, [11])])
        #expect(h.record(12) == .deliver(["a"], buffered: 0, resync: []))
    }

    /// An outbox read answering for another subscriber's token, or for a trip without a hub, is ignored.
    @Test func foreignTokenIgnored() {
        let h = SubscriptionHarness(ring: 0)
        h.liveTrip(seq: 10, [b])
        h.recordAll(11...11)
        h.subscribe(a, since: ("ep1", 10))
        #expect(h.outbox(b, seqs: [11], token: h.token(a)) == [])
        #expect(h.outbox(a, "X", seqs: [11], token: h.token(a)) == [])
        #expect(h.hub?.resuming.count == 1)
    }
}
