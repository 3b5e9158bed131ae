import Foundation
import SeatcastCore
import SeatcastTesting
import Testing

/// A buyer token at the WebSocket handshake (docs/PROTOCOL.md 1.1): a bad, expired or
/// (without --public-read) missing token is answered HTTP 401 with `WWW-Authenticate:
/// Bearer` and an `unauthorized` error body, and not upgraded; nothing changes.
@Suite(.timeLimit(.minutes(1)))
struct AuthHandshakeTests {
    /// Every kind of bad token, by name.
    static let badTokens: [(String, @Sendable () -> String)] = [
        ("wrong signature", { TestTokens.token(secret: TestTokens.otherSecret) }),
        ("alg none", { TestTokens.sign(header: #"{"alg":"none","typ":"JWT"}"#, payload: #"{"sub":"u1","exp":\#(TestTokens.now + 600)}"#) }),
        ("alg none unsigned", {
            let t = TestTokens.sign(header: #"{"alg":"none"}"#, payload: #"{"sub":"u1","exp":\#(TestTokens.now + 600)}"#)
            return String(t[..<t.lastIndex(of: ".")!]) + "."
        }),
        ("alg HS512", { TestTokens.sign(header: #"{"alg":"HS512","typ":"JWT"}"#, payload: #"{"sub":"u1","exp":\#(TestTokens.now + 600)}"#) }),
        ("expired", { TestTokens.token(exp: TestTokens.now - 31) }),
        ("not yet valid beyond the skew", { TestTokens.token(nbf: TestTokens.now + 60) }),
        ("malformed base64", { "e30.!!!.abc" }),
        ("malformed JSON", { TestTokens.sign(payload: #"{"sub":"u1","exp":"#) }),
        ("no sub", { TestTokens.sign(payload: #"{"exp":\#(TestTokens.now + 600)}"#) }),
        ("over 4096 bytes", { TestTokens.token(sub: String(repeating: "u", count: 100)) + String(repeating: "A", count: 4000) }),
        ("empty", { "" }),
    ]

    /// Each bad token, as `?token=` and as `Authorization: Bearer`, with and without --public-read.
    @Test(arguments: badTokens.map(\.0), [false, true])
    func badTokenIs401(name: String, publicRead: Bool) throws {
        let make = Self.badTokens.first { $0.0 == name }!.1
        try TestServer.withTrip(Secured(publicRead: publicRead)) { server, trip throws in
            let before = try TripState(trip)
            let token = make()
            for (path, headers) in [("/ws/trips/\(trip)?token=\(token)", [:]), ("/ws/trips/\(trip)", ["Authorization": "Bearer \(token)"])] {
                if token.isEmpty && !headers.isEmpty { continue }  // "Bearer " is not a Bearer header: see badHeader
                let r = try handshake(server, path, headers: headers)
                #expect(r?.status == 401, "\(name) \(headers.isEmpty ? "query" : "header") -> \(r.map { "\($0.status)" } ?? "nothing")")
                #expect(r?.header("www-authenticate") == "Bearer")
                let body = try r.map { try JSON.parse($0.text) }
                #expect(body?.type == "error")
                #expect(body?.code == "unauthorized")
            }
            #expect(try TripState(trip) == before)
            #expect(try server.metric("seatcast_connections_total") == 0)
        }
    }

    /// Refusals are counted by reason in /metrics; the reason is never told to the client.
    @Test func refusalsCountedByReason() throws {
        try TestServer.withTrip(Secured()) { server, trip throws in
            let forged = try handshake(server, "/ws/trips/\(trip)?token=\(TestTokens.token(secret: TestTokens.otherSecret))")
            let expired = try handshake(server, "/ws/trips/\(trip)?token=\(TestTokens.token(exp: TestTokens.now - 100))")
            #expect(forged?.text == expired?.text)
            _ = try handshake(server, "/ws/trips/\(trip)")
            #expect(try server.metric(#"seatcast_auth_refusals_total{reason="bad_signature"}"#) == 1)
            #expect(try server.metric(#"seatcast_auth_refusals_total{reason="expired"}"#) == 1)
            #expect(try server.metric(#"seatcast_auth_refusals_total{reason="missing"}"#) == 1)
            let (_, text) = try server.http("GET", "/metrics")
            #expect(!text.contains(TestTokens.secret))
            #expect(!text.contains(TestTokens.apiKey))
        }
    }

    /// No token: 401 without --public-read; with it, an anonymous connection that may read.
    @Test func missingToken() throws {
        try TestServer.withTrip(Secured()) { server, trip throws in
            #expect(try handshake(server, "/ws/trips/\(trip)")?.status == 401)
            #expect(try handshake(server, "/ws")?.status == 401)
        }
        try TestServer.withTrip(Secured(publicRead: true)) { server, trip throws in
            let (c, map) = try server.subscriber(trip)
            #expect(map.seq >= 0)
            let r = try c.ask(#"{"type":"reserve","tripId":"\#(trip)","seats":["1A"]}"#)
            #expect(r.code == "unauthorized")
        }
    }

    /// A good token, within the skew either side, as `?token=` or `Authorization: Bearer`, upgrades.
    @Test func goodTokensUpgrade() throws {
        try TestServer.withTrip(Secured()) { server, trip throws in
            let now = TestTokens.now
            for token in [TestTokens.token(), TestTokens.token(exp: now - 20), TestTokens.token(nbf: now + 20),
                          TestTokens.token(trips: [trip])] {
                #expect(try handshake(server, "/ws/trips/\(trip)?token=\(token)")?.status == 101)
                #expect(try handshake(server, "/ws/trips/\(trip)", headers: ["Authorization": "Bearer \(token)"])?.status == 101)
            }
            // The API key is no WebSocket credential.
            #expect(try handshake(server, "/ws", headers: ["Authorization": "Bearer \(TestTokens.apiKey)"])?.status == 401)
        }
    }

    /// A token whose `trips` claim leaves the URL's trip out upgrades, but the subscription is forbidden.
    @Test func urlTripOutsideTheClaim() throws {
        try TestServer.withTrip(Secured()) { server, trip throws in
            let c = try server.client("/ws/trips/\(trip)", token: TestTokens.token(trips: ["other"]))
            let e = try c.next(type: "error")
            #expect(e.code == "forbidden")
            #expect(try c.roundTrip().allSatisfy { $0.type != "snapshot" })
        }
    }

    /// An empty query argument before `token` (`?&token=`, `?a=1&&token=`) hides no token:
    /// a bad one is still 401 under --public-read (not a public reader), a good one still a buyer.
    @Test func emptyQueryArgumentBeforeToken() throws {
        try TestServer.withTrip(Secured(publicRead: true)) { server, trip throws in
            let bad = TestTokens.token(secret: TestTokens.otherSecret)
            for query in ["?&token=\(bad)", "?compact&&token=\(bad)"] {
                let r = try handshake(server, "/ws/trips/\(trip)\(query)")
                #expect(r?.status == 401, "\(query) -> \(r.map { "\($0.status)" } ?? "nothing")")
            }
        }
        try TestServer.withTrip(Secured()) { server, trip throws in
            #expect(try handshake(server, "/ws/trips/\(trip)?&token=\(TestTokens.token())")?.status == 101)
        }
    }

    /// An `Authorization` header too long to be a token (over 8 KiB, within lws's 12 KiB of
    /// headers) is a bad credential, 401, not a missing one (a public reader).
    @Test func oversizedAuthorizationIs401() throws {
        try TestServer.withTrip(Secured(publicRead: true)) { server, trip throws in
            let big = "Bearer " + String(repeating: "a", count: 9000)
            #expect(try handshake(server, "/ws/trips/\(trip)", headers: ["Authorization": big])?.status == 401)
            let raw = try RawHTTP.exchange(port: server.port, AuthHTTPTests.request("GET", "/api/trips/\(trip)", body: nil, authorization: big), timeout: 5)
            #expect(raw.responses().first?.status == 401)
        }
    }

    /// Open mode ignores a token (version 1 behaviour): any token, good or bad, connects.
    @Test func openModeIgnoresTokens() throws {
        try TestServer.withTrip(.open) { server, trip throws in
            #expect(try handshake(server, "/ws/trips/\(trip)?token=garbage")?.status == 101)
            #expect(try handshake(server, "/ws/trips/\(trip)")?.status == 101)
        }
    }
}
