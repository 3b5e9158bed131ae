import Foundation
import SeatcastCore
import SeatcastTesting
import Testing

/// A token on a live connection (docs/PROTOCOL.md 1.1): `auth` replaces it and is answered
/// `authed`; a bad one is `unauthorized` and the old one stays; when the token runs out
/// (exp + skew; the tests set the skew to 0 to see it in seconds) the server closes with 1008.
@Suite(.timeLimit(.minutes(1)))
struct TokenLifetimeTests {
    static let strict = Secured(skew: 0)

    /// A connection whose token runs out is closed with 1008, reason "token expired", and counted.
    @Test func expiryClosesWith1008() throws {
        try TestServer.withTrip(Self.strict) { server, trip throws in
            let c = try server.client("/ws/trips/\(trip)", token: TestTokens.token(exp: TestTokens.now + 1.5))
            _ = try c.next(type: "snapshot")
            let started = Date()
            #expect(try c.waitForClose(timeout: 5) == 1008)
            #expect(Date().timeIntervalSince(started) > 1.0)
            #expect(try server.metric("seatcast_token_expiry_closes_total") == 1)
        }
    }

    /// A refreshed token keeps the connection open past the old exp; it then closes at the new one.
    @Test func refreshKeepsItOpen() throws {
        try TestServer.withTrip(Self.strict) { server, trip throws in
            let c = try server.client("/ws/trips/\(trip)", token: TestTokens.token(exp: TestTokens.now + 1.5))
            _ = try c.next(type: "snapshot")
            let newExp = (TestTokens.now + 3.5).rounded(.up)
            let r = try c.ask(#"{"type":"auth","token":"\#(TestTokens.token(exp: newExp))"}"#, id: "a1")
            #expect(r.type == "authed")
            #expect(r["sub"]?.stringValue == "u1")
            #expect(r["exp"]?.numberValue == newExp)
            // Past the old exp (+ a timer period), still served.
            Thread.sleep(forTimeInterval: max(0, newExp - 1.5 - TestTokens.now))
            _ = try c.roundTrip()
            #expect(try c.waitForClose(timeout: 5) == 1008)
            #expect(TestTokens.now >= newExp)
        }
    }

    /// `auth` with a bad token: `unauthorized` (with the id), and the old token stays, expiry included.
    @Test func badAuthKeepsTheOldToken() throws {
        try TestServer.withTrip(Self.strict) { server, trip throws in
            let c = try server.client("/ws/trips/\(trip)", token: TestTokens.token(trips: [trip], exp: TestTokens.now + 2))
            _ = try c.next(type: "snapshot")
            for bad in [TestTokens.token(secret: TestTokens.otherSecret), TestTokens.token(exp: TestTokens.now - 5), "x.y.z"] {
                let r = try c.ask(#"{"type":"auth","token":"\#(bad)"}"#, id: "b")
                #expect(r.type == "error")
                #expect(r.code == "unauthorized")
            }
            // Still the old buyer, on the old trip.
            let reserved = try c.ask(#"{"type":"reserve","tripId":"\#(trip)","seats":["1A"]}"#)
            #expect(reserved.type == "reserved")
            #expect(try c.waitForClose(timeout: 5) == 1008)
        }
    }

    /// A new token that does not cover a subscribed trip drops that subscription, with an error naming it.
    @Test func narrowerTokenDropsSubscriptions() throws {
        let db = TestDatabase.shared
        let other = try db.createTrip(rows: 1, cols: 2)
        try TestServer.withTrip(Secured()) { server, trip throws in
            let c = try server.client("/ws/trips/\(trip)", token: TestTokens.token())
            _ = try c.next(type: "snapshot")
            try c.send(#"{"type":"subscribe","tripId":"\#(other)"}"#)
            _ = try c.next(type: "snapshot") { $0["tripId"]?.stringValue == other }
            try c.send(#"{"type":"auth","token":"\#(TestTokens.token(sub: "u2", trips: [other]))","id":"n"}"#)
            let answers = try c.collect(until: "authed")
            let dropped = answers.filter { $0.type == "error" }
            #expect(dropped.count == 1)
            #expect(dropped.first?.code == "forbidden")
            #expect(dropped.first?["tripId"]?.stringValue == trip)
            #expect(answers.last?["sub"]?.stringValue == "u2")
            // No more events of the dropped trip; the covered one still streams.
            let seller = try server.client("/ws", token: TestTokens.token(sub: "s"))
            #expect(try seller.ask(#"{"type":"reserve","tripId":"\#(trip)","seats":["1A"]}"#).type == "reserved")
            #expect(try seller.ask(#"{"type":"reserve","tripId":"\#(other)","seats":["1A"]}"#).type == "reserved")
            let locked = try c.next(type: "seat_locked")
            #expect(locked["tripId"]?.stringValue == other)
            #expect(try c.roundTrip().allSatisfy { $0["tripId"]?.stringValue != trip })
        }
    }

    /// `auth` in open mode is forbidden; a public reader becomes a buyer with it.
    @Test func authInOpenModeAndPublicRead() throws {
        try TestServer.withTrip(.open) { server, trip throws in
            let c = try server.client("/ws/trips/\(trip)")
            let r = try c.ask(#"{"type":"auth","token":"\#(TestTokens.token())"}"#)
            #expect(r.code == "forbidden")
        }
        try TestServer.withTrip(Secured(publicRead: true)) { server, trip throws in
            let (c, _) = try server.subscriber(trip)
            #expect(try c.ask(#"{"type":"reserve","tripId":"\#(trip)","seats":["1A"]}"#).code == "unauthorized")
            #expect(try c.ask(#"{"type":"auth","token":"\#(TestTokens.token())"}"#).type == "authed")
            #expect(try c.ask(#"{"type":"reserve","tripId":"\#(trip)","seats":["1A"]}"#).type == "reserved")
            #expect(try server.metric("seatcast_token_refreshes_total") == 1)
        }
    }
}
