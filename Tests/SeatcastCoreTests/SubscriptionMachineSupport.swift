import Testing
@testable import SeatcastCore

// What the unit tests of `SubscriptionMachine` share (SubscriptionMachineTests,
// ResumePolicyTests, EventRingTests): a subscriber type, trips, events and frames, the
// machine's actions and outcomes made comparable, and a harness that holds a machine. A
// "trip" here has 8 seats (1A..2D); events lock seat 1A (or another seat) with
// consecutive `seq`s.

/// A connection, as the machine sees one: compared by identity, named for messages.
final class TestSubscriber: CustomStringConvertible {
    let name: String
    init(_ name: String) { self.name = name }
    var description: String { name }
}

func tripSnapshot(_ trip: String = "T", seq: Int64, epoch: String = "ep1") -> TripSnapshot {
    var seats: [SeatState] = []
    for row in 1...2 {
        for (c, col) in ["A", "B", "C", "D"].enumerated() {
            seats.append(SeatState(seatNo: "\(row)\(col)", row: row, col: c + 1, status: .available))
        }
    }
    return TripSnapshot(tripId: trip, name: "Trip \(trip)", rows: 2, cols: 4, epoch: epoch, seq: seq, seats: seats)
}

func tripEvent(_ seq: Int64, seat: String = "1A", trip: String = "T") -> TripEvent {
    TripEvent(tripId: trip, seq: seq, seatNo: seat, kind: .locked, untilMs: 1_795_289_400_000)
}

func tripEventFrame(_ e: TripEvent) -> Frame {
    Frame(Messages.event(e), stream: true, tripId: e.tripId)
}

func frameJSON(_ f: Frame) -> JSON {
    (try? JSON.parse(f.text)) ?? .null
}

/// `SubscriptionMachine.Action` made comparable: frames by what they say.
enum PolicyAction: Equatable, CustomStringConvertible {
    case snapshot(TestSubscriber, trip: String, seq: Int64, epoch: String)
    case subscribed(TestSubscriber, trip: String, seq: Int64, epoch: String, id: String?)
    case replay(TestSubscriber, [Int64])
    case loadSnapshot(String)
    case loadOutbox(TestSubscriber, trip: String, epoch: String, after: Int64, through: Int64)
    case watch(String, after: Int64)
    case unwatch(String)
    case fail(TestSubscriber, trip: String, ErrorCode, id: String?)
    case unreadable(String)

