import Testing
@testable import SeatcastCore

// Unit tests of `SubscriptionMachine`, the subscription policy as a pure state machine:
// subscribing, a trip's first load and its failure, unsubscribing and teardown, events
// (stale, gaps, unknown seats, reloads) and send-queue overflows, without sockets or a
// database. The resume rules are in ResumePolicyTests; the fixtures in
// SubscriptionMachineSupport.swift.

@Suite("SubscriptionMachine")
struct SubscriptionMachineTests {
    let a = TestSubscriber("a"), b = TestSubscriber("b"), c = TestSubscriber("c")

    // MARK: Subscribe and the first load

    /// The first subscribe loads the trip; the subscriber waits; the snapshot starts the watch and answers it with a snapshot.
    @Test func firstSubscribeLoadsThenSnapshot() {
        let h = SubscriptionHarness()
        #expect(h.subscribe(a, id: "s1") == [.loadSnapshot("T")])
        #expect(!h.m.isLoaded("T"))
        #expect(h.hub?.waiting.count == 1)
        #expect(h.loaded(seq: 10) == [.watch("T", after: 10), .snapshot(a, trip: "T", seq: 10, epoch: "ep1")])
        #expect(h.m.isLoaded("T"))
        #expect(h.hub?.live.map(\.name) == ["a"])
        #expect(h.m.tripCount == 1)
    }

