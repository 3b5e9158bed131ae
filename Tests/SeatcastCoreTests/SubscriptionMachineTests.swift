import Testing
@testable import SeatcastCore

// Unit tests of `SubscriptionMachine`, the subscription and resume policy as a pure state
// machine: every rule of its doc comment, without sockets or a database. The scenarios of
// SeatcastServerTests/ResumeTests (which run the same rules end to end) are named where
// they are mirrored. A "trip" here has 8 seats (1A..2D); events lock seat 1A (or another
// seat) with consecutive `seq`s.

/// A connection, as the machine sees one: compared by identity, named for messages.
private final class Sub: CustomStringConvertible {
    let name: String
    init(_ name: String) { self.name = name }
    var description: String { name }
}

private func snapshot(_ trip: String = "T", seq: Int64, epoch: String = "ep1") -> TripSnapshot {
    var seats: [SeatState] = []
    for row in 1...2 {
        for (c, col) in ["A", "B", "C", "D"].enumerated() {
            seats.append(SeatState(seatNo: "\(row)\(col)", row: row, col: c + 1, status: .available))
        }
    }
    return TripSnapshot(tripId: trip, name: "Trip \(trip)", rows: 2, cols: 4, epoch: epoch, seq: seq, seats: seats)
}

private func event(_ seq: Int64, seat: String = "1A", trip: String = "T") -> TripEvent {
    TripEvent(tripId: trip, seq: seq, seatNo: seat, kind: .locked, untilMs: 1_795_289_400_000)
}

private func eventFrame(_ e: TripEvent) -> Frame {
    Frame(Messages.event(e), stream: true, tripId: e.tripId)
}

private func json(_ f: Frame) -> JSON {
    (try? JSON.parse(f.text)) ?? .null
}

/// `SubscriptionMachine.Action` made comparable: frames by what they say.
private enum Act: Equatable, CustomStringConvertible {
    case snapshot(Sub, trip: String, seq: Int64, epoch: String)
    case subscribed(Sub, trip: String, seq: Int64, epoch: String, id: String?)
    case replay(Sub, [Int64])
    case loadSnapshot(String)
    case loadOutbox(Sub, trip: String, epoch: String, after: Int64, through: Int64)
    case watch(String, after: Int64)
    case unwatch(String)
    case fail(Sub, trip: String, ErrorCode, id: String?)
    case unreadable(String)

    init(_ a: SubscriptionMachine<Sub>.Action) {
        switch a {
        case let .sendSnapshot(s, f):
            let j = json(f)
            guard j["type"]?.stringValue == "snapshot", f.isStream, let trip = j["tripId"]?.stringValue, f.tripId == trip,
                  let seq = j["seq"]?.int64Value, let epoch = j["epoch"]?.stringValue else { self = .unreadable(f.text); return }
            self = .snapshot(s, trip: trip, seq: seq, epoch: epoch)
        case let .sendSubscribed(s, f):
            let j = json(f)
            guard j["type"]?.stringValue == "subscribed", f.isStream, let trip = j["tripId"]?.stringValue, f.tripId == trip,
                  let seq = j["seq"]?.int64Value, let epoch = j["epoch"]?.stringValue else { self = .unreadable(f.text); return }
            self = .subscribed(s, trip: trip, seq: seq, epoch: epoch, id: j["id"]?.stringValue)
        case let .replay(s, frames):
            self = .replay(s, frames.map { json($0)["seq"]?.int64Value ?? -1 })
        case let .loadSnapshot(trip):
            self = .loadSnapshot(trip)
        case let .loadOutbox(s, trip, epoch, after, through, _):
            self = .loadOutbox(s, trip: trip, epoch: epoch, after: after, through: through)
        case let .watch(trip, after):
            self = .watch(trip, after: after)
        case let .unwatch(trip):
            self = .unwatch(trip)
        case let .fail(s, trip, e):
            self = .fail(s, trip: trip, e.code, id: e.id)
        }
    }

    static func == (a: Act, b: Act) -> Bool { a.description == b.description }

