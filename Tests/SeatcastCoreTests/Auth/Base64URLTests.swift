import Testing
@testable import SeatcastCore

@Suite("Base64URL")
struct Base64URLTests {
    /// The RFC 4648 (section 10) vectors, without padding.
    @Test(arguments: [("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"),
                      ("fooba", "Zm9vYmE"), ("foobar", "Zm9vYmFy")])
    func rfc4648Vectors(plain: String, encoded: String) {
        #expect(Base64URL.encode(Array(plain.utf8)) == encoded)
        #expect(Base64URL.decode(encoded) == Array(plain.utf8))
    }

    /// The URL alphabet: 62 and 63 are `-` and `_`, never `+` and `/`.
    @Test func urlAlphabet() {
        #expect(Base64URL.encode([0xfb, 0xff]) == "-_8")
        #expect(Base64URL.decode("-_8") == [0xfb, 0xff])
        #expect(Base64URL.decode("+/8") == nil)
    }

    /// Every byte string up to 70 bytes survives a round trip, and its encoding has no padding.
    @Test func roundTrip() {
        for n in 0...70 {
            let data = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 97 &+ 13) }
            let text = Base64URL.encode(data)
            #expect(!text.contains("="))
            #expect(text.count == (n * 4 + 2) / 3)
            #expect(Base64URL.decode(text) == data)
        }
    }

    /// Padding, characters outside the URL alphabet and whitespace are refused.
    @Test(arguments: ["Zg==", "Zm8=", "Zg=", "Zm9v+w", "Zm9v/w", "Zm 9v", "Zm9v\n", "Zm9v.", "Zm9vYmFy\u{0}", "Zm9vÿ", "=", "===="])
    func invalidCharacters(text: String) {
        #expect(Base64URL.decode(text) == nil)
    }

    /// A length of 4n+1 characters encodes no byte string and is refused.
    @Test(arguments: ["A", "Zm9vY", "Zm9vYmFyZ"])
    func impossibleLengths(text: String) {
        #expect(Base64URL.decode(text) == nil)
    }

    /// Non-zero unused bits in the last character are refused, so each byte string has one text.
    @Test func nonCanonicalTrailingBits() {
        #expect(Base64URL.decode("Zg") == [0x66])
        #expect(Base64URL.decode("Zh") == nil)
        #expect(Base64URL.decode("Zm8") == [0x66, 0x6f])
        #expect(Base64URL.decode("Zm9") == nil)
    }
}
