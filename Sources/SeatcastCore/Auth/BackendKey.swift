/// The site backend's API key (`--api-key`, `SEATCAST_API_KEY`), kept only as its
/// SHA-256. A presented key is hashed too and the two digests are compared in
/// constant time, so neither the key's content nor its length shows in the timing.
public struct BackendKey: Sendable {
    private let digest: [UInt8]

    /// Nil for a key that could never be presented, so that configuration can refuse
    /// it at start: empty (an empty bearer must not get in), or not a token68
    /// (`BearerCredential.isToken68`: letters, digits, `- . _ ~ + /`, then `=`),
    /// which an `Authorization: Bearer` header cannot carry.
    public init?(_ key: String) {
        guard BearerCredential.isToken68(key.utf8) else { return nil }
        digest = SHA256.hash(key.utf8)
    }

    /// Whether `presented` (the bearer credential) is the key. Empty never matches.
    public func matches(_ presented: String) -> Bool {
        // The empty check is on the caller's own input: its length is no secret.
        guard !presented.isEmpty else { return false }
        return ConstantTime.equals(SHA256.hash(presented.utf8), digest)
    }
}
