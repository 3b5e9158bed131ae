import Foundation
import SeatcastCore
import SeatcastTesting
import Testing

@Suite(.serialized, .timeLimit(.minutes(2)))
struct BroadcastTests {
    /// Twenty subscribers of one trip each get exactly one seat_locked for one reserve, with seq = snapshot seq + 1.
    @Test func twentySubscribersSeeOneLockEach() throws {
        try TestServer.withTrip { server, trip in
            let subs = try (0..<20).map { _ in try server.subscriber(trip) }
            let base = subs[0].1.seq
            #expect(subs.allSatisfy { $0.1.seq == base })

            let actor = try server.client()
            try actor.send(reserveJSON(trip, ["1A"], id: "r1"))
            let reply = try actor.next(type: "reserved")
            #expect(reply["id"]?.stringValue == "r1")
            #expect(reply["seats"]?.strings == ["1A"])
            // A second change marks the end of the window in which a duplicate could show up.
            try actor.send(reserveJSON(trip, ["1B"]))
            _ = try actor.next(type: "reserved")

            for (client, _) in subs {
                let got = try client.collect(until: "seat_locked") { $0.seatNo == "1B" }
                let locks = got.filter { $0.type == "seat_locked" }
                #expect(locks.count == 2)
                #expect(locks.first?.seatNo == "1A")
                #expect(locks.first?.seq == base + 1)
                #expect(locks.last?.seq == base + 2)
                #expect(locks.first?["until"]?.stringValue == reply["until"]?.stringValue)
            }
        }
    }

    /// A hundred clients reserving one seat at once: one reserved, 99 seat_taken, one event each, one holder.
    @Test func hundredClientsOneSeat() throws {
        let db = TestDatabase.shared
        try TestServer.withTrip { server, trip in
            let clients = try (0..<100).map { _ in try server.subscriber(trip).0 }
            sendTogether(clients) { i in reserveJSON(trip, ["5C"], id: "c\(i)") }

            var holds: [String] = []
            var taken = 0
            for (i, c) in clients.enumerated() {
                let r = try c.reply(id: "c\(i)", timeout: 15)
                switch r.type {
                case "reserved": holds.append(r["hold"]?.stringValue ?? "")
                case "rejected":
                    #expect(r["reason"]?.stringValue == "seat_taken")
                    #expect(r["seats"]?.strings == ["5C"])
                    taken += 1
                default: Issue.record("unexpected reply \(r)")
                }
            }
            #expect(holds.count == 1)
            #expect(taken == 99)

            // A marker change closes the window; before it, each client saw exactly one lock of 5C.
            try clients[0].send(reserveJSON(trip, ["6C"], id: "marker"))
            _ = try clients[0].reply(id: "marker", timeout: 10)
            for c in clients {
                let got = try c.collect(until: "seat_locked", timeout: 10) { $0.seatNo == "6C" }
                #expect(got.filter { $0.type == "seat_locked" && $0.seatNo == "5C" }.count == 1)
            }
            let row = try db.sql("""
                SELECT count(*) FILTER (WHERE status = 'held'),
                       bool_and(hold_hash = sha256(convert_to($2, 'UTF8')))
                FROM seats WHERE trip_id = $1 AND seat_no = '5C'
                """, [trip, holds.first ?? ""])
            #expect(row.int(0, 0) == 1)
            #expect(row.string(0, 1) == "t")
        }
    }

    /// Two clients at once wanting [xA,xB] and [xB,xC]: never both, never a partial hold.
    @Test func overlappingMultiSeatReservesNeverBothNeverPartial() throws {
        let db = TestDatabase.shared
        // Each connection ends up holding up to 24 seats: no hold quota here.
        try TestServer.withTrip(configure: { $0.maxHeld = 0 }) { server, trip in
            let a = try server.client(), b = try server.client()
            for row in 1...12 {
                sendTogether([a, b]) { i in
                    i == 0 ? reserveJSON(trip, ["\(row)A", "\(row)B"], id: "a\(row)") : reserveJSON(trip, ["\(row)B", "\(row)C"], id: "b\(row)")
                }
                let ra = try a.reply(id: "a\(row)"), rb = try b.reply(id: "b\(row)")
                let wins = [ra, rb].filter { $0.type == "reserved" }.count
                #expect(wins == 1, "row \(row): \(ra.type ?? "") / \(rb.type ?? "")")
                let loser = ra.type == "reserved" ? rb : ra
                #expect(loser.type == "rejected")
                #expect(loser["seats"]?.strings == ["\(row)B"])
            }
            let snap = try db.snapshot(trip)
            for row in 1...12 {
                let st = { (c: String) in snap.seats.first { $0.seatNo == "\(row)\(c)" }!.status }
                let aWon = st("A") == .held
                #expect(st("B") == .held)
                #expect(aWon != (st("C") == .held), "row \(row) has a partial or double hold")
                #expect(st("D") == .available)
            }
        }
    }

