/// Buyer tokens: HS256 JSON Web Tokens (RFC 7519, compact JWS of RFC 7515) that
/// the site's backend mints and seatcast verifies (docs/PROTOCOL.md, version 1.1, "Who
/// may do what").
///
/// Only HS256 exists here. The algorithm is fixed by seatcast, never taken from the
/// token: a header that names anything but exactly `HS256` is refused before the
/// signature is looked at, so `alg: none` and algorithm-confusion tokens cannot get
/// in. The checks run in this order, and the first failure is the answer:
/// 1. at most `maxLength` bytes, exactly three `.`-separated parts, header and
///    payload non-empty (`malformed`);
/// 2. the header is base64url of a JSON object without duplicate keys, `typ` absent
///    or `JWT`, no `crit` (`malformed`); `alg` is exactly `HS256` (`badAlgorithm`);
/// 3. the signature part is non-empty base64url (`malformed`) and equals
///    HMAC-SHA256(secret, header64 "." payload64), compared in constant time
///    (`badSignature`);
/// 4. the payload is base64url of a JSON object without duplicate keys
///    (`malformed`), with valid claims (`badClaims`);
/// 5. `now <= exp + skew` (`expired`) and, with `nbf`, `now >= nbf - skew`
///    (`notYetValid`).
///
/// Duplicate keys are refused because `JSON` keeps the first of them and other
/// parsers the last: RFC 7515 (section 4) requires a JWS parser to refuse them or
/// take the last.
public enum BuyerToken {
    /// Longer tokens are refused as `malformed` before anything is decoded.
    public static let maxLength = 4096
    /// Tolerated clock difference between the minting backend and seatcast, seconds.
    public static let defaultSkew: Double = 30

    /// Checks `token` against `secret` at time `now` (seconds since the Unix epoch).
    /// An empty secret refuses every token (`badSignature`): configuration refuses
    /// empty secrets, and a mistake there must not open the door.
    public static func verify(_ token: String, secret: [UInt8], now: Double, skew: Double = defaultSkew) -> Result<BuyerClaims, AuthError> {
        precondition(skew >= 0, "skew must not be negative")
        let bytes = Array(token.utf8)
        guard bytes.count <= maxLength else { return .failure(.malformed) }

        var dots: [Int] = []
        for (i, c) in bytes.enumerated() where c == UInt8(ascii: ".") {
            dots.append(i)
            if dots.count > 2 { return .failure(.malformed) }
        }
        guard dots.count == 2 else { return .failure(.malformed) }
        let header64 = bytes[..<dots[0]]
        let payload64 = bytes[(dots[0] + 1)..<dots[1]]
        let signature64 = bytes[(dots[1] + 1)...]
        guard !header64.isEmpty, !payload64.isEmpty else { return .failure(.malformed) }

        // The header: decided before the signature, and never used to choose how to verify it.
        guard let header = jsonObject(header64) else { return .failure(.malformed) }
        if let typ = header["typ"], !isExactly(typ, "JWT") { return .failure(.malformed) }
        if header["crit"] != nil { return .failure(.malformed) }
        guard let alg = header["alg"], isExactly(alg, "HS256") else { return .failure(.badAlgorithm) }

        guard !signature64.isEmpty, let signature = Base64URL.decode(bytes: signature64) else {
            return .failure(.malformed)
        }
        guard !secret.isEmpty else { return .failure(.badSignature) }
        let expected = HMACSHA256.authenticationCode(key: secret, message: bytes[..<dots[1]])
        guard ConstantTime.equals(signature, expected) else { return .failure(.badSignature) }

        guard let payload = jsonObject(payload64) else { return .failure(.malformed) }
        guard let claims = claims(payload) else { return .failure(.badClaims) }
        if now > claims.exp + skew { return .failure(.expired) }
        if let nbf = claims.nbf, now < nbf - skew { return .failure(.notYetValid) }
        return .success(claims)
    }

    /// A token `verify` accepts until `ttl` seconds after `now`: header
    /// `{"alg":"HS256","typ":"JWT"}`, claims `sub`, `trips` (when given), `iat`
    /// (`now` in whole seconds, rounded down) and `exp` (`iat` + `ttl` rounded up).
    /// For the CLI, tests and examples; sites mint their own with any JWT library.
    ///
    /// Preconditions (validate input first): a non-empty secret, a valid `sub`
    /// (`BuyerClaims.isValidSub`), valid trip ids, a positive `ttl` (below 10^15 s).
    public static func mint(sub: String, trips: [String]? = nil, ttl: Double, secret: [UInt8], now: Double) -> String {
        precondition(!secret.isEmpty, "empty token secret")
        precondition(BuyerClaims.isValidSub(sub), "invalid sub")
        precondition(trips?.allSatisfy(Validation.isTripId) ?? true, "invalid trip id")
        precondition(ttl > 0 && ttl < 1e15 && abs(now) < 1e15, "ttl must be positive, times in range")

        var w = JSONWriter()
        w.beginObject()
        w.field("sub", sub)
        if let trips { w.field("trips", strings: trips) }
        let iat = Int64(now.rounded(.down))
        w.field("iat", iat)
        w.field("exp", iat + Int64(ttl.rounded(.up)))
        w.endObject()

        let signingInput = Base64URL.encode(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8)) + "." + Base64URL.encode(w.bytes)
        let signature = HMACSHA256.authenticationCode(key: secret, message: Array(signingInput.utf8))
        return signingInput + "." + Base64URL.encode(signature)
    }

    /// Whether `value` is a string of exactly these bytes. Not `==`: Swift compares
    /// strings by canonical equivalence, and a header means what its bytes say.
    private static func isExactly(_ value: JSON, _ expected: String) -> Bool {
        guard case let .string(s) = value else { return false }
        return s.utf8.elementsEqual(expected.utf8)
    }

    /// The members of the JSON object `part` encodes, or nil when it is not strict
    /// base64url of UTF-8 JSON holding one object with distinct keys.
    private static func jsonObject(_ part: ArraySlice<UInt8>) -> JSON? {
        guard let raw = Base64URL.decode(bytes: part),
              let text = String(validating: raw, as: UTF8.self),
              let json = try? JSON.parse(text, maxDepth: 8),
              case let .object(members) = json
        else { return nil }
        var seen = Set<String>()
        for (key, _) in members where !seen.insert(key).inserted { return nil }
        return json
    }

    /// The claims of a payload object, or nil when one is missing or invalid.
    private static func claims(_ payload: JSON) -> BuyerClaims? {
        guard let sub = payload["sub"]?.stringValue, BuyerClaims.isValidSub(sub) else { return nil }
        guard let exp = time(payload["exp"]) else { return nil }
        var claims = BuyerClaims(sub: sub, exp: exp)
        if let nbf = payload["nbf"] {
            guard let t = time(nbf) else { return nil }
            claims.nbf = t
        }
        if let iat = payload["iat"] {
            guard let t = time(iat) else { return nil }
            claims.iat = t
        }
        if let trips = payload["trips"] {
            guard let list = trips.arrayValue else { return nil }
            var set = Set<String>()
            for item in list {
                guard let id = item.stringValue, Validation.isTripId(id) else { return nil }
                set.insert(id)
            }
            claims.trips = set
        }
        return claims
    }

    /// A NumericDate (RFC 7519, section 2): a finite JSON number.
    private static func time(_ value: JSON?) -> Double? {
        guard let n = value?.numberValue, n.isFinite else { return nil }
        return n
    }
}
