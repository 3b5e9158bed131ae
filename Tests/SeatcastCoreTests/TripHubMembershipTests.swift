import Testing
@testable import SeatcastCore

/// The hub's bookkeeping behind O(1) joins and leaves (positions of live subscribers, the
/// set of waiting and resuming ones) stays exact under every mix of operations.
@Suite struct TripHubMembershipTests {
    /// Random subscribes (fresh and resuming), unsubscribes, loads, outbox answers, events, gaps, reloads, resyncs and overflows keep each trip's subscribers exactly those the test subscribed, each in one list once.
    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func membershipMatchesAModel(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var m = SubscriptionMachine<TestSubscriber>(policy: .init(ringCapacity: 4, maxResumeBufferBytes: 600))
        let subs = (0..<24).map { TestSubscriber("s\($0)") }
        let trips = ["T1", "T2", "T3"]
        var following: [String: Set<ObjectIdentifier>] = [:]
        var seq: [String: Int64] = ["T1": 5, "T2": 5, "T3": 5]
        var outboxReads: [(TestSubscriber, String, Int)] = []
        for _ in 0..<4000 {
            var actions: [SubscriptionMachine<TestSubscriber>.Action] = []
            let trip = trips[Int.random(in: 0..<trips.count, using: &rng)]
            let s = subs[Int.random(in: 0..<subs.count, using: &rng)]
            switch Int.random(in: 0..<10, using: &rng) {
            case 0, 1, 2:
                let since = Bool.random(using: &rng)
                    ? StreamPosition(epoch: "ep1", seq: Int64.random(in: 0...(seq[trip]! + 1), using: &rng)) : nil
                m.subscribe(s, to: trip, since: since, id: nil, compact: Bool.random(using: &rng), into: &actions)
                following[trip, default: []].insert(ObjectIdentifier(s))
            case 3, 4:
                m.unsubscribe(s, from: trip, into: &actions)
                following[trip, default: []].remove(ObjectIdentifier(s))
            case 5:
                m.snapshotLoaded(trip, .success(tripSnapshot(trip, seq: seq[trip]!)), into: &actions)
            case 6:
                if let i = outboxReads.indices.randomElement(using: &rng) {
                    let (r, t, token) = outboxReads.remove(at: i)
                    m.outboxLoaded(r, tripId: t, token: token, Bool.random(using: &rng) ? .success(nil) : .success([]), into: &actions)
                }
            case 7:
                if m.isLoaded(trip) {
                    seq[trip]! += Int64.random(in: 1...2, using: &rng)  // sometimes a gap
                    let e = tripEvent(seq[trip]!, trip: trip)
                    _ = m.record(e, tripEventFrame(e), tripId: trip, into: &actions)
                }
            case 8:
                if Bool.random(using: &rng) {
                    m.reload(trip, into: &actions)
                } else if following[trip, default: []].contains(ObjectIdentifier(s)) {
                    _ = m.resyncSnapshot(for: s, tripId: trip)
                }
            default:
                if following[trip, default: []].contains(ObjectIdentifier(s)) { m.queueOverflowed(s, tripIds: [trip]) }
            }
            for a in actions {
                switch a {
                case let .loadOutbox(r, tripId, _, _, _, token): outboxReads.append((r, tripId, token))
                case let .fail(r, tripId, _): following[tripId, default: []].remove(ObjectIdentifier(r))
                default: break
                }
            }
            for t in trips {
                let hub = m.hubs[t]
                let live = hub?.live.map(ObjectIdentifier.init) ?? []
                let waiting = hub?.waiting.map { ObjectIdentifier($0.subscriber) } ?? []
                let resuming = hub?.resuming.map { ObjectIdentifier($0.subscriber) } ?? []
                let all = live + waiting + resuming
                #expect(Set(all).count == all.count, "someone is twice in \(t)'s lists")
                #expect(Set(all) == following[t, default: []], "\(t)'s subscribers differ from the model")
                if Set(all).count != all.count || Set(all) != following[t, default: []] { return }
            }
        }
    }
}