    var description: String {
        switch self {
        case let .snapshot(s, trip, seq, epoch): "snapshot(\(s), \(trip)@\(epoch):\(seq))"
        case let .subscribed(s, trip, seq, epoch, id): "subscribed(\(s), \(trip)@\(epoch):\(seq), id: \(id ?? "-"))"
        case let .replay(s, seqs): "replay(\(s), \(seqs))"
        case let .loadSnapshot(trip): "loadSnapshot(\(trip))"
        case let .loadOutbox(s, trip, epoch, after, through): "loadOutbox(\(s), \(trip)@\(epoch), \(after)..<=\(through))"
        case let .watch(trip, after): "watch(\(trip), after: \(after))"
        case let .unwatch(trip): "unwatch(\(trip))"
        case let .fail(s, trip, code, id): "fail(\(s), \(trip), \(code.rawValue), id: \(id ?? "-"))"
        case let .unreadable(text): "unreadable(\(text))"
        }
    }
}

/// `SubscriptionMachine.EventOutcome` made comparable (live subscribers as a sorted list).
private enum Outcome: Equatable, CustomStringConvertible {
    case deliver([String], buffered: Int, resync: [String])
    case ignore
    case rewatch(after: Int64)
    case awaitRewatch
    case reload([Act])

    init(_ o: SubscriptionMachine<Sub>.EventOutcome) {
        switch o {
        case let .deliver(live, buffered, resync):
            self = .deliver(live.map(\.name).sorted(), buffered: buffered, resync: resync.map(\.name).sorted())
        case .ignore: self = .ignore
        case let .rewatch(after): self = .rewatch(after: after)
        case .awaitRewatch: self = .awaitRewatch
        case let .reload(actions): self = .reload(actions.map(Act.init))
        }
    }

    var description: String {
        switch self {
        case let .deliver(live, buffered, resync): "deliver(\(live), buffered: \(buffered), resync: \(resync))"
        case .ignore: "ignore"
        case let .rewatch(after): "rewatch(after: \(after))"
        case .awaitRewatch: "awaitRewatch"
        case let .reload(a): "reload(\(a))"
        }
    }
}

/// Holds a machine so `#expect` can look at the results of mutating calls; remembers the
/// token of each subscriber's latest outbox read, as the server's reply closure would.
private final class Harness {
    var m: SubscriptionMachine<Sub>
    var tokens: [ObjectIdentifier: Int] = [:]

    init(ring: Int = 8, maxBuffer: Int = 100_000) {
        m = SubscriptionMachine(policy: .init(ringCapacity: ring, maxResumeBufferBytes: maxBuffer))
    }

    private func note(_ actions: [SubscriptionMachine<Sub>.Action]) -> [Act] {
        for case let .loadOutbox(s, _, _, _, _, token) in actions { tokens[ObjectIdentifier(s)] = token }
        return actions.map(Act.init)
    }

    @discardableResult
    func subscribe(_ s: Sub, _ trip: String = "T", since: (String, Int64)? = nil, id: String? = nil) -> [Act] {
        note(m.subscribe(s, to: trip, since: since.map { StreamPosition(epoch: $0.0, seq: $0.1) }, id: id))
    }

    @discardableResult
    func loaded(_ trip: String = "T", seq: Int64, epoch: String = "ep1") -> [Act] {
        note(m.snapshotLoaded(trip, .success(snapshot(trip, seq: seq, epoch: epoch))))
    }

    func loadFailed(_ e: ProtocolError, _ trip: String = "T") -> [Act] {
        note(m.snapshotLoaded(trip, .failure(e)))
    }

    @discardableResult
    func unsubscribe(_ s: Sub, _ trip: String = "T") -> [Act] {
        m.unsubscribe(s, from: trip).map(Act.init)
    }

    /// The outbox read of `s`'s latest resume answers `seqs` (nil: history gone).
    func outbox(_ s: Sub, _ trip: String = "T", seqs: [Int64]?, token: Int? = nil) -> [Act] {
        let events = seqs.map { $0.map { EventFrame(seq: $0, frame: eventFrame(event($0, trip: trip))) } }
        return note(m.outboxLoaded(s, tripId: trip, token: token ?? tokens[ObjectIdentifier(s)] ?? -1, .success(events)))
    }

    func outboxFailed(_ s: Sub, _ trip: String = "T") -> [Act] {
        note(m.outboxLoaded(s, tripId: trip, token: tokens[ObjectIdentifier(s)] ?? -1, .failure(ProtocolError(.unavailable, "down"))))
    }

    func token(_ s: Sub) -> Int? { tokens[ObjectIdentifier(s)] }

