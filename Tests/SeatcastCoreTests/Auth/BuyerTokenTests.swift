import Testing
@testable import SeatcastCore

private let secret = Array("s3cret-for-tests".utf8)
private let now: Double = 1_767_225_600
private let hs256 = #"{"alg":"HS256","typ":"JWT"}"#

private func b64(_ s: String) -> String { Base64URL.encode(Array(s.utf8)) }

/// A token over the given base64url parts, signed with HMAC-SHA256 whatever they say.
private func signedRaw(_ header64: String, _ payload64: String, key: [UInt8] = secret) -> String {
    let input = header64 + "." + payload64
    return input + "." + Base64URL.encode(HMACSHA256.authenticationCode(key: key, message: Array(input.utf8)))
}

/// A token with the given header and payload JSON, correctly signed with HMAC-SHA256.
private func signed(_ header: String, _ payload: String, key: [UInt8] = secret) -> String {
    signedRaw(b64(header), b64(payload), key: key)
}

/// A token with an HS256 header and the given payload JSON.
private func signed(_ payload: String, key: [UInt8] = secret) -> String {
    signed(hs256, payload, key: key)
}

private func payload(_ members: String = #""sub":"u1""#, exp: Double? = now + 600) -> String {
    var parts = [members]
    if let exp { parts.append(#""exp":\#(Int64(exp))"#) }
    return "{" + parts.filter { !$0.isEmpty }.joined(separator: ",") + "}"
}

private func verify(_ token: String, at time: Double = now, skew: Double = BuyerToken.defaultSkew, key: [UInt8] = secret) -> Result<BuyerClaims, AuthError> {
    BuyerToken.verify(token, secret: key, now: time, skew: skew)
}

private func reason(_ result: Result<BuyerClaims, AuthError>) -> AuthError? {
    if case let .failure(e) = result { return e }
    return nil
}

private func claims(_ result: Result<BuyerClaims, AuthError>) -> BuyerClaims? {
    try? result.get()
}

@Suite("BuyerToken")
struct BuyerTokenTests {
    // MARK: minting and accepting

    /// A minted token verifies and carries its sub, trips, iat and exp.
    @Test func roundTrip() throws {
        let token = BuyerToken.mint(sub: "u1", trips: ["T1", "T2"], ttl: 900, secret: secret, now: now + 0.25)
        let c = try #require(claims(verify(token)))
        #expect(c.sub == "u1")
        #expect(c.trips == ["T1", "T2"])
        #expect(c.iat == now)
        #expect(c.exp == now + 900)
        #expect(c.nbf == nil)

        let everyTrip = try #require(claims(verify(BuyerToken.mint(sub: "u2", ttl: 60, secret: secret, now: now))))
        #expect(everyTrip.sub == "u2")
        #expect(everyTrip.trips == nil)
        #expect(everyTrip.exp == now + 60)
    }

    /// mint's output is byte for byte the token an independent HS256 implementation
    /// (Python's hmac and base64) makes for the same claims.
    @Test func mintMatchesAnIndependentImplementation() {
        let golden = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1MSIsInRyaXBzIjpbIlQxIl0sImlhdCI6MTc2NzIyNTYwMCwiZXhwIjoxNzY3MjI2NTAwfQ.HbKOCH2UgNA1kACHzOkt991EB4C4U1mlUDP-9CpJLVs"
        #expect(BuyerToken.mint(sub: "u1", trips: ["T1"], ttl: 900, secret: secret, now: now) == golden)
    }

    /// A token made elsewhere, with claims in another order and an `nbf`, is accepted.
    @Test func acceptsAForeignToken() throws {
        let token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjE3NjcyMjY1MDAsInN1YiI6ImJ1eWVyLTQyIiwibmJmIjoxNzY3MjI1NTAwfQ.-fWH0u255OrC9aZkUdTviMkBawOXl83tWe_7yjVoeiI"
        let c = try #require(claims(verify(token)))
        #expect(c == BuyerClaims(sub: "buyer-42", exp: 1_767_226_500, nbf: 1_767_225_500))
    }

    /// `typ` may be absent, and unknown header parameters and claims are ignored.
    @Test func optionalHeaderAndUnknownClaims() {
        #expect(claims(verify(signed(#"{"alg":"HS256"}"#, payload()))) != nil)
        #expect(claims(verify(signed(#"{"kid":"k1","alg":"HS256"}"#, payload(#""sub":"u1","aud":"x","jti":"1""#)))) != nil)
    }

    // MARK: signature

    /// One bit flipped in the header, the payload or the signature (inside valid JSON and
    /// canonical base64url) is a bad signature.
    @Test func oneBitFlippedInEachPart() {
        // Header: "k1" -> "k3" (0x31 -> 0x33); payload: "u1" -> "u0" (0x31 -> 0x30).
        let header = #"{"alg":"HS256","kid":"k1"}"#
        let good = signed(header, payload())
        #expect(claims(verify(good)) != nil)
        let parts = good.split(separator: ".").map(String.init)
        let flippedHeader = b64(#"{"alg":"HS256","kid":"k3"}"#) + "." + parts[1] + "." + parts[2]
        let flippedPayload = parts[0] + "." + b64(payload(#""sub":"u0""#)) + "." + parts[2]
        #expect(reason(verify(flippedHeader)) == .badSignature)
        #expect(reason(verify(flippedPayload)) == .badSignature)

        let signature = Base64URL.decode(parts[2])!
        #expect(signature.count == 32)
        for bit in 0..<256 {
            var s = signature
            s[bit / 8] ^= UInt8(1 << (bit % 8))
            let t = parts[0] + "." + parts[1] + "." + Base64URL.encode(s)
            #expect(reason(verify(t)) == .badSignature, "bit \(bit)")
        }
    }

    /// No single-bit change anywhere in a token's text yields a token that is accepted.
    @Test func noSingleBitChangeOfTheTextIsAccepted() {
        let token = Array(BuyerToken.mint(sub: "u1", trips: ["T1"], ttl: 900, secret: secret, now: now).utf8)
        for i in token.indices {
            for bit in 0..<7 {
                var t = token
                t[i] ^= UInt8(1 << bit)
                let text = String(decoding: t, as: UTF8.self)
                #expect(reason(verify(text)) != nil, "byte \(i) bit \(bit)")
            }
        }
    }

    /// A token signed with another secret, or checked against an empty one, is a bad signature.
    @Test func otherSecretOrEmptySecret() {
        let token = BuyerToken.mint(sub: "u1", ttl: 900, secret: Array("another secret".utf8), now: now)
        #expect(reason(verify(token)) == .badSignature)
        let ours = BuyerToken.mint(sub: "u1", ttl: 900, secret: secret, now: now)
        #expect(reason(verify(ours, key: [])) == .badSignature)
        #expect(reason(verify(ours, key: secret + [1])) == .badSignature)
        #expect(reason(verify(ours, key: Array(secret.dropLast()))) == .badSignature)
        // HMAC pads short keys with zero bytes (RFC 2104), so a trailing NUL is the same key.
        // Secrets come from arguments or the environment, which cannot hold NUL.
        #expect(claims(verify(ours, key: secret + [0])) != nil)
    }

    /// The payload is not looked at before the signature holds: garbage behind a bad signature is a bad signature.
    @Test func payloadIsReadOnlyAfterTheSignature() {
        let garbage = b64("not json")
        let token = b64(hs256) + "." + garbage + "." + Base64URL.encode([UInt8](repeating: 7, count: 32))
        #expect(reason(verify(token)) == .badSignature)
        #expect(reason(verify(signedRaw(b64(hs256), garbage))) == .malformed)
    }

    // MARK: algorithm

    /// `alg: none` with an empty signature is refused for its algorithm, and so is `none`
    /// with a correct HMAC-SHA256 signature: the header never chooses how to verify.
    @Test func algNone() {
        let unsigned = b64(#"{"alg":"none","typ":"JWT"}"#) + "." + b64(payload()) + "."
        #expect(reason(verify(unsigned)) == .badAlgorithm)
        #expect(reason(verify(signed(#"{"alg":"none","typ":"JWT"}"#, payload()))) == .badAlgorithm)
    }

    /// `alg: HS512` with a 64-byte signature is refused for its algorithm, whatever the signature.
    @Test func algHS512() {
        let input = b64(#"{"alg":"HS512","typ":"JWT"}"#) + "." + b64(payload())
        let garbage = (0..<64).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        #expect(reason(verify(input + "." + Base64URL.encode(garbage))) == .badAlgorithm)
        #expect(reason(verify(signed(#"{"alg":"HS512","typ":"JWT"}"#, payload()))) == .badAlgorithm)
    }

    /// Anything but exactly the string `HS256` is refused, each token correctly signed with HMAC-SHA256.
    @Test(arguments: [#""HS256 ""#, #""hs256""#, #""Hs256""#, #"" HS256""#, #""HS2560""#, #""HS384""#,
                      #""RS256""#, #""ES256""#, #""""#, "null", "256", #"["HS256"]"#, #"{"alg":"HS256"}"#])
    func otherAlgorithms(alg: String) {
        #expect(reason(verify(signed(#"{"alg":\#(alg),"typ":"JWT"}"#, payload()))) == .badAlgorithm)
    }

    /// `sub` keeps its exact bytes, also where Swift's `==` would call another spelling equal
    /// (U+212A KELVIN SIGN is canonically equivalent to K).
    @Test func subKeepsItsBytes() throws {
        #expect("\u{212A}1" == "K1")
        let c = try #require(claims(verify(signed(payload(#""sub":"\#u{212A}1""#)))))
        #expect(Array(c.sub.utf8) == Array("\u{212A}1".utf8))
    }

    /// A header without `alg` is refused for its algorithm.
    @Test func missingAlg() {
        #expect(reason(verify(signed(#"{"typ":"JWT"}"#, payload()))) == .badAlgorithm)
        #expect(reason(verify(signed("{}", payload()))) == .badAlgorithm)
    }

    /// A `typ` other than `JWT`, or a `crit` header, is malformed.
    @Test func typAndCrit() {
        #expect(reason(verify(signed(#"{"alg":"HS256","typ":"JWS"}"#, payload()))) == .malformed)
        #expect(reason(verify(signed(#"{"alg":"HS256","typ":1}"#, payload()))) == .malformed)
        #expect(reason(verify(signed(#"{"alg":"HS256","crit":["exp"],"exp":1}"#, payload()))) == .malformed)
    }

    /// Duplicate keys are refused in the header (either order of `alg`) and the payload.
    @Test func duplicateKeys() {
        #expect(reason(verify(signed(#"{"alg":"HS256","alg":"none"}"#, payload()))) == .malformed)
        #expect(reason(verify(signed(#"{"alg":"none","alg":"HS256"}"#, payload()))) == .malformed)
        #expect(reason(verify(signed(hs256, payload(#""sub":"u1","sub":"admin""#)))) == .malformed)
    }

    // MARK: time

    /// `exp` in the past by more than the skew is expired; within the skew it is accepted.
    @Test func expiry() {
        let token = signed(payload(exp: now))
        #expect(claims(verify(token, at: now)) != nil)
        #expect(claims(verify(token, at: now + 30)) != nil)
        #expect(reason(verify(token, at: now + 30.001)) == .expired)
        #expect(reason(verify(token, at: now + 3600)) == .expired)
        #expect(reason(verify(token, at: now + 1, skew: 0)) == .expired)
    }

    /// `nbf` in the future by more than the skew is not yet valid; within the skew it is accepted.
    @Test func notBefore() {
        let token = signed(payload(#""sub":"u1","nbf":\#(Int64(now + 100))"#))
        #expect(reason(verify(token, at: now)) == .notYetValid)
        #expect(reason(verify(token, at: now + 69.999)) == .notYetValid)
        #expect(claims(verify(token, at: now + 70)) != nil)
        #expect(claims(verify(token, at: now + 100)) != nil)
        #expect(reason(verify(token, at: now + 99, skew: 0)) == .notYetValid)
    }

    /// Fractional times are read as numbers (RFC 7519 NumericDate).
    @Test func fractionalTimes() throws {
        let c = try #require(claims(verify(signed(#"{"sub":"u1","exp":1767225600.5,"iat":1767225000.25}"#), at: now)))
        #expect(c.exp == now + 0.5)
        #expect(c.iat == 1_767_225_000.25)
    }

    // MARK: claims

    /// A `trips` claim that is absent covers every trip; present, only its trips; empty, none.
    @Test func tripsClaim() throws {
        let all = try #require(claims(verify(signed(payload()))))
        #expect(all.trips == nil)
        #expect(all.covers(tripId: "T1") && all.covers(tripId: "anything"))

        let two = try #require(claims(verify(signed(payload(#""sub":"u1","trips":["T1","T2","T1"]"#)))))
        #expect(two.trips == ["T1", "T2"])
        #expect(two.covers(tripId: "T2") && !two.covers(tripId: "T3"))

        let none = try #require(claims(verify(signed(payload(#""sub":"u1","trips":[]"#)))))
        #expect(none.trips == [])
        #expect(!none.covers(tripId: "T1"))
    }

    /// A `trips` claim with an invalid trip id, a non-string, or that is not a list, is a bad claim.
    @Test(arguments: [#"["T 1"]"#, #"["T1",""]"#, #"["T1",1]"#, #"[null]"#, #""T1""#, "null", #"{"T1":true}"#,
                      #"["\#(String(repeating: "x", count: 65))"]"#])
    func invalidTrips(trips: String) {
        #expect(reason(verify(signed(payload(#""sub":"u1","trips":\#(trips)"#)))) == .badClaims)
    }

    /// `sub` of 1 and 128 characters (also multi-byte ones) is accepted.
    @Test func subBoundaries() throws {
        for sub in ["x", String(repeating: "a", count: 128), String(repeating: "é", count: 128), "用户-42"] {
            let c = try #require(claims(verify(signed(payload(#""sub":"\#(sub)""#)))))
            #expect(c.sub == sub)
        }
    }

    /// `sub` missing, empty, 129 characters, not a string, or holding a control character is a bad claim.
    @Test(arguments: ["", #""sub":"""#, #""sub":"\#(String(repeating: "a", count: 129))""#, #""sub":42"#,
                      #""sub":null"#, #""sub":["u1"]"#, #""sub":"u\u00001""#, #""sub":"u1\n""#, #""sub":"\u007f""#])
    func invalidSub(members: String) {
        #expect(reason(verify(signed(payload(members)))) == .badClaims)
    }

    /// `exp` missing, a string or null, and `nbf` or `iat` that are not numbers, are bad claims.
    @Test(arguments: [#"{"sub":"u1"}"#, #"{"sub":"u1","exp":"1767226200"}"#, #"{"sub":"u1","exp":null}"#,
                      #"{"sub":"u1","exp":true}"#, #"{"sub":"u1","exp":1e999}"#,
                      #"{"sub":"u1","exp":1767226200,"nbf":"0"}"#, #"{"sub":"u1","exp":1767226200,"iat":null}"#])
    func invalidTimes(payload: String) {
        #expect(reason(verify(signed(payload))) == .badClaims)
    }

    // MARK: malformed

    /// Padding, `+` or `/`, and impossible lengths in any part are malformed, even when signed over.
    @Test func malformedBase64() {
        let h = b64(hs256)
        let p = b64(payload())
        #expect(reason(verify(signedRaw(h + "=", p))) == .malformed)
        #expect(reason(verify(signedRaw(h, p + "=="))) == .malformed)
        #expect(reason(verify(signedRaw(h.replacingOccurrences("J", "+"), p))) == .malformed)
        #expect(reason(verify(signedRaw(h, "/" + p.dropFirst()))) == .malformed)
        // 4n+1 characters: no bytes encode to that.
        let fiveChars = String(p.prefix(p.count - p.count % 4 + 1))
        #expect(fiveChars.count % 4 == 1)
        #expect(reason(verify(signedRaw(h, fiveChars))) == .malformed)
        let good = signed(payload())
        #expect(reason(verify(good + "=")) == .malformed)
        #expect(reason(verify(String(good.dropLast()) + "+")) == .malformed)
        #expect(reason(verify(good + "AA")) == .malformed)
        // One more valid character: 33 bytes, canonical base64url, so the signature is simply wrong.
        #expect(reason(verify(good + "A")) == .badSignature)
    }

    /// A header or payload that is not JSON, not an object, or not UTF-8 is malformed.
    @Test func malformedJSON() {
        #expect(reason(verify(signed("hello", payload()))) == .malformed)
        #expect(reason(verify(signed(#"["HS256"]"#, payload()))) == .malformed)
        #expect(reason(verify(signed(#""HS256""#, payload()))) == .malformed)
        #expect(reason(verify(signed(#"{"alg":"HS256""#, payload()))) == .malformed)
        #expect(reason(verify(signed(hs256, "[1]"))) == .malformed)
        #expect(reason(verify(signed(hs256, #""u1""#))) == .malformed)
        #expect(reason(verify(signed(hs256, "42"))) == .malformed)
        #expect(reason(verify(signed(hs256, payload() + "x"))) == .malformed)
        var raw = Array(#"{"sub":"u"#.utf8)
        raw.append(0xff)
        raw.append(contentsOf: #"","exp":1767226200}"#.utf8)
        let notUTF8 = Base64URL.encode(raw)
        #expect(reason(verify(signedRaw(b64(hs256), notUTF8))) == .malformed)
    }

    /// Anything but exactly three non-empty parts is malformed.
    @Test func partsAndDots() {
        let good = signed(payload())
        let parts = good.split(separator: ".").map(String.init)
        let (h, p, s) = (parts[0], parts[1], parts[2])
        let candidates: [String] = [
            "", ".", "..", "...", good + ".", "." + good, good + "." + s, h + "." + p, h,
            h + ".." + s, "." + p + "." + s, h + "." + p + ".", h + "." + p + ".." + s,
        ]
        for bad in candidates {
            #expect(reason(verify(bad)) == .malformed, "\(bad)")
        }
    }

    /// A correctly signed token of exactly the length cap is accepted; one byte more is malformed.
    @Test func lengthCap() throws {
        func token(padding n: Int) -> String {
            signed(payload(#""sub":"u1","pad":"\#(String(repeating: "x", count: n))""#))
        }
        var n = 2900
        while token(padding: n).utf8.count < BuyerToken.maxLength { n += 1 }
        let atCap = token(padding: n)
        #expect(atCap.utf8.count == BuyerToken.maxLength)
        #expect(claims(verify(atCap)) != nil)
        let over = token(padding: n + 1)
        #expect(over.utf8.count > BuyerToken.maxLength)
        #expect(reason(verify(over)) == .malformed)
        #expect(reason(verify(String(repeating: "a", count: 1_000_000))) == .malformed)
    }

    // MARK: TTL

    /// The CLI's TTL forms: seconds, minutes, hours, plain seconds.
    @Test(arguments: [("90s", 90.0), ("15m", 900.0), ("2h", 7200.0), ("600", 600.0), ("1", 1.0), ("8760h", 31_536_000.0)])
    func ttl(text: String, seconds: Double) {
        #expect(BuyerToken.parseTTL(text) == seconds)
    }

    /// Zero, negative, fractional, spaced, unknown-unit and over-a-year TTLs are refused.
    @Test(arguments: ["", "0", "0s", "-5", "-5m", "1.5m", "15 m", " 15m", "m", "s", "15d", "15M", "1e3",
                      "8761h", "99999999999999h", "+15m"])
    func badTTL(text: String) {
        #expect(BuyerToken.parseTTL(text) == nil)
    }
}

private extension String {
    func replacingOccurrences(_ a: Character, _ b: Character) -> String { String(map { $0 == a ? b : $0 }) }
}
