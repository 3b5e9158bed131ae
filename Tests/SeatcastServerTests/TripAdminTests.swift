import Foundation
import SeatcastCore
import SeatcastTesting
import Testing

/// The backend's HTTP routes (docs/PROTOCOL.md 1.1): `POST /api/trips`, `DELETE /api/trips/{id}`,
/// and `release` with seats and no hold.
@Suite(.timeLimit(.minutes(1)))
struct TripAdminTests {
    let db = TestDatabase.shared

    /// Bad bodies are 400 `bad_request`, checked as the CLI checks them, and create nothing.
    @Test func badBodiesAre400() throws {
        try TestServer.withTrip(Secured()) { server, _ throws in
            let id = TestDatabase.uniqueTripId()
            for body in ["", "{", #"{"tripId":"\#(id)","name":"n","rows":0,"cols":4}"#, #"{"tripId":"a b","name":"n","rows":1,"cols":4}"#,
                         #"{"tripId":"\#(id)","name":"","rows":1,"cols":4}"#, #"{"tripId":"\#(id)","name":"n","rows":1000,"cols":1000}"#] {
                let (status, json) = parsed(try server.http("POST", "/api/trips", body: body, bearer: TestTokens.apiKey))
                #expect(status == 400, "\(body)")
                #expect(json?.code == "bad_request", "\(body)")
            }
            #expect(try db.sql("SELECT 1 FROM trips WHERE trip_id = $1", [id]).rowCount == 0)
            // An invalid id to delete is unknown.
            #expect(try server.http("DELETE", "/api/trips/a%20b", bearer: TestTokens.apiKey).status == 404)
        }
    }