    @discardableResult
    func record(_ seq: Int64, seat: String = "1A", _ trip: String = "T") -> Outcome {
        let e = event(seq, seat: seat, trip: trip)
        return Outcome(m.record(e, eventFrame(e), tripId: trip))
    }

    /// Records each event, expecting each to be the trip's next.
    func recordAll(_ seqs: ClosedRange<Int64>, _ trip: String = "T") {
        for seq in seqs {
            if case .deliver = record(seq, trip) { continue }
            Issue.record("event \(seq) was not delivered")
        }
    }

    /// A loaded trip at `seq` followed by `subs`.
    func liveTrip(_ trip: String = "T", seq: Int64, epoch: String = "ep1", _ subs: [Sub]) {
        for s in subs { subscribe(s, trip) }
        loaded(trip, seq: seq, epoch: epoch)
    }

    var hub: TripHub<Sub>? { m.hubs["T"] }
}

@Suite("SubscriptionMachine")
struct SubscriptionMachineTests {
    fileprivate let a = Sub("a"), b = Sub("b"), c = Sub("c")

    // MARK: Subscribe and the first load

    /// The first subscribe loads the trip; the subscriber waits; the snapshot starts the watch and answers it with a snapshot.
    @Test func firstSubscribeLoadsThenSnapshot() {
        let h = Harness()
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
        let h = Harness()
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
        let h = Harness()
        h.subscribe(a, since: ("ep1", 3), id: "old")
        #expect(h.subscribe(a, id: "new") == [])
        #expect(h.hub?.waiting.count == 1)
        #expect(h.loaded(seq: 10) == [.watch("T", after: 10), .snapshot(a, trip: "T", seq: 10, epoch: "ep1")])
    }

    /// A subscribe to a loaded trip is answered from memory, without a load.
    @Test func subscribeToLoadedTripNeedsNoLoad() {
        let h = Harness()
        h.liveTrip(seq: 10, [a])
        h.recordAll(11...12)
        #expect(h.subscribe(b) == [.snapshot(b, trip: "T", seq: 12, epoch: "ep1")])
        #expect(h.record(13) == .deliver(["a", "b"], buffered: 0, resync: []))
    }

    /// The snapshot frame is encoded once per `seq` and shared; an event makes a new one.
    @Test func snapshotFrameSharedPerSeq() {
        let h = Harness()
        h.liveTrip(seq: 10, [a])
        let f1 = h.m.snapshot("T")
        #expect(f1 != nil && f1 === h.m.snapshot("T"))
        h.recordAll(11...11)
        let f2 = h.m.snapshot("T")
        #expect(f2 !== f1)
        #expect(f2.flatMap { json($0)["seq"]?.int64Value } == 11)
        #expect(h.m.snapshot("nope") == nil)
    }

    /// A load that fails answers every waiting subscriber with the error and its own request id, and forgets the trip; the next subscribe loads again.
    @Test func loadFailureRepliesErrorAndForgetsTrip() {
        let h = Harness()
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
        let h = Harness()
        #expect(h.record(1, "X") == .ignore)
        h.subscribe(a)
        #expect(h.record(11) == .ignore)
        h.loaded(seq: 10)
        #expect(h.record(11) == .deliver(["a"], buffered: 0, resync: []))
    }

    // MARK: Resume from the ring

    /// ResumeTests.resumeFromRing: a resume whose missed events are all in the ring gets `subscribed` at `since` and exactly those events, then live events.
    @Test func resumeFromRing() {
        let h = Harness(ring: 8)
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
        let h = Harness()
        h.liveTrip(seq: 10, [b])
        h.recordAll(11...12)
        #expect(h.subscribe(a, since: ("ep1", 12), id: "res4") == [.subscribed(a, trip: "T", seq: 12, epoch: "ep1", id: "res4")])
        #expect(h.record(13) == .deliver(["a", "b"], buffered: 0, resync: []))
        // Also right after a load (empty ring).
        let h2 = Harness()
        h2.liveTrip(seq: 10, [b])
        #expect(h2.subscribe(a, since: ("ep1", 10)) == [.subscribed(a, trip: "T", seq: 10, epoch: "ep1", id: nil)])
    }

