import Testing
@testable import SeatcastCore

@Suite("AuthError")
struct AuthErrorTests {
    /// Every answer to a refused token is `unauthorized`; the reasons have stable labels.
    @Test func everyReasonIsUnauthorized() {
        #expect(AuthError.allCases.allSatisfy { $0.code == .unauthorized })
        #expect(AuthError.allCases.map(\.description)
            == ["malformed", "bad_algorithm", "bad_signature", "expired", "not_yet_valid", "bad_claims"])
    }

    /// `unauthorized` is HTTP 401 and `forbidden` 403, with their wire names.
    @Test func httpStatuses() {
        #expect(ErrorCode.unauthorized.description == "unauthorized")
        #expect(ErrorCode.unauthorized.httpStatus == 401)
        #expect(ErrorCode.forbidden.description == "forbidden")
        #expect(ErrorCode.forbidden.httpStatus == 403)
        #expect(ErrorCode.unauthorized == ErrorCode("unauthorized"))
    }
}
