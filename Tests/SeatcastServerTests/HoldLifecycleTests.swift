import Foundation
import SeatcastCore
import SeatcastTesting
import Testing

@Suite(.timeLimit(.minutes(1)))
struct HoldLifecycleTests {
    /// Confirm and release answer as docs/PROTOCOL.md says (idempotent, default to the hold's seats) and broadcast seat_booked and seat_released.
    @Test func confirmAndRelease() throws {
        let db = TestDatabase.shared
        try TestServer.withTrip { server, trip in
            let (sub, map0) = try server.subscriber(trip)
            var map = map0
            let c = try server.client()
            let hold = "lifecycle-hold-000001"
            try c.send(reserveJSON(trip, ["1A", "1B", "1C"], hold: hold, id: "r"))
            #expect(try c.reply(id: "r").type == "reserved")

            try c.send(#"{"type":"confirm","tripId":"\#(trip)","hold":"\#(hold)","seats":["1A"],"id":"c1"}"#)
            let c1 = try c.reply(id: "c1")
            #expect(c1.type == "confirmed")
            #expect(c1["seats"]?.strings == ["1A"])
            try c.send(#"{"type":"confirm","tripId":"\#(trip)","hold":"\#(hold)","seats":["1A"],"id":"c2"}"#)
            #expect(try c.reply(id: "c2")["seats"]?.strings == ["1A"])

            try c.send(#"{"type":"release","tripId":"\#(trip)","hold":"\#(hold)","seats":["1B"],"id":"x1"}"#)
            #expect(try c.reply(id: "x1")["seats"]?.strings == ["1B"])
            try c.send(#"{"type":"release","tripId":"\#(trip)","hold":"\#(hold)","seats":["1B"],"id":"x2"}"#)
            let x2 = try c.reply(id: "x2")
            #expect(x2.type == "released")
            #expect(x2["seats"]?.strings == [])

            // Defaults: every seat of the hold on the trip.
            try c.send("confirm \(trip) \(hold)")
            let c3 = try c.next(type: "confirmed")
            #expect(c3["seats"]?.strings == ["1A", "1C"])
            try c.send(#"{"type":"confirm","tripId":"\#(trip)","hold":"stranger-hold-0000001","id":"s"}"#)
            let s = try c.reply(id: "s")
            #expect(s.type == "rejected")
            #expect(s["reason"]?.stringValue == "not_held")
            try c.send(#"{"type":"release","tripId":"\#(trip)","hold":"stranger-hold-0000001","id":"s2"}"#)
            #expect(try c.reply(id: "s2")["seats"]?.strings == [])

            // Subscribers saw: 3 locks, booked 1A, released 1B (reason released), booked 1C, and nothing for the retries.
            try c.send(reserveJSON(trip, ["9D"], id: "marker"))
            _ = try c.reply(id: "marker")
            let got = try sub.collect(until: "seat_locked") { $0.seatNo == "9D" }
            let kinds = got.filter { $0.type?.hasPrefix("seat_") == true }.map { "\($0.type!):\($0.seatNo!)" }
            #expect(kinds == ["seat_locked:1A", "seat_locked:1B", "seat_locked:1C", "seat_booked:1A",
                              "seat_released:1B", "seat_booked:1C", "seat_locked:9D"])
            #expect(got.first { $0.type == "seat_released" }?["reason"]?.stringValue == "released")
            for j in got { try map.apply(j) }
            #expect(map.map.snapshot.seats == (try db.snapshot(trip)).seats)
        }
    }

    /// Holds expire after HOLD_TTL: subscribers get seat_released with reason expired once, and a late confirm gets hold_expired.
    @Test func holdsExpire() throws {
        try TestServer.withTrip(configure: { $0.holdTTL = 0.5; $0.sweepInterval = 0.1 }) { server, trip in
            let (sub, _) = try server.subscriber(trip)
            let c = try server.client()
            let hold = "expiring-hold-0000001"
            try c.send(reserveJSON(trip, ["2A", "2B"], hold: hold, id: "r"))
            let r = try c.reply(id: "r")
            #expect(r.type == "reserved")
            var released: [String] = []
            while released.count < 2 {
                let e = try sub.next(type: "seat_released", timeout: 10)
                #expect(e["reason"]?.stringValue == "expired")
                released.append(e.seatNo ?? "")
            }
            #expect(released.sorted() == ["2A", "2B"])
            try c.send(#"{"type":"confirm","tripId":"\#(trip)","hold":"\#(hold)","id":"late"}"#)
            let late = try c.reply(id: "late")
            #expect(late.type == "rejected")
            #expect(late["reason"]?.stringValue == "hold_expired")
            // Nothing more about 2A/2B before a marker.
            try c.send(reserveJSON(trip, ["9A"], id: "m"))
            _ = try c.reply(id: "m")
            let rest = try sub.collect(until: "seat_locked") { $0.seatNo == "9A" }
            #expect(rest.filter { $0.type == "seat_released" }.isEmpty)
            #expect(rest.filter { $0.type == "seat_locked" }.map(\.seatNo) == ["2A", "2B", "9A"])
        }
    }

    /// An expired hold's seat can be reserved by someone else at once, before any sweep, and the first hold's confirm then says hold_expired.
    @Test func expiredSeatCanBeTakenImmediately() throws {
        let db = TestDatabase.shared
        try TestServer.withTrip(configure: { $0.sweepInterval = 3600 }) { server, trip in
            let a = try server.client(), b = try server.client()
            try a.send(reserveJSON(trip, ["3A"], hold: "first-hold-000000001", id: "a"))
            #expect(try a.reply(id: "a").type == "reserved")
            try b.send(reserveJSON(trip, ["3A"], hold: "second-hold-00000001", id: "b0"))
            #expect(try b.reply(id: "b0")["reason"]?.stringValue == "seat_taken")
            try db.sql("UPDATE seats SET until = now() - interval '1 second' WHERE trip_id = $1 AND seat_no = '3A'", [trip])
            try b.send(reserveJSON(trip, ["3A"], hold: "second-hold-00000001", id: "b1"))
            #expect(try b.reply(id: "b1").type == "reserved")
            try a.send(#"{"type":"confirm","tripId":"\#(trip)","hold":"first-hold-000000001","id":"ac"}"#)
            #expect(try a.reply(id: "ac")["reason"]?.stringValue == "hold_expired")
            try b.send(#"{"type":"confirm","tripId":"\#(trip)","hold":"second-hold-00000001","id":"bc"}"#)
            #expect(try b.reply(id: "bc").type == "confirmed")
        }
    }

    /// A reserve that takes a seat whose hold expired before any sweep released it is the only event: subscribers see seat_locked (seq n), then seat_locked (seq n+1) with the new until, and no seat_released in between.
    @Test func takingAnExpiredSeatIsOneSeatLocked() throws {
        let db = TestDatabase.shared
        // This server never sweeps after its start; other suites' servers (same database, running
        // in parallel) sweep every second, so the test keeps them off the seat with a row lock
        // (their sweep skips locked rows) until the reserve is queued behind it. The TTL leaves
        // time to take that lock before the hold ends, on a loaded machine too (1.5 s did not:
        // a sweeper got the seat first in 1 of 10 full runs).
        try TestServer.withTrip(configure: { $0.holdTTL = 5; $0.sweepInterval = 3600 }) { server, trip in
            let (sub, map) = try server.subscriber(trip)
            let n = map.seq + 1
            let a = try server.client(), b = try server.client()
            let holdA = "expiring-first-hold-01", holdB = "taking-second-hold-001"
            let locker = try db.connect(), observer = try db.connect()

            try a.send(reserveJSON(trip, ["3A"], hold: holdA, id: "a"))
            let ra = try a.reply(id: "a")
            #expect(ra.type == "reserved")
            let untilA = try #require(ra["until"]?.stringValue)

            try locker.exec("BEGIN")
            let lockerPid = try #require(try locker.exec("SELECT pg_backend_pid()").string(0, 0))
            try locker.exec("SELECT 1 FROM seats WHERE trip_id = $1 AND seat_no = '3A' FOR UPDATE", [trip])
            try waitFor("the hold on 3A to expire", timeout: 10) {
                try observer.exec("SELECT until <= now() FROM seats WHERE trip_id = $1 AND seat_no = '3A'", [trip]).string(0, 0) == "t"
            }
            #expect(try db.sql("SELECT status FROM seats WHERE trip_id = $1 AND seat_no = '3A'", [trip]).string(0, 0) == "held")

            try b.send(reserveJSON(trip, ["3A"], hold: holdB, id: "b"))
            try waitFor("the reserve to wait for the row lock", timeout: 10) {
                try observer.exec("SELECT count(*) FROM pg_stat_activity WHERE $1::int = ANY (pg_blocking_pids(pid))",
                                  [lockerPid]).int(0, 0) ?? 0 > 0
            }
            try locker.exec("COMMIT")
            let rb = try b.reply(id: "b", timeout: 10)
            #expect(rb.type == "reserved")
            let untilB = try #require(rb["until"]?.stringValue)
            #expect(untilB > untilA)

            try a.send(reserveJSON(trip, ["9A"], id: "marker"))
            #expect(try a.reply(id: "marker").type == "reserved")
            let got = try sub.collect(until: "seat_locked") { $0.seatNo == "9A" }
            let events = got.filter { $0.type?.hasPrefix("seat_") == true }
                .map { "\($0.type!) \($0.seatNo!) \($0.seq.map(String.init) ?? "-") \($0["until"]?.stringValue ?? "-")" }
            #expect(events == ["seat_locked 3A \(n) \(untilA)", "seat_locked 3A \(n + 1) \(untilB)",
                               "seat_locked 9A \(n + 2) \(got.last?["until"]?.stringValue ?? "-")"])

            // The database agrees: B's hold with the new until, and no expiry in the outbox.
            let row = try db.sql("""
                SELECT status, hold_hash = sha256(convert_to($2, 'UTF8')),
                       to_char(until AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
                  FROM seats WHERE trip_id = $1 AND seat_no = '3A'
                """, [trip, holdB])
            #expect(row.string(0, 0) == "held")
            #expect(row.string(0, 1) == "t")
            #expect(row.string(0, 2) == untilB)
            let log = try db.sql("SELECT seq, seat_no, kind FROM seat_events WHERE trip_id = $1 ORDER BY seq", [trip])
            #expect((0..<log.rowCount).map { "\(log.string($0, 0)!) \(log.string($0, 1)!) \(log.string($0, 2)!)" }
                    == ["\(n) 3A locked", "\(n + 1) 3A locked", "\(n + 2) 9A locked"])
            // A's hold ended by expiry: its late confirm says so.
            try a.send(#"{"type":"confirm","tripId":"\#(trip)","hold":"\#(holdA)","id":"ac"}"#)
            #expect(try a.reply(id: "ac")["reason"]?.stringValue == "hold_expired")
        }
    }

    /// The audit of a healthy trip is empty; one corrupted behind the triggers' back shows violations, counted in /metrics.
    @Test func audit() throws {
        let db = TestDatabase.shared
        try TestServer.withTrip { server, trip in
            let c = try server.client()
            try c.send(reserveJSON(trip, ["4A", "4B"], hold: "audit-hold-000000001", id: "r"))
            _ = try c.reply(id: "r")
            try c.send("confirm \(trip) audit-hold-000000001 4A")
            _ = try c.next(type: "confirmed")
            let clean = try server.http("GET", "/api/trips/\(trip)/audit")
            #expect(clean.status == 200)
            #expect(clean.body == #"{"tripId":"\#(trip)","violations":[]}"#)

            // Bypass every trigger, as a careless operator could: no event, no booking row.
            let conn = try db.connect()
            try conn.exec("SET session_replication_role = replica")
            try conn.exec("UPDATE seats SET status = 'booked', hold_hash = '\\x00'::bytea WHERE trip_id = $1 AND seat_no = '4B'", [trip])
            let bad = try server.http("GET", "/api/trips/\(trip)/audit")
            let violations = try JSON.parse(bad.body)["violations"]?.arrayValue ?? []
            let problems = Set(violations.compactMap { $0["problem"]?.stringValue })
            #expect(problems.contains("booked seat without its booking"))
            #expect(problems.contains("status disagrees with the event log"))
            #expect(violations.allSatisfy { $0["seatNo"]?.stringValue == "4B" })
            let m = try server.http("GET", "/metrics").body
            #expect(m.contains("seatcast_audit_violations_total \(violations.count)"))
            #expect(try server.http("GET", "/api/trips/no-such-trip/audit").status == 404)
        }
    }

    /// The UNIQUE constraint on bookings refuses a second booking of a seat even when the conditional updates are bypassed.
    @Test func bookingsAreUnique() throws {
        let db = TestDatabase.shared
        let trip = try db.createTrip()
        try db.sql("UPDATE seats SET status = 'booked', hold_hash = '\\x01'::bytea WHERE trip_id = $1 AND seat_no = '5A'", [trip])
        #expect(throws: (any Error).self) {
            try db.sql("INSERT INTO bookings (trip_id, seat_no) VALUES ($1, '5A')", [trip])
        }
        let n = try db.sql("SELECT count(*) FROM bookings WHERE trip_id = $1", [trip]).int(0, 0)
        #expect(n == 1)
    }
}
