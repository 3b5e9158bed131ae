import Foundation
import SeatcastCore
import SeatcastTesting
import Testing

/// Two real `seatcast serve` processes on one database: every change, whichever instance
/// (or expiry sweep) made it, reaches every subscriber of both exactly once, in seq order.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct MultiInstanceTests {
    /// Two instances on the shared database, with `perInstance` subscribers of `trip` on each.
    private func twoInstances(_ trip: String, perInstance: Int = 4, environment: [String: String] = [:]) throws
        -> (a: ServerProcess, b: ServerProcess, followers: [SeatFollower]) {
        let url = TestDatabase.shared.url
        let a = try ServerProcess(databaseURL: url, environment: environment)
        let b = try ServerProcess(databaseURL: url, environment: environment)
        var followers: [SeatFollower] = []
        for i in 0..<perInstance {
            followers.append(try a.follower(trip, name: "A\(i)"))
            followers.append(try b.follower(trip, name: "B\(i)"))
        }
        return (a, b, followers)
    }

    /// Every follower, caught up, holds the database's map of the trip.
    private func expectMapsEqualDatabase(_ followers: [SeatFollower], _ trip: String) throws {
        let snap = try TestDatabase.shared.snapshot(trip)
        for f in followers {
            try f.catchUp(to: snap.seq)
            let diff = f.differences(from: snap)
            #expect(diff.isEmpty, "\(f.name) differs from the database: \(diff.prefix(6))")
            #expect(f.map.map.snapshot == snap, "\(f.name)")
        }
    }

    private func expectCleanStreams(_ followers: [SeatFollower]) {
        for f in followers {
            #expect(f.duplicates.isEmpty, "\(f.name) got duplicates: \(f.duplicates.map(\.compact))")
            #expect(f.resubscribes == 0, "\(f.name) saw seq gaps \(f.gaps)")
            #expect(f.unaskedSnapshots == 0, "\(f.name) got \(f.unaskedSnapshots) unasked snapshot(s)")
            #expect(f.errors.isEmpty, "\(f.name) got errors \(f.errors.map(\.compact))")
        }
    }

    private func stop(_ servers: ServerProcess...) throws {
        for s in servers {
            let status = try s.terminate()
            #expect(status == 0, "exit \(status): \(s.log)")
        }
    }

    /// The end of each test: clean streams, every map equal to the database, both instances
    /// stopped cleanly, and the test's duration printed.
    private func finish(_ a: ServerProcess, _ b: ServerProcess, _ followers: [SeatFollower], _ trip: String,
                        started: Date, test: String = #function) throws {
        expectCleanStreams(followers)
        try expectMapsEqualDatabase(followers, trip)
        try stop(a, b)
        print("MultiInstanceTests.\(test.prefix { $0 != "(" }): \(durationText(since: started))")
    }

    /// A reserve through instance A, then one through B (then B's HTTP API, and B confirming A's hold), each reach every subscriber of both instances exactly once with the next seq.
    @Test func reserveThroughEitherInstanceReachesEverySubscriber() throws {
        let start = Date()
        let db = TestDatabase.shared
        let trip = try db.createTrip()
        let (a, b, followers) = try twoInstances(trip)
        let base = try db.snapshot(trip).seq
        for f in followers { #expect(f.initialSeq == base, "\(f.name): snapshot seq \(f.initialSeq), database \(base)") }

        let actorA = try a.client(), actorB = try b.client()
        // Through A, then through B: every follower gets each lock once, with the next seq.
        var replies: [JSON] = []
        for (i, (actor, seat)) in [(actorA, "1A"), (actorB, "1B")].enumerated() {
            try actor.send(reserveJSON(trip, [seat], id: "r\(seat)"))
            let r = try actor.reply(id: "r\(seat)", timeout: 10)
            #expect(r.type == "reserved", "\(r.compact)")
            for f in followers {
                let e = try f.waitForEvent("seat_locked", seat: seat)
                #expect(e.seq == base + Int64(i) + 1, "\(f.name): \(e.compact)")
                #expect(e["until"]?.stringValue == r["until"]?.stringValue, "\(f.name)")
            }
            replies.append(r)
        }
        let ra = replies[0]

        // The HTTP API of B, and a confirm on B of the hold A made, reach everyone too.
        let http = try b.http("POST", "/api/trips/\(trip)/reserve", body: #"{"seats":["1C"],"id":"h1"}"#)
        #expect(http.status == 200, "\(http.body)")
        let hold = ra["hold"]?.stringValue ?? ""
        try actorB.send(#"{"type":"confirm","tripId":"\#(trip)","hold":"\#(hold)","id":"cb"}"#)
        let cb = try actorB.reply(id: "cb", timeout: 10)
        #expect(cb.type == "confirmed" && cb["seats"]?.strings == ["1A"], "\(cb.compact)")

        // A marker change closes the window in which a duplicate could still arrive.
        try actorA.send(reserveJSON(trip, ["2A"], id: "marker"))
        #expect(try actorA.reply(id: "marker", timeout: 10).type == "reserved")
        for f in followers {
            try f.waitForEvent("seat_locked", seat: "2A")
            #expect(f.events("seat_locked", seat: "1A").count == 1, "\(f.name)")
            #expect(f.events("seat_locked", seat: "1B").count == 1, "\(f.name)")
            let got = f.received.map { "\($0.seq ?? -1) \($0.type ?? "") \($0.seatNo ?? "")" }
            #expect(got == ["\(base + 1) seat_locked 1A", "\(base + 2) seat_locked 1B", "\(base + 3) seat_locked 1C",
                            "\(base + 4) seat_booked 1A", "\(base + 5) seat_locked 2A"], "\(f.name)")
        }
        try finish(a, b, followers, trip, started: start)
    }

    /// Twenty clients on each instance reserve one seat at the same moment: one reserved, 39 seat_taken, and every subscriber of both sees one seat_locked.
    @Test func simultaneousReservesOnBothInstancesHaveOneWinner() throws {
        let start = Date()
        let db = TestDatabase.shared
        let trip = try db.createTrip()
        let (a, b, followers) = try twoInstances(trip)
        let onA = try (0..<20).map { _ in try a.client() }
        let onB = try (0..<20).map { _ in try b.client() }
        let all = onA + onB
        sendTogether(all) { i in reserveJSON(trip, ["5C"], id: "c\(i)") }

        var winners: [(Int, JSON)] = []
        var taken = 0
        for (i, c) in all.enumerated() {
            let r = try c.reply(id: "c\(i)", timeout: 15)
            switch r.type {
            case "reserved":
                winners.append((i, r))
            case "rejected":
                #expect(r["reason"]?.stringValue == "seat_taken", "\(r.compact)")
                #expect(r["seats"]?.strings == ["5C"], "\(r.compact)")
                taken += 1
            default:
                Issue.record("client \(i) (instance \(i < 20 ? "A" : "B")): unexpected reply \(r.compact)")
            }
        }
        #expect(winners.count == 1, "winners: \(winners.map { "\($0.0): \($0.1.compact)" })")
        #expect(taken == 39)

        try onA[0].send(reserveJSON(trip, ["6C"], id: "marker"))
        #expect(try onA[0].reply(id: "marker", timeout: 10).type == "reserved")
        for f in followers {
            try f.waitForEvent("seat_locked", seat: "6C")
            let locks = f.events("seat_locked", seat: "5C")
            #expect(locks.count == 1, "\(f.name): \(locks.count) seat_locked for 5C")
            #expect(locks.first?["until"]?.stringValue == winners.first?.1["until"]?.stringValue, "\(f.name)")
            #expect(f.received.count == 2, "\(f.name): \(f.received.map(\.compact))")
        }
        let row = try db.sql("""
            SELECT count(*) FILTER (WHERE status = 'held'),
                   bool_and(hold_hash = sha256(convert_to($2, 'UTF8')))
            FROM seats WHERE trip_id = $1 AND seat_no = '5C'
            """, [trip, winners.first?.1["hold"]?.stringValue ?? ""])
        #expect(row.int(0, 0) == 1)
        #expect(row.string(0, 1) == "t", "5C is not held by the winner's hold")
        try finish(a, b, followers, trip, started: start)
    }

    /// With HOLD_TTL=1 on two sweeping instances, every subscriber of both gets exactly one seat_released (expired) per expired seat.
    @Test func expiryWithTwoSweepingInstancesIsBroadcastOnce() throws {
        let start = Date()
        let db = TestDatabase.shared
        let trip = try db.createTrip()
        let (a, b, followers) = try twoInstances(trip, environment: ["HOLD_TTL": "1"])
        let seats = ["3A", "3B", "3C", "4D"]
        let actor = try a.client()
        try actor.send(reserveJSON(trip, ["3A", "3B", "3C"], id: "r1"))
        #expect(try actor.reply(id: "r1", timeout: 10).type == "reserved")
        try actor.send(reserveJSON(trip, ["4D"], id: "r2"))
        let r2 = try actor.reply(id: "r2", timeout: 10)
        #expect(r2.type == "reserved")
        // The hold lasts HOLD_TTL: about one second from now.
        let until = try #require(r2["until"]?.stringValue.flatMap(ClientMap.parseMs), "no until in \(r2.compact)")
        let left = Double(until) / 1000 - Date().timeIntervalSince1970
        #expect(left > 0 && left <= 1.5, "hold until is \(left)s away; HOLD_TTL=1 not applied?")

        for f in followers {
            for s in seats {
                try f.waitForEvent("seat_released", seat: s, timeout: 10)
            }
        }
        // A change straight in SQL marks the end of the window for duplicates.
        try db.sql("UPDATE seats SET status = 'booked' WHERE trip_id = $1 AND seat_no = '12D'", [trip])
        for f in followers {
            try f.waitForEvent("seat_booked", seat: "12D", timeout: 10)
            for s in seats {
                let released = f.events("seat_released", seat: s)
                #expect(released.count == 1, "\(f.name) \(s): \(released.map(\.compact))")
                #expect(released.first?["reason"]?.stringValue == "expired", "\(f.name) \(s): \(released.map(\.compact))")
                #expect(f.events("seat_locked", seat: s).count == 1, "\(f.name) \(s)")
            }
            #expect(f.received.count == 2 * seats.count + 1, "\(f.name): \(f.received.map(\.compact))")
        }
        try finish(a, b, followers, trip, started: start)
    }

    /// A client that followed the trip on instance A, disconnected and missed changes, resumes on B with `since` and gets exactly the missed events.
    @Test func resumeOnTheOtherInstance() throws {
        let start = Date()
        let db = TestDatabase.shared
        let trip = try db.createTrip()
        let (a, b, followers) = try twoInstances(trip, perInstance: 1)
        let actor = try a.client()
        try actor.send(reserveJSON(trip, ["7A"], id: "r0"))
        #expect(try actor.reply(id: "r0", timeout: 10).type == "reserved")
        let leaver = followers[0]
        #expect(leaver.name == "A0")
        try leaver.waitForEvent("seat_locked", seat: "7A")
        var map = leaver.map
        leaver.client.close()

        for (i, seat) in ["7B", "7C", "7D"].enumerated() {
            try actor.send(reserveJSON(trip, [seat], id: "r\(i + 1)"))
            #expect(try actor.reply(id: "r\(i + 1)", timeout: 10).type == "reserved")
        }
        let stayer = followers[1]
        try stayer.waitForEvent("seat_locked", seat: "7D")

        let c = try b.client()
        try c.send(resumeJSON(trip, epoch: map.map.epoch, seq: map.seq, id: "s1"))
        let first = try c.next(timeout: 10)
        #expect(first.type == "subscribed", "expected a replay, got \(first.compact)")
        #expect(first.seq == map.seq)
        var replayed: [JSON] = []
        while replayed.count < 3 { replayed.append(try c.next(timeout: 10)) }
        #expect(replayed.map { $0.seatNo ?? "" } == ["7B", "7C", "7D"], "\(replayed.map(\.compact))")
        #expect(replayed.map { $0.seq ?? -1 } == [map.seq + 1, map.seq + 2, map.seq + 3])
        for e in replayed { try map.apply(e) }
        #expect(map.map.snapshot == (try db.snapshot(trip)))
        // Nothing more was pending: the next thing is the pong of a barrier.
        #expect(try c.roundTrip(timeout: 10).isEmpty)
        try stop(a, b)
        print("MultiInstanceTests.resumeOnTheOtherInstance: \(durationText(since: start))")
    }
}