    /// Subscribers of a trip that is loading share one load and are all answered when it arrives, each by its own rule.
    @Test func subscribersWaitWhileLoading() {
        let h = SubscriptionHarness()
        #expect(h.subscribe(a) == [.loadSnapshot("T")])
        #expect(h.subscribe(b, since: ("ep1", 10), id: "r") == [])
        #expect(h.subscribe(c, since: ("ep1", 4), id: "o") == [])
        #expect(h.loaded(seq: 10) == [
            .watch("T", after: 10),
            .snapshot(a, trip: "T", seq: 10, epoch: "ep1"),
            .subscribed(b, trip: "T", seq: 10, epoch: "ep1", id: "r"),
            .loadOutbox(c, trip: "T", epoch: "ep1", after: 4, through: 10),
        ])
    }

    /// A second subscribe while the trip loads replaces the first one's request: one answer, with the newer id and position.
    @Test func resubscribeWhileLoadingReplacesRequest() {
        let h = SubscriptionHarness()
        h.subscribe(a, since: ("ep1", 3), id: "old")
        #expect(h.subscribe(a, id: "new") == [])
        #expect(h.hub?.waiting.count == 1)
        #expect(h.loaded(seq: 10) == [.watch("T", after: 10), .snapshot(a, trip: "T", seq: 10, epoch: "ep1")])
    }

    /// A subscribe to a loaded trip is answered from memory, without a load.
    @Test func subscribeToLoadedTripNeedsNoLoad() {
        let h = SubscriptionHarness()
        h.liveTrip(seq: 10, [a])
        h.recordAll(11...12)
        #expect(h.subscribe(b) == [.snapshot(b, trip: "T", seq: 12, epoch: "ep1")])
        #expect(h.record(13) == .deliver(["a", "b"], buffered: 0, resync: []))
    }

    /// The snapshot frame is encoded once per `seq` and shared; an event makes a new one.
    @Test func snapshotFrameSharedPerSeq() {
        let h = SubscriptionHarness()
        h.liveTrip(seq: 10, [a])
        let f1 = h.m.snapshot("T")
        #expect(f1 != nil && f1 === h.m.snapshot("T"))
        h.recordAll(11...11)
        let f2 = h.m.snapshot("T")
        #expect(f2 !== f1)
        #expect(f2.flatMap { frameJSON($0)["seq"]?.int64Value } == 11)
        #expect(h.m.snapshot("nope") == nil)
    }

    /// A load that fails answers every waiting subscriber with the error and its own request id, and forgets the trip; the next subscribe loads again.
    @Test func loadFailureRepliesErrorAndForgetsTrip() {
        let h = SubscriptionHarness()
        h.subscribe(a, id: "s1")
        h.subscribe(b, since: ("ep1", 1))
        #expect(h.loadFailed(ProtocolError(.unknownTrip, "unknown trip \"T\"")) == [
            .fail(a, trip: "T", .unknownTrip, id: "s1"),
            .fail(b, trip: "T", .unknownTrip, id: nil),
        ])
        #expect(h.m.tripCount == 0)
        #expect(h.subscribe(a) == [.loadSnapshot("T")])
    }

    /// Events before the trip is loaded, and of trips nobody follows, are ignored.
    @Test func eventsBeforeLoadIgnored() {
        let h = SubscriptionHarness()
        #expect(h.record(1, "X") == .ignore)
        h.subscribe(a)
        #expect(h.record(11) == .ignore)
        h.loaded(seq: 10)
        #expect(h.record(11) == .deliver(["a"], buffered: 0, resync: []))
    }

    // MARK: Unsubscribe and teardown

    /// The last subscriber leaving a loaded trip drops it and unwatches it; others leaving keep it.
    @Test func lastUnsubscribeTearsDown() {
        let h = SubscriptionHarness()
        h.liveTrip(seq: 10, [a, b])
        #expect(h.unsubscribe(a) == [])
        #expect(h.record(11) == .deliver(["b"], buffered: 0, resync: []))
        #expect(h.unsubscribe(c) == [])
        #expect(h.unsubscribe(b) == [.unwatch("T")])
        #expect(h.m.tripCount == 0)
        #expect(h.unsubscribe(b) == [])
    }

    /// Unsubscribing during an outbox resume drops it: its answer is ignored, and the trip goes when nobody is left.
    @Test func unsubscribeDuringResume() {
        let h = SubscriptionHarness(ring: 0)
        h.liveTrip(seq: 10, [b])
        h.recordAll(11...12)
        h.subscribe(a, since: ("ep1", 10))
        #expect(h.unsubscribe(b) == [])
        #expect(h.unsubscribe(a) == [.unwatch("T")])
        #expect(h.outbox(a, seqs: [11, 12]) == [])
    }

    /// A trip whose last subscriber leaves while it loads stays until the snapshot arrives, then goes without a watch; a subscribe meanwhile reuses the load.
    @Test func unsubscribeWhileLoading() {
        let h = SubscriptionHarness()
        h.subscribe(a)
        #expect(h.unsubscribe(a) == [])
        #expect(h.m.tripCount == 1)
        #expect(h.loaded(seq: 10) == [])
        #expect(h.m.tripCount == 0)

        h.subscribe(a)
        h.unsubscribe(a)
        #expect(h.subscribe(b) == [])
        #expect(h.loaded(seq: 10) == [.watch("T", after: 10), .snapshot(b, trip: "T", seq: 10, epoch: "ep1")])
    }

    // MARK: Events: stale, gaps, unknown seats, reloads

    /// An event at or below the map's seq is ignored; the map and ring do not change.
    @Test func staleEventIgnored() {
        let h = SubscriptionHarness()
        h.liveTrip(seq: 10, [a])
        h.recordAll(11...12)
        #expect(h.record(12) == .ignore)
        #expect(h.record(5) == .ignore)
        #expect(h.hub?.map?.seq == 12)
        #expect(h.hub?.ring.count == 2)
    }

    /// A gap asks the listener to re-read from the map's seq once; later gaps wait for it; once an event applies, a new gap asks again.
    @Test func gapRewatchesOnce() {
        let h = SubscriptionHarness()
        h.liveTrip(seq: 10, [a])
        #expect(h.record(12) == .rewatch(after: 10))
        #expect(h.record(13) == .awaitRewatch)
        #expect(h.hub?.map?.seq == 10)
        h.recordAll(11...13)
        #expect(h.record(15) == .rewatch(after: 13))
    }

    /// An event naming a seat the trip lacks reloads it: unwatch, load; live and resuming subscribers wait (the resume's answer is ignored), and all get the fresh snapshot.
    @Test func unknownSeatReloads() {
        let h = SubscriptionHarness(ring: 0)
        h.liveTrip(seq: 10, [b])
        h.recordAll(11...11)
        h.subscribe(a, since: ("ep1", 10), id: "r")
        #expect(h.record(12, seat: "9Z") == .reload([.unwatch("T"), .loadSnapshot("T")]))
        #expect(!h.m.isLoaded("T"))
        #expect(h.hub?.waiting.count == 2)
        #expect(h.record(12) == .ignore)
        #expect(h.outbox(a, seqs: [11]) == [])
        #expect(h.loaded(seq: 12) == [
            .watch("T", after: 12),
            .snapshot(b, trip: "T", seq: 12, epoch: "ep1"),
            .snapshot(a, trip: "T", seq: 12, epoch: "ep1"),
        ])
        #expect(h.hub?.ring.isEmpty == true)
    }

    /// The listener losing history reloads a loaded trip; a trip that is loading or unknown needs nothing.
    @Test func listenerReload() {
        let h = SubscriptionHarness()
        #expect(h.reload().isEmpty)
        h.subscribe(a)
        #expect(h.reload().isEmpty)
        h.loaded(seq: 10)
        #expect(h.reload() == [.unwatch("T"), .loadSnapshot("T")])
        // A gap before the reload does not stop a gap after it from asking for a re-read.
        #expect(h.loaded(seq: 20) == [.watch("T", after: 20), .snapshot(a, trip: "T", seq: 20, epoch: "ep1")])
        #expect(h.record(22) == .rewatch(after: 20))
    }

    /// A failed reload drops every subscriber with the error, without request ids.
    @Test func failedReloadFailsEveryone() {
        let h = SubscriptionHarness()
        h.liveTrip(seq: 10, [a, b])
        h.reload()
        #expect(h.loadFailed(ProtocolError(.unavailable, "down")) == [
            .fail(a, trip: "T", .unavailable, id: nil), .fail(b, trip: "T", .unavailable, id: nil),
        ])
        #expect(h.m.tripCount == 0)
    }

    // MARK: Send-queue overflows

    /// After a send-queue overflow a loaded trip's snapshot is the resync; a loading trip makes the subscriber wait (once) for its snapshot.
    @Test func resyncSnapshot() {
        let h = SubscriptionHarness()
        h.liveTrip(seq: 10, [a])
        h.recordAll(11...11)
        let f = h.m.resyncSnapshot(for: a, tripId: "T")
        #expect(f.flatMap { frameJSON($0)["seq"]?.int64Value } == 11)
        h.reload()
        #expect(h.m.resyncSnapshot(for: a, tripId: "T") == nil)
        #expect(h.m.resyncSnapshot(for: a, tripId: "T") == nil)
        #expect(h.hub?.waiting.count == 1)
        #expect(h.m.resyncSnapshot(for: a, tripId: "X") == nil)
    }

    /// A send-queue overflow makes the subscriber's resumes moot: it is live on each trip, and the reads' answers are ignored.
    @Test func queueOverflowAbandonsResumes() {
        let h = SubscriptionHarness(ring: 0)
        h.liveTrip("T", seq: 10, [b])
        h.liveTrip("U", seq: 5, [b])
        h.recordAll(11...11, "T")
        h.subscribe(a, "T", since: ("ep1", 10))
        h.m.queueOverflowed(a, tripIds: ["T", "U", "X"])
        #expect(h.hub?.resuming.isEmpty == true)
        #expect(h.outbox(a, seqs: [11]) == [])
        #expect(h.record(12) == .deliver(["a", "b"], buffered: 0, resync: []))
    }
}
