import Foundation
import Synchronization
import SeatcastCore
import SeatcastTesting
import Testing

@Suite(.timeLimit(.minutes(1)))
struct HTTPTests {
    /// GET /api/trips lists trips with seat counts, and GET /api/trips/{id} is the WebSocket snapshot.
    @Test func tripsAndSnapshot() throws {
        let db = TestDatabase.shared
        try TestServer.withTrip(rows: 2, cols: 3, name: "HTTP trip") { server, trip in
            // The list comes in pages (other suites' trips share the database): follow `next`.
            var trips: [JSON] = []
            var after: String?
            repeat {
                let list = try server.http("GET", "/api/trips?limit=1000" + (after.map { "&after=\($0)" } ?? ""))
                #expect(list.status == 200)
                let page = try JSON.parse(list.body)
                trips += page["trips"]?.arrayValue ?? []
                after = page["next"]?.stringValue
            } while after != nil
            let mine = trips.first { $0["tripId"]?.stringValue == trip }
            #expect(mine?["name"]?.stringValue == "HTTP trip")
            #expect(mine?["seats"]?.int64Value == 6)
            #expect(mine?["available"]?.int64Value == 6)

            let snap = try server.http("GET", "/api/trips/\(trip)")
            #expect(snap.status == 200)
            let parsed = try ClientMap.parseSnapshot(try JSON.parse(snap.body))
            #expect(parsed == (try db.snapshot(trip)))
            let (_, wsMap) = try server.subscriber(trip)
            #expect(wsMap.map.snapshot == parsed)

            let missing = try server.http("GET", "/api/trips/no-such-trip")
            #expect(missing.status == 404)
            #expect(try JSON.parse(missing.body)["code"]?.stringValue == "unknown_trip")
        }
    }

