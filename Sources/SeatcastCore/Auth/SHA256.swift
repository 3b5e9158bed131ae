/// SHA-256 (FIPS 180-4, section 6.2), written here so the core needs no crypto
/// package. Streaming: `update` any number of times, then `finalize` once.
///
/// Used for HMAC-SHA256 (buyer tokens) and to compare backend keys. Not a general
/// crypto library: no SHA-224, no bit-level input (whole bytes only, which is all
/// the protocol needs).
public struct SHA256: Sendable {
    public static let digestByteCount = 32
    public static let blockByteCount = 64

    private var state: [UInt32] = SHA256.initialState
    /// Input not yet compressed; always fewer than 64 bytes between calls.
    private var pending: [UInt8] = []
    /// Bytes hashed so far. The message length is taken mod 2^64 bits, as the
    /// standard says; nothing here comes near that.
    private var length: UInt64 = 0

    public init() {
        pending.reserveCapacity(Self.blockByteCount)
    }

    /// The digest of `bytes` in one call.
    public static func hash(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var h = SHA256()
        h.update(bytes)
        return h.finalize()
    }

    public mutating func update(_ bytes: some Sequence<UInt8>) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { update(buffer: $0) }
        if done == nil {
            Array(bytes).withUnsafeBufferPointer { update(buffer: $0) }
        }
    }

    /// Pads the message (0x80, zeros, the 64-bit big-endian bit length) and returns
    /// the 32-byte digest. The value is spent afterwards.
    public consuming func finalize() -> [UInt8] {
        let bitLength = length &* 8
        var tail: [UInt8] = [0x80]
        // Pad so that pending + tail ends 8 bytes short of a block boundary.
        let used = (pending.count + 1) % Self.blockByteCount
        let zeros = used <= 56 ? 56 - used : 56 + Self.blockByteCount - used
        tail.append(contentsOf: repeatElement(0, count: zeros))
        for shift in stride(from: 56, through: 0, by: -8) {
            tail.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift)))
        }
        tail.withUnsafeBufferPointer { update(buffer: $0) }
        precondition(pending.isEmpty)
        var out = [UInt8]()
        out.reserveCapacity(Self.digestByteCount)
        for word in state {
            out.append(UInt8(truncatingIfNeeded: word >> 24))
            out.append(UInt8(truncatingIfNeeded: word >> 16))
            out.append(UInt8(truncatingIfNeeded: word >> 8))
            out.append(UInt8(truncatingIfNeeded: word))
        }
        return out
    }

    private mutating func update(buffer: UnsafeBufferPointer<UInt8>) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        length &+= UInt64(buffer.count)
        var i = 0
        if !pending.isEmpty {
            let take = min(Self.blockByteCount - pending.count, buffer.count)
            pending.append(contentsOf: UnsafeBufferPointer(start: base, count: take))
            i = take
            guard pending.count == Self.blockByteCount else { return }
            let block = pending
            pending.removeAll(keepingCapacity: true)
            block.withUnsafeBufferPointer { Self.compress(&state, $0.baseAddress!) }
        }
        while buffer.count - i >= Self.blockByteCount {
            Self.compress(&state, base + i)
            i += Self.blockByteCount
        }
        if i < buffer.count {
            pending.append(contentsOf: UnsafeBufferPointer(start: base + i, count: buffer.count - i))
        }
    }

    @inline(__always)
    private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }

    /// One application of the compression function to the 64-byte block at `p`.
    private static func compress(_ h: inout [UInt32], _ p: UnsafePointer<UInt8>) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
            for t in 0..<16 {
                w[t] = UInt32(p[4 * t]) << 24 | UInt32(p[4 * t + 1]) << 16
                    | UInt32(p[4 * t + 2]) << 8 | UInt32(p[4 * t + 3])
            }
            for t in 16..<64 {
                let s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3)
                let s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10)
                w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
            }
            var a = h[0], b = h[1], c = h[2], d = h[3]
            var e = h[4], f = h[5], g = h[6], hh = h[7]
            for t in 0..<64 {
                let bigS1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
                let ch = (e & f) ^ (~e & g)
                let t1 = hh &+ bigS1 &+ ch &+ k[t] &+ w[t]
                let bigS0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
                let maj = (a & b) ^ (a & c) ^ (b & c)
                let t2 = bigS0 &+ maj
                hh = g; g = f; f = e; e = d &+ t1
                d = c; c = b; b = a; a = t1 &+ t2
            }
            h[0] &+= a; h[1] &+= b; h[2] &+= c; h[3] &+= d
            h[4] &+= e; h[5] &+= f; h[6] &+= g; h[7] &+= hh
        }
    }

    /// H(0): the first 32 bits of the fractional parts of the square roots of the
    /// first 8 primes (FIPS 180-4, 5.3.3).
    private static let initialState: [UInt32] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    ]

    /// K: the first 32 bits of the fractional parts of the cube roots of the first
    /// 64 primes (FIPS 180-4, 4.2.2).
    private static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]
}
