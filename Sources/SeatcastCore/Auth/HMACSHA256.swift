/// HMAC with SHA-256 (RFC 2104; test vectors in RFC 4231): the signature of
/// HS256 buyer tokens.
public enum HMACSHA256 {
    public static let byteCount = SHA256.digestByteCount

    /// HMAC-SHA256(key, message). A key longer than the 64-byte block is hashed
    /// first; a shorter one is padded with zeros (RFC 2104, section 2), so keys that
    /// differ only by trailing zero bytes are the same key (secrets from arguments
    /// or the environment cannot hold NUL). An empty key is allowed here (the RFC
    /// allows it); callers that take keys from configuration refuse empty ones.
    public static func authenticationCode(key: some Collection<UInt8>, message: some Sequence<UInt8>) -> [UInt8] {
        var k = key.count > SHA256.blockByteCount ? SHA256.hash(key) : Array(key)
        k.append(contentsOf: repeatElement(0, count: SHA256.blockByteCount - k.count))

        var inner = SHA256()
        inner.update(k.map { $0 ^ 0x36 })
        inner.update(message)
        let innerDigest = inner.finalize()

        var outer = SHA256()
        outer.update(k.map { $0 ^ 0x5c })
        outer.update(innerDigest)
        return outer.finalize()
    }
}