    /// The ring's edge: it serves a resume whose first missed event is its oldest, not one a single event older.
    @Test func ringBoundary() {
        let h = Harness(ring: 4)
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
        let h = Harness(ring: 2)
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
        let h = Harness()
        #expect(h.subscribe(a, since: ("ep1", 10), id: "res3") == [.loadSnapshot("T")])
        #expect(h.loaded(seq: 16) == [.watch("T", after: 16), .loadOutbox(a, trip: "T", epoch: "ep1", after: 10, through: 16)])
        #expect(h.outbox(a, seqs: Array(11...16)) == [
            .subscribed(a, trip: "T", seq: 10, epoch: "ep1", id: "res3"), .replay(a, [11, 12, 13, 14, 15, 16]),
        ])
    }

    /// ResumeTests.unknownOrStaleEpochGetsSnapshot: an epoch the trip does not have, or a seq it has not reached, gets a snapshot, never `subscribed`.
    @Test func unknownEpochOrFutureSeqGetsSnapshot() {
        let h = Harness()
        h.liveTrip(seq: 10, [b])
        h.recordAll(11...11)
        #expect(h.subscribe(a, since: ("no-such-epoch", 10), id: "e1") == [.snapshot(a, trip: "T", seq: 11, epoch: "ep1")])
        #expect(h.subscribe(c, since: ("ep1", 111), id: "e2") == [.snapshot(c, trip: "T", seq: 11, epoch: "ep1")])
        // After a history reset the trip loads with a new epoch: the old one is not resumed.
        let h2 = Harness()
        h2.liveTrip(seq: 11, epoch: "ep2", [b])
        #expect(h2.subscribe(a, since: ("ep1", 10), id: "e3") == [.snapshot(a, trip: "T", seq: 11, epoch: "ep2")])
        #expect(h2.hub?.resuming.isEmpty == true)
    }

    /// ResumeTests.prunedHistoryGetsSnapshot: an outbox read that finds the history gone (nil) answers with a snapshot; so does a read that fails.
    @Test func prunedHistoryOrFailedReadGetsSnapshot() {
        let h = Harness(ring: 2)
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
        let h = Harness(ring: 2)
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
        let h = Harness(ring: 2)
        h.liveTrip(seq: 10, [b])
        h.recordAll(11...16)
        h.subscribe(a, since: ("ep1", 10))
        h.recordAll(17...19)
        // A read that went further than asked (it raced the live events).
        #expect(h.outbox(a, seqs: Array(11...18)) == [
            .subscribed(a, trip: "T", seq: 10, epoch: "ep1", id: nil), .replay(a, Array(11...19)),
        ])
        // An empty read (nothing between `since` and the trip's seq then): just the buffer.
        let h2 = Harness(ring: 0)
        h2.liveTrip(seq: 10, [b])
        h2.recordAll(11...11)
        h2.subscribe(a, since: ("ep1", 10))
        h2.recordAll(12...13)
        #expect(h2.outbox(a, seqs: []) == [.subscribed(a, trip: "T", seq: 10, epoch: "ep1", id: nil), .replay(a, [12, 13])])
    }

    /// A resume buffer may hold exactly the cap; one byte more abandons the resume: the subscriber is resynced and live, without that event, and the read's answer is ignored.
    @Test func bufferOverflowResyncs() {
        let size = eventFrame(event(17)).count
        let h = Harness(ring: 2, maxBuffer: 2 * size)
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
        let h = Harness(ring: 2)
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
        let h = Harness(ring: 2)
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
        let h = Harness()
        h.liveTrip(seq: 10, [a])
        #expect(h.subscribe(a) == [.snapshot(a, trip: "T", seq: 10, epoch: "ep1")])
        h.recordAll(11...11)
        #expect(h.subscribe(a, since: ("ep1", 10)) == [.subscribed(a, trip: "T", seq: 10, epoch: "ep1", id: nil), .replay(a, [11])])
        #expect(h.record(12) == .deliver(["a"], buffered: 0, resync: []))
    }

    /// An outbox read answering for another subscriber's token, or for a trip without a hub, is ignored.
    @Test func foreignTokenIgnored() {
        let h = Harness(ring: 0)
        h.liveTrip(seq: 10, [b])
        h.recordAll(11...11)
        h.subscribe(a, since: ("ep1", 10))
        #expect(h.outbox(b, seqs: [11], token: h.token(a)) == [])
        #expect(h.outbox(a, "X", seqs: [11], token: h.token(a)) == [])
        #expect(h.hub?.resuming.count == 1)
    }

    // MARK: Unsubscribe and teardown

    /// The last subscriber leaving a loaded trip drops it and unwatches it; others leaving keep it.
    @Test func lastUnsubscribeTearsDown() {
        let h = Harness()
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
        let h = Harness(ring: 0)
        h.liveTrip(seq: 10, [b])
        h.recordAll(11...12)
        h.subscribe(a, since: ("ep1", 10))
        #expect(h.unsubscribe(b) == [])
        #expect(h.unsubscribe(a) == [.unwatch("T")])
        #expect(h.outbox(a, seqs: [11, 12]) == [])
    }

    /// A trip whose last subscriber leaves while it loads stays until the snapshot arrives, then goes without a watch; a subscribe meanwhile reuses the load.
    @Test func unsubscribeWhileLoading() {
        let h = Harness()
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
        let h = Harness()
        h.liveTrip(seq: 10, [a])
        h.recordAll(11...12)
        #expect(h.record(12) == .ignore)
        #expect(h.record(5) == .ignore)
        #expect(h.hub?.map?.seq == 12)
        #expect(h.hub?.ring.count == 2)
    }

    /// A gap asks the listener to re-read from the map's seq once; later gaps wait for it; once an event applies, a new gap asks again.
    @Test func gapRewatchesOnce() {
        let h = Harness()
        h.liveTrip(seq: 10, [a])
        #expect(h.record(12) == .rewatch(after: 10))
        #expect(h.record(13) == .awaitRewatch)
        #expect(h.hub?.map?.seq == 10)
        h.recordAll(11...13)
        #expect(h.record(15) == .rewatch(after: 13))
    }

    /// An event naming a seat the trip lacks reloads it: unwatch, load; live and resuming subscribers wait (the resume's answer is ignored), and all get the fresh snapshot.
    @Test func unknownSeatReloads() {
        let h = Harness(ring: 0)
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
        let h = Harness()
        #expect(h.m.reload("T").isEmpty)
        h.subscribe(a)
        #expect(h.m.reload("T").isEmpty)
        h.loaded(seq: 10)
        #expect(h.m.reload("T").map(Act.init) == [.unwatch("T"), .loadSnapshot("T")])
        // A gap before the reload does not stop a gap after it from asking for a re-read.
        #expect(h.loaded(seq: 20) == [.watch("T", after: 20), .snapshot(a, trip: "T", seq: 20, epoch: "ep1")])
        #expect(h.record(22) == .rewatch(after: 20))
    }

    /// A failed reload drops every subscriber with the error, without request ids.
    @Test func failedReloadFailsEveryone() {
        let h = Harness()
        h.liveTrip(seq: 10, [a, b])
        _ = h.m.reload("T")
        #expect(h.loadFailed(ProtocolError(.unavailable, "down")) == [
            .fail(a, trip: "T", .unavailable, id: nil), .fail(b, trip: "T", .unavailable, id: nil),
        ])
        #expect(h.m.tripCount == 0)
    }

    // MARK: Send-queue overflows

    /// After a send-queue overflow a loaded trip's snapshot is the resync; a loading trip makes the subscriber wait (once) for its snapshot.
    @Test func resyncSnapshot() {
        let h = Harness()
        h.liveTrip(seq: 10, [a])
        h.recordAll(11...11)
        let f = h.m.resyncSnapshot(for: a, tripId: "T")
        #expect(f.flatMap { json($0)["seq"]?.int64Value } == 11)
        _ = h.m.reload("T")
        #expect(h.m.resyncSnapshot(for: a, tripId: "T") == nil)
        #expect(h.m.resyncSnapshot(for: a, tripId: "T") == nil)
        #expect(h.hub?.waiting.count == 1)
        #expect(h.m.resyncSnapshot(for: a, tripId: "X") == nil)
    }

    /// A send-queue overflow makes the subscriber's resumes moot: it is live on each trip, and the reads' answers are ignored.
    @Test func queueOverflowAbandonsResumes() {
        let h = Harness(ring: 0)
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

@Suite("EventRing")
struct EventRingTests {
    private func ring(_ capacity: Int, _ seqs: ClosedRange<Int64>) -> EventRing {
        var r = EventRing(capacity: capacity)
        for s in seqs { r.append(EventFrame(seq: s, frame: eventFrame(event(s)))) }
        return r
    }

    private func seqs(_ frames: [Frame]?) -> [Int64]? {
        frames?.map { json($0)["seq"]?.int64Value ?? -1 }
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