    /// POST reserve/confirm/release mirror the WebSocket requests: 200 on success, 409 when rejected, 4xx for bad input, and subscribers see the events.
    @Test func postMirrorsWebSocket() throws {
        try TestServer.withTrip { server, trip in
            let (sub, map) = try server.subscriber(trip)
            let hold = "http-hold-0123456789"

            let r1 = try server.http("POST", "/api/trips/\(trip)/reserve", body: #"{"seats":["2B"],"hold":"\#(hold)","id":"h1"}"#)
            #expect(r1.status == 200)
            let j1 = try JSON.parse(r1.body)
            #expect(j1.type == "reserved")
            #expect(j1["id"]?.stringValue == "h1")
            #expect(j1["hold"]?.stringValue == hold)
            let e = try sub.next(type: "seat_locked")
            #expect(e.seatNo == "2B")
            #expect(e.seq == map.seq + 1)

            let r2 = try server.http("POST", "/api/trips/\(trip)/reserve", body: #"{"seatNo":"2B"}"#)
            #expect(r2.status == 409)
            #expect(try JSON.parse(r2.body)["reason"]?.stringValue == "seat_taken")

            let r3 = try server.http("POST", "/api/trips/\(trip)/confirm", body: #"{"hold":"\#(hold)"}"#)
            #expect(r3.status == 200)
            #expect(try JSON.parse(r3.body)["seats"]?.strings == ["2B"])
            #expect(try sub.next(type: "seat_booked").seatNo == "2B")

            let r4 = try server.http("POST", "/api/trips/\(trip)/release", body: #"{"hold":"\#(hold)"}"#)
            #expect(r4.status == 200)
            #expect(try JSON.parse(r4.body)["seats"]?.strings == [])

            let bad = try server.http("POST", "/api/trips/\(trip)/reserve", body: "{nope")
            #expect(bad.status == 400)
            #expect(try JSON.parse(bad.body)["code"]?.stringValue == "bad_request")
            let tooMany = try server.http("POST", "/api/trips/\(trip)/reserve",
                                          body: #"{"seats":["1A","1B","1C","1D","3A","3B","3C","3D","4A","4B","4C"]}"#)
            #expect(tooMany.status == 413)
            let unknownSeat = try server.http("POST", "/api/trips/\(trip)/reserve", body: #"{"seats":["99Q"]}"#)
            #expect(unknownSeat.status == 404)
            #expect(try JSON.parse(unknownSeat.body)["code"]?.stringValue == "unknown_seat")
            let nowhere = try server.http("POST", "/api/trips/\(trip)/teleport", body: "{}")
            #expect(nowhere.status == 404)
            // Outcomes by type in /metrics.
            let m = try server.http("GET", "/metrics").body
            #expect(m.contains("seatcast_command_outcomes_total{type=\"reserve\",outcome=\"reserved\"} 1"))
            #expect(m.contains("seatcast_command_outcomes_total{type=\"reserve\",outcome=\"rejected:seat_taken\"} 1"))
            #expect(m.contains("seatcast_command_outcomes_total{type=\"reserve\",outcome=\"error:unknown_seat\"} 1"))
            #expect(m.contains("seatcast_command_outcomes_total{type=\"confirm\",outcome=\"confirmed\"} 1"))
        }
    }

    /// /healthz answers ok while the database answers, /metrics is Prometheus text, and / serves the page.
    @Test func healthMetricsAndPage() throws {
        let server = try TestServer()
        defer { server.stop() }
        let h = try server.http("GET", "/healthz")
        #expect(h.status == 200)
        #expect(h.body == "ok\n")
        let c = try server.client()
        _ = try c.roundTrip()
        let m = try server.http("GET", "/metrics")
        #expect(m.status == 200)
        #expect(m.body.contains("# TYPE seatcast_connections gauge"))
        #expect(m.body.contains("seatcast_connections 1"))
        #expect(m.body.contains("seatcast_requests_total{type=\"ping\"}"))
        #expect(m.body.contains("seatcast_db_connected 1"))
        #expect(m.body.contains("# TYPE seatcast_holds_expired_total counter"))
        let page = try server.http("GET", "/")
        #expect(page.status == 200)
        #expect(page.body.contains("<html"))
        #expect(try server.http("GET", "/no-such-file.txt").status == 404)
        #expect(try server.http("GET", "/../Package.swift").status != 200)
        #expect(try server.http("GET", "/api/nothing").status == 404)
    }
}

@Suite(.timeLimit(.minutes(1)))
struct HTTPShutdownTests {
    /// POSTs in flight when the server stops still get their answers: every seat the database holds for them was answered 200.
    @Test func answersInFlightAtShutdown() throws {
        let db = TestDatabase.shared
        let trip = try db.createTrip(rows: 50, cols: 4)
        let server = try TestServer()
        let port = server.port
        let seats = (1...50).flatMap { r in ["A", "B", "C", "D"].map { "\(r)\($0)" } }
        let answered = Mutex<Set<String>>([])
        let firstAnswer = DispatchSemaphore(value: 0)
        let group = DispatchGroup()
        for seat in seats {
            DispatchQueue.global().async(group: group) {
                let r = try? HTTPClient.request(port: port, method: "POST", path: "/api/trips/\(trip)/reserve",
                                                body: #"{"seats":["\#(seat)"],"hold":"http-shutdown-hold-01"}"#)
                if r?.status == 200 { answered.withLock { _ = $0.insert(seat) } }
                firstAnswer.signal()
            }
        }
        firstAnswer.wait()
        server.stop()
        group.wait()
        let held = try db.sql("SELECT seat_no FROM seats WHERE trip_id = $1 AND hold_hash = sha256(convert_to('http-shutdown-hold-01', 'UTF8'))", [trip])
        let inDB = Set((0..<held.rowCount).compactMap { held.string($0, 0) })
        let got = answered.withLock { $0 }
        #expect(inDB.isSubset(of: got), "committed but unanswered: \(inDB.subtracting(got))")
    }
}
