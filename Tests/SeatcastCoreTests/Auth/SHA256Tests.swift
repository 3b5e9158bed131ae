import Testing
@testable import SeatcastCore

@Suite("SHA256")
struct SHA256Tests {
    /// The NIST example messages (FIPS 180-4 examples, SHA-256) hash to their published digests.
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
    ])
    func nistVectors(message: String, digest: String) {
        #expect(hex(SHA256.hash(message.utf8)) == digest)
    }

    /// One million 'a' hash to the NIST digest, in one call and fed in uneven pieces.
    @Test func oneMillionA() {
        let expected = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        let million = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(hex(SHA256.hash(million)) == expected)

        var h = SHA256()
        var i = 0
        var piece = 1
        while i < million.count {
            let n = min(piece, million.count - i)
            h.update(million[i..<i + n])
            i += n
            piece = piece % 131 + 7
        }
        #expect(hex(h.finalize()) == expected)
    }

    /// Messages of every length around the padding boundaries (55, 56, 63, 64, 119, 120 bytes) hash
    /// the same whether given at once, byte by byte, or from a non-contiguous sequence.
    @Test func streamingMatchesOneShotAcrossPaddingBoundaries() {
        for n in 0...130 {
            let message = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            let oneShot = SHA256.hash(message)
            var h = SHA256()
            for b in message { h.update(CollectionOfOne(b)) }
            #expect(h.finalize() == oneShot, "length \(n)")
            #expect(SHA256.hash(message.lazy.map { $0 }) == oneShot, "length \(n), lazy")
        }
        // Known digest of a 64-byte message (one full block, padding in a second block).
        #expect(hex(SHA256.hash(Array(repeating: UInt8(ascii: "a"), count: 64)))
            == "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb")
    }
}
