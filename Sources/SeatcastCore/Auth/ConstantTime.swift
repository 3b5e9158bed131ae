/// Comparison of secrets whose running time does not depend on where they differ.
public enum ConstantTime {
    /// True when `a` and `b` are the same bytes. Every byte of the shorter input is
    /// compared (no early exit), so the time depends only on the lengths, which are
    /// not secret here: an HMAC-SHA256 signature is always 32 bytes, and backend keys
    /// are hashed to 32 bytes before they are compared (`BackendKey`). Inputs of
    /// different lengths are never equal.
    public static func equals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt(bitPattern: a.count ^ b.count)
        let n = min(a.count, b.count)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                for i in 0..<n { diff |= UInt(pa[i] ^ pb[i]) }
            }
        }
        return diff == 0
    }
}