    /// Open mode: 403 with the reason; nothing created or deleted.
    @Test func openModeRefuses() throws {
        try TestServer.withTrip(.open) { server, trip throws in
            let id = TestDatabase.uniqueTripId()
            let (status, json) = parsed(try server.http("POST", "/api/trips", body: #"{"tripId":"\#(id)","name":"n","rows":1,"cols":1}"#))
            #expect(status == 403)
            #expect(json?["message"]?.stringValue?.contains("CLI") == true)
            #expect(try server.http("DELETE", "/api/trips/\(trip)").status == 403)
            #expect(try db.sql("SELECT 1 FROM trips WHERE trip_id = $1", [id]).rowCount == 0)
            #expect(try db.sql("SELECT 1 FROM trips WHERE trip_id = $1", [trip]).rowCount == 1)
        }
    }

    /// Create: 201 with the trip; again: 409 trip_exists; delete: 200; again: 404.
    @Test func createAndDelete() throws {
        try TestServer.withTrip(Secured()) { server, _ throws in
            let id = TestDatabase.uniqueTripId()
            let body = #"{"tripId":"\#(id)","name":"Coach 9","rows":3,"cols":2}"#
            let (created, trip) = parsed(try server.http("POST", "/api/trips", body: body, bearer: TestTokens.apiKey))
            #expect(created == 201, "\(trip?.text ?? "")")
            #expect(trip?["tripId"]?.stringValue == id)
            #expect(trip?["seats"]?.numberValue == 6)
            #expect(try db.snapshot(id).seats.count == 6)
            let (again, exists) = parsed(try server.http("POST", "/api/trips", body: body, bearer: TestTokens.apiKey))
            #expect(again == 409)
            #expect(exists?.code == "trip_exists")
            let (deleted, gone) = parsed(try server.http("DELETE", "/api/trips/\(id)", bearer: TestTokens.apiKey))
            #expect(deleted == 200, "\(gone?.text ?? "")")
            #expect(try db.sql("SELECT 1 FROM trips WHERE trip_id = $1", [id]).rowCount == 0)
            let (unknown, json) = parsed(try server.http("DELETE", "/api/trips/\(id)", bearer: TestTokens.apiKey))
            #expect(unknown == 404)
            #expect(json?.code == "unknown_trip")
        }
    }

    /// The backend releases any seat, held or booked, without a hold.
    @Test func backendReleasesAnySeat() throws {
        try TestServer.withTrip(Secured()) { server, trip throws in
            let buyer = try server.client("/ws/trips/\(trip)", token: TestTokens.token())
            _ = try buyer.next(type: "snapshot")
            let hold = try buyer.ask(#"{"type":"reserve","tripId":"\#(trip)","seats":["1A","1B"]}"#)["hold"]?.stringValue ?? ""
            _ = try server.http("POST", "/api/trips/\(trip)/confirm", body: #"{"hold":"\#(hold)","seats":["1B"]}"#, bearer: TestTokens.apiKey)
            let (status, json) = parsed(try server.http("POST", "/api/trips/\(trip)/release", body: #"{"seats":["1A","1B"]}"#,
                                                         bearer: TestTokens.apiKey))
            #expect(status == 200, "\(json?.text ?? "")")
            #expect(json?.type == "released")
            #expect(try db.snapshot(trip).seats.allSatisfy { $0.status == .available })
        }
    }
}

/// Hold ownership and the quota (docs/PROTOCOL.md 1.1), end to end.
@Suite(.timeLimit(.minutes(1)))
struct HoldScopeTests {
    /// Another buyer's hold token is answered as if it held nothing (`not_held`; a release, `released` with no seats).
    @Test func anotherBuyersHoldIsNotHeld() throws {
        try TestServer.withTrip(Secured(buyerConfirm: true)) { server, trip throws in
            let a = try server.client("/ws", token: TestTokens.token(sub: "a-\(trip)"))
            let b = try server.client("/ws", token: TestTokens.token(sub: "b-\(trip)"))
            let hold = try a.ask(#"{"type":"reserve","tripId":"\#(trip)","seats":["1A"]}"#)["hold"]?.stringValue ?? ""
            let before = try TripState(trip)
            for type in ["confirm", "extend"] {
                let r = try b.ask(#"{"type":"\#(type)","tripId":"\#(trip)","hold":"\#(hold)"}"#)
                #expect(r.type == "rejected", "\(type): \(r.text)")
                #expect(r["reason"]?.stringValue == "not_held", "\(type): \(r.text)")
            }
            // A release of a hold that holds nothing is `released` with no seats (version 1).
            let r = try b.ask(#"{"type":"release","tripId":"\#(trip)","hold":"\#(hold)"}"#)
            #expect(r.type == "released", "\(r.text)")
            #expect(r["seats"]?.strings == [], "\(r.text)")
            #expect(try TripState(trip) == before)
        }
    }

    /// Past --max-held: rejected, reason quota, with the limit; per sub across connections.
    @Test func quotaPerBuyer() throws {
        try TestServer.withTrip(Secured(maxHeld: 2)) { server, trip throws in
            let a1 = try server.client("/ws", token: TestTokens.token(sub: "q-\(trip)"))
            let a2 = try server.client("/ws", token: TestTokens.token(sub: "q-\(trip)"))
            #expect(try a1.ask(#"{"type":"reserve","tripId":"\#(trip)","seats":["1A","1B"]}"#).type == "reserved")
            let r = try a2.ask(#"{"type":"reserve","tripId":"\#(trip)","seats":["2A"]}"#)
            #expect(r.type == "rejected")
            #expect(r["reason"]?.stringValue == "quota")
            #expect(r["limit"]?.numberValue == 2)
            #expect(try db(trip).contains("2A=available"))
        }
    }

    /// Open mode counts per connection: two connections hold 2 each with --max-held 2.
    @Test func quotaPerConnectionInOpenMode() throws {
        var open = Secured.open
        open.maxHeld = 2
        try TestServer.withTrip(open) { server, trip throws in
            let c1 = try server.client("/ws")
            let c2 = try server.client("/ws")
            #expect(try c1.ask(#"{"type":"reserve","tripId":"\#(trip)","seats":["1A","1B"]}"#).type == "reserved")
            #expect(try c2.ask(#"{"type":"reserve","tripId":"\#(trip)","seats":["2A","2B"]}"#).type == "reserved")
            #expect(try c1.ask(#"{"type":"reserve","tripId":"\#(trip)","seats":["3A"]}"#)["reason"]?.stringValue == "quota")
        }
    }

    func db(_ trip: String) throws -> [String] { try TripState(trip).seats }
}

/// The WebSocket Origin default with secrets configured (docs/PROTOCOL.md 1.1): the server's
/// own origin only; no Origin (a CLI) is allowed. A refused Origin is closed with 1008, as
/// version 1 says, before its token is read and before anything is sent.
@Suite(.timeLimit(.minutes(1)))
struct OriginDefaultTests {
    @Test func ownOriginOnly() throws {
        try TestServer.withTrip(Secured()) { server, trip throws in
            let path = "/ws/trips/\(trip)?token=\(TestTokens.token())"
            let host = "127.0.0.1:\(server.port)"
            #expect(try handshake(server, path, headers: ["Origin": "http://\(host)"], host: host)?.status == 101)
            #expect(try handshake(server, path, host: host)?.status == 101)
            let refusalsBefore = try server.metric("seatcast_origin_refusals_total")
            let bad = try server.client(path, headers: ["Origin": "http://evil.example"])
            #expect(try bad.waitForClose() == 1008)
            #expect(bad.transcript.isEmpty, "a refused page got \(bad.transcript.first ?? "")")
            // The token is not looked at: a missing one behind a foreign Origin is 1008 too, not 401.
            let noToken = try server.client("/ws", headers: ["Origin": "http://evil.example"])
            #expect(try noToken.waitForClose() == 1008)
            #expect(try server.metric("seatcast_origin_refusals_total") == refusalsBefore + 2)
        }
    }

    /// An explicit allowlist replaces the default; open mode keeps version 1 (any Origin without a list).
    @Test func allowlistAndOpenMode() throws {
        var s = Secured()
        s.allowedOrigins = ["https://site.example"]
        try TestServer.withTrip(s) { server, trip throws in
            let path = "/ws/trips/\(trip)?token=\(TestTokens.token())"
            #expect(try handshake(server, path, headers: ["Origin": "https://site.example"])?.status == 101)
            let other = try server.client(path, headers: ["Origin": "http://127.0.0.1"])
            #expect(try other.waitForClose() == 1008)
            #expect(other.transcript.isEmpty)
        }
        try TestServer.withTrip(.open) { server, trip throws in
            #expect(try handshake(server, "/ws/trips/\(trip)", headers: ["Origin": "http://evil.example"])?.status == 101)
        }
    }
}
