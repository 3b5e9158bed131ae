import Testing
@testable import SeatcastCore

@Suite("BearerCredential")
struct BearerCredentialTests {
    /// `Bearer <token68>` with any case of the scheme and one or more spaces gives the credential.
    @Test(arguments: [("Bearer abc", "abc"), ("bearer abc", "abc"), ("BEARER a.b.c", "a.b.c"),
                      ("Bearer   k_1-2~3+/==", "k_1-2~3+/==")])
    func parses(header: String, credential: String) {
        #expect(BearerCredential.parse(header) == credential)
    }

    /// Other schemes, a missing or empty credential, and characters outside token68 are refused.
    @Test(arguments: ["", "Bearer", "Bearer ", "Bearer  ", "Basic abc", "Bearerabc", "Bearer\tabc", "Bearer a b",
                      "Bearer a=b", "Bearer ==", "Bearer abc ", "Bearer ab\"c", "Token abc", " Bearer abc"])
    func refuses(header: String) {
        #expect(BearerCredential.parse(header) == nil)
    }
}
