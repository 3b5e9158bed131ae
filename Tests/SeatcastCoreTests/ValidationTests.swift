import Testing
@testable import SeatcastCore

@Suite("Validation")
struct ValidationTests {
    /// Trip ids of 1 to 64 of `A-Z a-z 0-9 _ -` are valid.
    @Test(arguments: ["T1", "t", "0", "-", "_", "Accra_Kumasi-0800", String(repeating: "x", count: 64)])
    func validTripIds(s: String) {
        #expect(Validation.isTripId(s))
    }

    /// Empty, over-long and trip ids with other characters are invalid.
    @Test(arguments: ["", String(repeating: "x", count: 65), "T 1", "T.1", "T/1", "T1\n", "Tür", "T1;", "T%31", "T+1"])
    func invalidTripIds(s: String) {
        #expect(!Validation.isTripId(s))
    }

    /// Seat numbers of 1 to 16 of `A-Z a-z 0-9 -` are valid, including the wide form.
    @Test(arguments: ["1A", "12C", "3-27", "a", String(repeating: "9", count: 16)])
    func validSeatNumbers(s: String) {
        #expect(Validation.isSeatNo(s))
    }

    /// Empty, over-long and seat numbers with other characters (even `_`) are invalid.
    @Test(arguments: ["", String(repeating: "9", count: 17), "3_A", "3 A", "3A!", "3.A", "Ä1", "3A\u{0}"])
    func invalidSeatNumbers(s: String) {
        #expect(!Validation.isSeatNo(s))
    }

    /// Hold tokens of exactly 16 and 128 characters are valid; 15 and 129 are not.
    @Test func holdTokenLengthBoundaries() {
        #expect(!Validation.isHoldToken(String(repeating: "a", count: 15)))
        #expect(Validation.isHoldToken(String(repeating: "a", count: 16)))
        #expect(Validation.isHoldToken(String(repeating: "Z", count: 64)))
        #expect(Validation.isHoldToken(String(repeating: "9", count: 128)))
        #expect(!Validation.isHoldToken(String(repeating: "9", count: 129)))
        #expect(!Validation.isHoldToken(""))
    }

    /// Hold tokens may use every character of `A-Z a-z 0-9 _ -` and nothing else.
    @Test func holdTokenAlphabet() {
        #expect(Validation.isHoldToken("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"))
        for bad in [" ", "+", "/", "=", ".", "~", "é", "\n", "\u{0}", "!"] {
            #expect(!Validation.isHoldToken("abcdefghijklmnop" + bad), "\(bad.debugDescription)")
        }
    }

    /// Length counts bytes, so 8 two-byte characters are not a 16-character token.
    @Test func holdTokenNonASCII() {
        #expect(!Validation.isHoldToken(String(repeating: "é", count: 16)))
    }
}

@Suite("HoldToken")
struct HoldTokenTests {
    /// A generated token is 24 base64url characters and passes hold-token validation.
    @Test func generatedTokenIsValid() {
        for _ in 0..<100 {
            let t = HoldToken.generate()
            #expect(t.utf8.count == 24)
            #expect(Validation.isHoldToken(t))
        }
    }

    /// Generated tokens are distinct.
    @Test func generatedTokensAreDistinct() {
        let tokens = (0..<10_000).map { _ in HoldToken.generate() }
        #expect(Set(tokens).count == tokens.count)
    }

    /// Generated tokens use the whole 64-character alphabet at every position (they are not biased or constant).
    @Test func generatedTokensUseTheAlphabet() {
        let tokens = (0..<2_000).map { _ in Array(HoldToken.generate().utf8) }
        var all = Set<UInt8>()
        for t in tokens { all.formUnion(t) }
        #expect(all.count == 64)
        for pos in 0..<24 {
            let distinct = Set(tokens.map { $0[pos] })
            #expect(distinct.count > 40, "position \(pos)")
        }
    }

    /// A generated token is accepted by the decoder as a hold.
    @Test func generatedTokenDecodes() {
        let t = HoldToken.generate()
        let r = RequestDecoder().decode(Array("confirm T1 \(t)".utf8))
        #expect(r == .success(Request(.confirm(tripId: "T1", seats: nil, hold: t))))
    }
}
