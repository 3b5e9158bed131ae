import Testing
@testable import SeatcastCore

@Suite("BackendKey")
struct BackendKeyTests {
    /// The configured key matches itself and nothing else: not a prefix, not an extension, not another case.
    @Test func matches() throws {
        let key = try #require(BackendKey("sk_live_4f9a0c"))
        #expect(key.matches("sk_live_4f9a0c"))
        #expect(!key.matches("sk_live_4f9a0"))
        #expect(!key.matches("sk_live_4f9a0c0"))
        #expect(!key.matches("SK_LIVE_4F9A0C"))
        #expect(!key.matches(String(repeating: "x", count: 1000)))
    }

    /// An empty key cannot be configured, and an empty bearer never matches.
    @Test func emptyKeys() throws {
        #expect(BackendKey("") == nil)
        let key = try #require(BackendKey("k"))
        #expect(!key.matches(""))
    }

    /// A key an `Authorization: Bearer` header could not carry is refused at configuration.
    @Test func keysMustBeToken68() {
        #expect(BackendKey("has space") == nil)
        #expect(BackendKey("bang!") == nil)
        #expect(BackendKey("==") == nil)
        #expect(BackendKey("a=b") == nil)
        #expect(BackendKey("abc+/=") != nil)
        #expect(BackendKey("x.y-z_~") != nil)
    }
}
