/// Why a buyer token was refused. The reason is for logs and metrics (the raw
/// value is a label); the client is always answered `unauthorized`, so that a
/// caller learns nothing about which check failed.
public enum AuthError: String, Error, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Not three base64url parts of JSON objects, over the length cap, a duplicate
    /// key, a `typ` other than `JWT`, a `crit` header.
    case malformed
    /// `alg` missing or anything but exactly `HS256` (`none` included).
    case badAlgorithm = "bad_algorithm"
    /// The signature is not HMAC-SHA256 of the first two parts under the secret.
    case badSignature = "bad_signature"
    /// `now > exp + skew`.
    case expired
    /// `now < nbf - skew`.
    case notYetValid = "not_yet_valid"
    /// A claim is missing or of the wrong type or form (`sub`, `exp`, `nbf`, `iat`, `trips`).
    case badClaims = "bad_claims"

    public var description: String { rawValue }

    /// What the client is told, whatever the reason.
    public var code: ErrorCode { .unauthorized }
}
