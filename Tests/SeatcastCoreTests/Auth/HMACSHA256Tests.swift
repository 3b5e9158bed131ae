import Testing
@testable import SeatcastCore

@Suite("HMACSHA256")
struct HMACSHA256Tests {
    /// RFC 4231 test cases 1 to 7 for HMAC-SHA-256 (case 5 compares the first 128 bits, as the RFC does).
    @Test(arguments: [
        (1, bytes(hex: String(repeating: "0b", count: 20)), Array("Hi There".utf8),
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        (2, Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        (3, bytes(hex: String(repeating: "aa", count: 20)), bytes(hex: String(repeating: "dd", count: 50)),
         "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
        (4, bytes(hex: "0102030405060708090a0b0c0d0e0f10111213141516171819"), bytes(hex: String(repeating: "cd", count: 50)),
         "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
        (5, bytes(hex: String(repeating: "0c", count: 20)), Array("Test With Truncation".utf8),
         "a3b6167473100ee06e0c796c2955552b"),
        (6, bytes(hex: String(repeating: "aa", count: 131)), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        (7, bytes(hex: String(repeating: "aa", count: 131)),
         Array("This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.".utf8),
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
    ])
    func rfc4231(testCase: Int, key: [UInt8], data: [UInt8], expected: String) {
        let mac = hex(HMACSHA256.authenticationCode(key: key, message: data))
        #expect(mac.count == 64)
        #expect(mac.hasPrefix(expected), "test case \(testCase)")
    }

    /// A key of exactly one block (64 bytes) is used as it is, and one of 65 bytes is hashed first:
    /// the two give different codes, and a 65-byte key equals its own digest as key.
    @Test func keyLengthsAroundTheBlockSize() {
        let message = Array("seatcast".utf8)
        let k64 = [UInt8](repeating: 0x42, count: 64)
        let k65 = [UInt8](repeating: 0x42, count: 65)
        #expect(HMACSHA256.authenticationCode(key: k64, message: message)
            != HMACSHA256.authenticationCode(key: k65, message: message))
        #expect(HMACSHA256.authenticationCode(key: k65, message: message)
            == HMACSHA256.authenticationCode(key: SHA256.hash(k65), message: message))
    }
}
