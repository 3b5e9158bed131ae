import Testing
@testable import SeatcastCore

@Suite("ConstantTime")
struct ConstantTimeTests {
    /// Equal inputs compare equal, including two empty ones.
    @Test func equal() {
        #expect(ConstantTime.equals([], []))
        #expect(ConstantTime.equals([1, 2, 3], [1, 2, 3]))
        let digest = SHA256.hash("x".utf8)
        #expect(ConstantTime.equals(digest, digest))
    }

    /// Inputs of the same length that differ anywhere (first, middle, last byte, one bit) are unequal.
    @Test func unequalSameLength() {
        let a = [UInt8](repeating: 0x5a, count: 32)
        for i in [0, 15, 31] {
            for bit in [0, 7] {
                var b = a
                b[i] ^= UInt8(1 << bit)
                #expect(!ConstantTime.equals(a, b))
                #expect(!ConstantTime.equals(b, a))
            }
        }
    }

    /// Inputs of different lengths are unequal, also when one is a prefix of the other or empty.
    @Test func unequalDifferentLengths() {
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2]))
        #expect(!ConstantTime.equals([1, 2], [1, 2, 3]))
        #expect(!ConstantTime.equals([], [0]))
        #expect(!ConstantTime.equals([0], []))
        #expect(!ConstantTime.equals([0, 0], [0, 0, 0, 0]))
    }
}