    init(_ a: SubscriptionMachine<TestSubscriber>.Action) {
        switch a {
        case let .sendSnapshot(s, f):
            let j = frameJSON(f)
            guard j["type"]?.stringValue == "snapshot", f.isStream, let trip = j["tripId"]?.stringValue, f.tripId == trip,
                  let seq = j["seq"]?.int64Value, let epoch = j["epoch"]?.stringValue else { self = .unreadable(f.text); return }
            self = .snapshot(s, trip: trip, seq: seq, epoch: epoch)
        case let .sendSubscribed(s, f):
            let j = frameJSON(f)
            guard j["type"]?.stringValue == "subscribed", f.isStream, let trip = j["tripId"]?.stringValue, f.tripId == trip,
                  let seq = j["seq"]?.int64Value, let epoch = j["epoch"]?.stringValue else { self = .unreadable(f.text); return }
            self = .subscribed(s, trip: trip, seq: seq, epoch: epoch, id: j["id"]?.stringValue)
        case let .replay(s, frames):
            self = .replay(s, frames.map { frameJSON($0)["seq"]?.int64Value ?? -1 })
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

    static func == (a: PolicyAction, b: PolicyAction) -> Bool { a.description == b.description }

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
enum PolicyOutcome: Equatable, CustomStringConvertible {
    case deliver([String], buffered: Int, resync: [String])
    case ignore
    case rewatch(after: Int64)
    case awaitRewatch
    case reload([PolicyAction])

    /// `actions`: what `record` appended (only a reload appends).
    init(_ o: SubscriptionMachine<TestSubscriber>.EventOutcome, actions: [SubscriptionMachine<TestSubscriber>.Action]) {
        switch o {
        case let .deliver(live, buffered, resync):
            self = .deliver(live.map(\.name).sorted(), buffered: buffered, resync: resync.map(\.name).sorted())
        case .ignore: self = .ignore
        case let .rewatch(after): self = .rewatch(after: after)
        case .awaitRewatch: self = .awaitRewatch
        case .reload: self = .reload(actions.map(PolicyAction.init))
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
final class SubscriptionHarness {
    var m: SubscriptionMachine<TestSubscriber>
    var tokens: [ObjectIdentifier: Int] = [:]

    init(ring: Int = 8, maxBuffer: Int = 100_000) {
        m = SubscriptionMachine(policy: .init(ringCapacity: ring, maxResumeBufferBytes: maxBuffer))
    }

    /// One decision of the machine: the actions it appends to a fresh buffer, comparable.
    private func decide(_ body: (inout [SubscriptionMachine<TestSubscriber>.Action]) -> Void) -> [PolicyAction] {
        var actions: [SubscriptionMachine<TestSubscriber>.Action] = []
        body(&actions)
        for case let .loadOutbox(s, _, _, _, _, token) in actions { tokens[ObjectIdentifier(s)] = token }
        return actions.map(PolicyAction.init)
    }

    @discardableResult
    func subscribe(_ s: TestSubscriber, _ trip: String = "T", since: (String, Int64)? = nil, id: String? = nil,
                   compact: Bool = false) -> [PolicyAction] {
        decide { m.subscribe(s, to: trip, since: since.map { StreamPosition(epoch: $0.0, seq: $0.1) }, id: id,
                             compact: compact, into: &$0) }
    }

    /// The frames of the snapshots a decision sent, by subscriber name.
    func snapshotFrames(_ body: (inout [SubscriptionMachine<TestSubscriber>.Action]) -> Void) -> [String: Frame] {
        var actions: [SubscriptionMachine<TestSubscriber>.Action] = []
        body(&actions)
        var out: [String: Frame] = [:]
        for case let .sendSnapshot(s, f) in actions { out[s.name] = f }
        return out
    }

    @discardableResult
    func loaded(_ trip: String = "T", seq: Int64, epoch: String = "ep1") -> [PolicyAction] {
        decide { m.snapshotLoaded(trip, .success(tripSnapshot(trip, seq: seq, epoch: epoch)), into: &$0) }
    }

    func loadFailed(_ e: ProtocolError, _ trip: String = "T") -> [PolicyAction] {
        decide { m.snapshotLoaded(trip, .failure(e), into: &$0) }
    }

    @discardableResult
    func unsubscribe(_ s: TestSubscriber, _ trip: String = "T") -> [PolicyAction] {
        decide { m.unsubscribe(s, from: trip, into: &$0) }
    }

    /// The outbox read of `s`'s latest resume answers `seqs` (nil: history gone).
    func outbox(_ s: TestSubscriber, _ trip: String = "T", seqs: [Int64]?, token: Int? = nil) -> [PolicyAction] {
        let events = seqs.map { $0.map { EventFrame(seq: $0, frame: tripEventFrame(tripEvent($0, trip: trip))) } }
        let token = token ?? tokens[ObjectIdentifier(s)] ?? -1
        return decide { m.outboxLoaded(s, tripId: trip, token: token, .success(events), into: &$0) }
    }

    func outboxFailed(_ s: TestSubscriber, _ trip: String = "T") -> [PolicyAction] {
        let token = tokens[ObjectIdentifier(s)] ?? -1
        return decide { m.outboxLoaded(s, tripId: trip, token: token, .failure(ProtocolError(.unavailable, "down")), into: &$0) }
    }

    func token(_ s: TestSubscriber) -> Int? { tokens[ObjectIdentifier(s)] }

    @discardableResult
    func record(_ seq: Int64, seat: String = "1A", _ trip: String = "T") -> PolicyOutcome {
        let e = tripEvent(seq, seat: seat, trip: trip)
        var actions: [SubscriptionMachine<TestSubscriber>.Action] = []
        let outcome = m.record(e, tripEventFrame(e), tripId: trip, into: &actions)
        return PolicyOutcome(outcome, actions: actions)
    }

    /// The listener lost history of the trip.
    @discardableResult
    func reload(_ trip: String = "T") -> [PolicyAction] {
        decide { m.reload(trip, into: &$0) }
    }

    /// Records each event, expecting each to be the trip's next.
    func recordAll(_ seqs: ClosedRange<Int64>, _ trip: String = "T") {
        for seq in seqs {
            if case .deliver = record(seq, trip) { continue }
            Issue.record("event \(seq) was not delivered")
        }
    }

    /// A loaded trip at `seq` followed by `subs`.
    func liveTrip(_ trip: String = "T", seq: Int64, epoch: String = "ep1", _ subs: [TestSubscriber]) {
        for s in subs { subscribe(s, trip) }
        loaded(trip, seq: seq, epoch: epoch)
    }

    var hub: TripHub<TestSubscriber>? { m.hubs["T"] }
}
