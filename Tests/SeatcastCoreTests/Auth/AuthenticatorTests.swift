import Testing
@testable import SeatcastCore

private let secret = Array("a-token-secret-of-at-least-32-bytes!!".utf8)
private let now = 1_800_000_000.0
private let key = BackendKey("backend-key_1")!
private func token(sub: String = "u1", ttl: Double = 600, secret: [UInt8] = secret) -> String {
    BuyerToken.mint(sub: sub, ttl: ttl, secret: secret, now: now)
}
private let tokens = Authenticator(apiKey: key, tokenSecret: secret)
private let publicRead = Authenticator(tokenSecret: secret, publicRead: true)
private let keyOnly = Authenticator(apiKey: key)
private let open = Authenticator()

/// Who is asking, at the WebSocket handshake and over HTTP (docs/PROTOCOL.md 1.1).
@Suite("Authenticator")
struct AuthenticatorTests {
    // MARK: WebSocket

    /// Open mode: every handshake is `open`, whatever it carries (a token is ignored).
    @Test func webSocketOpenMode() {
        for a in [open, keyOnly] {
            #expect(a.webSocket(queryToken: nil, authorization: nil, now: now) == .success(.open))
            #expect(a.webSocket(queryToken: "garbage", authorization: "Bearer x", now: now) == .success(.open))
        }
    }

    /// A good token, as `?token=` or `Authorization: Bearer`, is a buyer.
    @Test func webSocketBuyer() throws {
        let claims = try BuyerToken.verify(token(), secret: secret, now: now).get()
        #expect(tokens.webSocket(queryToken: token(), authorization: nil, now: now) == .success(.buyer(claims)))
        #expect(tokens.webSocket(queryToken: nil, authorization: "bearer  " + token(), now: now) == .success(.buyer(claims)))
        // The query token wins over the header.
        #expect(tokens.webSocket(queryToken: token(), authorization: "Bearer junk", now: now) == .success(.buyer(claims)))
    }

    /// No token: refused (`missing`) unless `--public-read`, then anonymous.
    @Test func webSocketMissing() {
        #expect(tokens.webSocket(queryToken: nil, authorization: nil, now: now) == .failure(.missing))
        #expect(publicRead.webSocket(queryToken: nil, authorization: nil, now: now) == .success(.anonymous))
    }

    /// A bad token is refused with verify's reason, also under `--public-read` (a bad token is not "no token").
    @Test func webSocketBadToken() {
        for a in [tokens, publicRead] {
            #expect(a.webSocket(queryToken: token(secret: Array("another-secret-of-32-bytes-or-more!!".utf8)), authorization: nil, now: now)
                == .failure(.token(.badSignature)))
            #expect(a.webSocket(queryToken: token(ttl: 1), authorization: nil, now: now + 32) == .failure(.token(.expired)))
            #expect(a.webSocket(queryToken: "", authorization: nil, now: now) == .failure(.token(.malformed)))
            #expect(a.webSocket(queryToken: nil, authorization: "Basic dTpw", now: now) == .failure(.badHeader))
        }
    }

    /// The API key is for HTTP only: on a WebSocket it is just a malformed token.
    @Test func webSocketIsNeverTheBackend() {
        #expect(tokens.webSocket(queryToken: nil, authorization: "Bearer backend-key_1", now: now) == .failure(.token(.malformed)))
    }

    // MARK: HTTP

    /// No Authorization: open without a token secret, anonymous with one.
    @Test func httpNoHeader() {
        #expect(open.http(authorization: nil, now: now) == .success(.open))
        #expect(keyOnly.http(authorization: nil, now: now) == .success(.open))
        #expect(tokens.http(authorization: nil, now: now) == .success(.anonymous))
    }

    /// The API key is the backend; a buyer token a buyer.
    @Test func httpCredentials() throws {
        #expect(tokens.http(authorization: "Bearer backend-key_1", now: now) == .success(.backend))
        #expect(keyOnly.http(authorization: "Bearer backend-key_1", now: now) == .success(.backend))
        let claims = try BuyerToken.verify(token(), secret: secret, now: now).get()
        #expect(tokens.http(authorization: "Bearer " + token(), now: now) == .success(.buyer(claims)))
    }

    /// A wrong key, an empty or non-Bearer header, a bad token: refused.
    @Test func httpRefusals() {
        #expect(keyOnly.http(authorization: "Bearer backend-key_2", now: now) == .failure(.badKey))
        #expect(keyOnly.http(authorization: "Bearer " + token(), now: now) == .failure(.badKey))
        #expect(keyOnly.http(authorization: "Bearer ", now: now) == .failure(.badHeader))
        #expect(keyOnly.http(authorization: "", now: now) == .failure(.badHeader))
        #expect(tokens.http(authorization: "Basic dTpw", now: now) == .failure(.badHeader))
        #expect(tokens.http(authorization: "Bearer backend-key_2", now: now) == .failure(.token(.malformed)))
        #expect(tokens.http(authorization: "Bearer " + token(ttl: 1), now: now + 60) == .failure(.token(.expired)))
    }

    /// Open mode without a key reads no credentials (version 1 ignored Authorization).
    @Test func httpOpenIgnoresHeaders() {
        #expect(open.http(authorization: "Bearer whatever", now: now) == .success(.open))
        #expect(open.http(authorization: "garbage", now: now) == .success(.open))
    }

    // MARK: Live tokens

    /// `auth` tokens are verified with the skew; the deadline is exp + skew.
    @Test func buyerAndDeadline() throws {
        let claims = try tokens.buyer(token(ttl: 10), now: now + 39).get()
        #expect(tokens.deadline(claims) == now + 40)
        #expect(tokens.buyer(token(ttl: 10), now: now + 40.5) == .failure(.token(.expired)))
        let strict = Authenticator(tokenSecret: secret, skew: 0)
        #expect(strict.buyer(token(ttl: 10), now: now + 10.5) == .failure(.token(.expired)))
        #expect(open.buyer(token(), now: now) == .failure(.badKey))
    }

    /// Labels for metrics: AuthError's raw values and three more, all distinct.
    @Test func labels() {
        #expect(Authenticator.Refusal.token(.badSignature).label == "bad_signature")
        #expect(Authenticator.Refusal.missing.label == "missing")
        #expect(Set(Authenticator.Refusal.allLabels).count == AuthError.allCases.count + 3)
    }
}
