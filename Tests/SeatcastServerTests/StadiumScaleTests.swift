import Foundation
import SeatcastCore
import SeatcastTesting
import SeatcastPostgres
import Testing

// Stadium scale (issue 12): a 100,000-seat trip created, subscribed compact, reserved,
// confirmed and released by hold (no seats listed: the partial index on held seats),
// swept (the index on until) and audited; and `GET /api/trips` paging.

@Suite(.timeLimit(.minutes(2)))
struct StadiumScaleTests {
    @Test func hundredThousandSeats() throws {
        let db = TestDatabase.shared
        try TestServer.withTrip(rows: 400, cols: 250, name: "Stadium 400 x 250",
                                configure: { $0.sweepInterval = 0.1 }) { server, trip in
            let c = try server.client("/ws/trips/\(trip)?compact=1")
            let snap = try c.next(type: "snapshot", timeout: 20)
            #expect(snap["compact"] == .bool(true))
            #expect(snap["status"]?.stringValue?.utf8.count == 100_000)
            var map = try ClientMap(snapshot: snap)
            #expect(map.map.snapshot == (try db.snapshot(trip)))
            var events = 0
            func follow(_ type: String) throws {
                try map.apply(try c.next(type: type, timeout: 10))
                events += 1
            }

            // A hold of 3 seats far apart, confirmed without listing them.
            try c.send(reserveJSON(trip, ["1-1", "200-125", "400-250"], hold: "stadium-hold-0000001", id: "r1"))
            #expect(try c.reply(id: "r1").type == "reserved")
            for _ in 0..<3 { try follow("seat_locked") }
            try c.send(#"{"type":"confirm","tripId":"\#(trip)","hold":"stadium-hold-0000001","id":"c1"}"#)
            #expect(try c.reply(id: "c1")["seats"]?.strings.sorted() == ["1-1", "200-125", "400-250"])
            for _ in 0..<3 { try follow("seat_booked") }

            // A hold released without listing its seats.
            try c.send(reserveJSON(trip, ["399-1", "399-2"], hold: "stadium-hold-0000002", id: "r2"))
            #expect(try c.reply(id: "r2").type == "reserved")
            for _ in 0..<2 { try follow("seat_locked") }
            try c.send(#"{"type":"release","tripId":"\#(trip)","hold":"stadium-hold-0000002","id":"x2"}"#)
            #expect(try c.reply(id: "x2")["seats"]?.strings.count == 2)
            for _ in 0..<2 { try follow("seat_released") }

            // A hold the sweep expires (its until moved into the past, as time would).
            try c.send(reserveJSON(trip, ["123-45"], hold: "stadium-hold-0000003", id: "r3"))
            #expect(try c.reply(id: "r3").type == "reserved")
            try follow("seat_locked")
            try db.sql("UPDATE seats SET until = now() - interval '1 second' WHERE trip_id = $1 AND seat_no = '123-45'", [trip])
            // The new until is itself an event (seat_locked), then the sweep releases the seat.
            try follow("seat_locked")
            let expired = try c.next(type: "seat_released", timeout: 10)
            #expect(expired["reason"]?.stringValue == "expired")
            try map.apply(expired)

            #expect(map.differences(from: try db.snapshot(trip)).isEmpty)
            let audit = try server.http("GET", "/api/trips/\(trip)/audit")
            #expect(audit.status == 200)
            #expect(try JSON.parse(audit.body)["violations"]?.arrayValue?.isEmpty == true)
            // A late compact subscriber and HTTP agree with the follower.
            let late = try ClientMap.parseSnapshot(try JSON.parse(try server.http("GET", "/api/trips/\(trip)?compact=1").body))
            #expect(late == map.map.snapshot)
            #expect(events == 12)
        }
    }

    /// Without `limit` or `after`, `GET /api/trips` is the whole list, as in version 1
    /// (no `next`), however many trips there are: 150 trips of this test among them.
    @Test func wholeListWithoutPaging() throws {
        let db = TestDatabase.shared
        let prefix = "zz-all-\(UInt32.random(in: 0...UInt32.max))"
        let ids = (1...150).map { String(format: "\(prefix)-%03d", $0) }
        let c = try db.connect()
        for id in ids { _ = try SeatStore(c).createTrip(id: id, name: "All \(id)", rows: 1, cols: 1) }
        try TestServer.withTrip { server, _ in
            let r = try server.http("GET", "/api/trips")
            #expect(r.status == 200)
            let j = try JSON.parse(r.body)
            let listed = (j["trips"]?.arrayValue ?? []).compactMap { $0["tripId"]?.stringValue }
            #expect(listed.count > 150)
            #expect(listed.filter { $0.hasPrefix(prefix) } == ids)
            #expect(listed == listed.sorted())
            #expect(j["next"] == nil)
            // `after` alone pages with the default size.
            let paged = try JSON.parse(try server.http("GET", "/api/trips?after=\(prefix)-000").body)
            #expect(paged["trips"]?.arrayValue?.count == 100)
            #expect(paged["next"]?.stringValue == "\(prefix)-100")
        }
    }

    /// `?limit=&after=`: pages in trip id order, `next` while more follow; bad values are 400.
    @Test func tripsPaging() throws {
        let db = TestDatabase.shared
        let prefix = "zz-page-\(UInt32.random(in: 0...UInt32.max))"
        let ids = (1...5).map { "\(prefix)-\($0)" }
        for id in ids { _ = try SeatStore(try db.connect()).createTrip(id: id, name: "Page \(id)", rows: 1, cols: 2) }
        try TestServer.withTrip { server, _ in
            var seen: [String] = []
            var after = "\(prefix)-0"
            var pages = 0
            while pages < 10 {
                let r = try server.http("GET", "/api/trips?limit=2&after=\(after)")
                #expect(r.status == 200)
                let j = try JSON.parse(r.body)
                let trips = j["trips"]?.arrayValue ?? []
                #expect(trips.count <= 2)
                seen += trips.compactMap { $0["tripId"]?.stringValue }
                pages += 1
                guard let next = j["next"]?.stringValue else { break }
                #expect(next == seen.last)
                after = next
            }
            #expect(Array(seen.prefix(5)) == ids)
            #expect(seen == seen.sorted())
            let first = try JSON.parse(try server.http("GET", "/api/trips?limit=1").body)
            #expect(first["trips"]?.arrayValue?.count == 1)
            #expect(first["next"]?.stringValue != nil)
            for bad in ["limit=0", "limit=1001", "limit=x", "after=no%20such"] {
                #expect(try server.http("GET", "/api/trips?\(bad)").status == 400, "\(bad)")
            }
        }
    }
}