    /// An UPDATE typed straight into the database reaches every subscriber.
    @Test func sqlUpdateIsBroadcast() throws {
        let db = TestDatabase.shared
        try TestServer.withTrip { server, trip in
            let subs = try (0..<3).map { _ in try server.subscriber(trip) }
            try db.sql("UPDATE seats SET status = 'booked' WHERE trip_id = $1 AND seat_no = '7B'", [trip])
            for (c, map) in subs {
                let e = try c.next(type: "seat_booked")
                #expect(e.seatNo == "7B")
                #expect(e.seq == map.seq + 1)
            }
            try db.sql("UPDATE seats SET status = 'available' WHERE trip_id = $1 AND seat_no = '7B'", [trip])
            for (c, map) in subs {
                let e = try c.next(type: "seat_released")
                #expect(e.seatNo == "7B")
                #expect(e["reason"]?.stringValue == "released")
                #expect(e.seq == map.seq + 2)
            }
        }
    }

    /// After a mixed burst from several clients, a new subscriber's snapshot equals an old subscriber's replayed map and the database.
    @Test func snapshotEqualsReplayedMap() throws {
        let db = TestDatabase.shared
        try TestServer.withTrip { server, trip in
            var (observer, map) = try server.subscriber(trip)
            let workers = try (0..<6).map { _ in try server.client() }
            let seats = (1...12).flatMap { r in ["A", "B", "C", "D"].map { "\(r)\($0)" } }
            let holds = workers.indices.map { String(repeating: "h\($0)", count: 8) }
            // Rounds of simultaneous requests: reserves of overlapping seats, confirms, releases.
            for round in 0..<8 {
                sendTogether(workers) { i in
                    let s1 = seats[(round * 5 + i * 7) % seats.count], s2 = seats[(round * 11 + i * 3) % seats.count]
                    switch (round + i) % 4 {
                    case 0, 1: return reserveJSON(trip, s1 == s2 ? [s1] : [s1, s2], hold: holds[i], id: "w\(round)-\(i)")
                    case 2: return #"{"type":"release","tripId":"\#(trip)","hold":"\#(holds[i])","seats":["\#(s1)"],"id":"w\#(round)-\#(i)"}"#
                    default: return #"{"type":"confirm","tripId":"\#(trip)","hold":"\#(holds[i])","id":"w\#(round)-\#(i)"}"#
                    }
                }
                for (i, w) in workers.enumerated() {
                    let r = try w.reply(id: "w\(round)-\(i)", timeout: 10)
                    #expect(["reserved", "rejected", "released", "confirmed"].contains(r.type ?? ""), "\(r)")
                }
            }
            // A reply can arrive before its event has been fanned out, so the database may be
            // ahead of any snapshot: compare at equal seqs.
            let (fresh, freshMap) = try server.subscriber(trip)
            _ = fresh
            #expect(freshMap.seq > map.seq)
            while map.seq < freshMap.seq {
                try map.apply(try observer.next(timeout: 10))
            }
            #expect(map.seq == freshMap.seq)
            #expect(map.map.snapshot.seats == freshMap.map.snapshot.seats)
            let dbSnap = try db.snapshot(trip)
            #expect(dbSnap.seq >= freshMap.seq)
            while map.seq < dbSnap.seq {
                try map.apply(try observer.next(timeout: 10))
            }
            #expect(map.map.snapshot.seats == dbSnap.seats)
            observer.close()
        }
    }
}
