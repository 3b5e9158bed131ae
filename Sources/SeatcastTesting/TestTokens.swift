import Foundation
import SeatcastCore

/// Buyer tokens for tests (docs/PROTOCOL.md 1.1): good ones, and every kind of bad one a
/// test must see refused: any header and payload JSON, signed with any secret.
public enum TestTokens {
    /// A secret long enough for `seatcast serve` (32 bytes or more).
    public static let secret = "test-token-secret-0123456789-abcdefghij"
    /// Another valid secret: tokens it signs are forged as far as `secret` is concerned.
    public static let otherSecret = "another-token-secret-9876543210-zyxwvut"
    /// A backend key (a token68).
    public static let apiKey = "backend-key-0123456789abcdef"

    public static var now: Double { Date().timeIntervalSince1970 }

    /// header64.payload64.signature64 with HMAC-SHA256 under `secret` over the first two.
    public static func sign(header: String = #"{"alg":"HS256","typ":"JWT"}"#, payload: String, secret: String = secret) -> String {
        let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8))
        return input + "." + Base64URL.encode(HMACSHA256.authenticationCode(key: Array(secret.utf8), message: Array(input.utf8)))
    }

    /// A valid token for `sub` (exp now + `ttl`, optional `trips` and `nbf`), or one built
    /// with the given `exp`/`nbf` (seconds since the epoch, fractions allowed).
    public static func token(sub: String = "u1", trips: [String]? = nil, ttl: Double = 600, exp: Double? = nil,
                             nbf: Double? = nil, secret: String = secret) -> String {
        var w = JSONWriter()
        w.beginObject()
        w.field("sub", sub)
        if let trips { w.field("trips", strings: trips) }
        w.key("exp")
        w.raw(Array(String(exp ?? (now + ttl)).utf8))
        if let nbf {
            w.key("nbf")
            w.raw(Array(String(nbf).utf8))
        }
        w.endObject()
        return sign(payload: String(decoding: w.bytes, as: UTF8.self), secret: secret)
    }
}
