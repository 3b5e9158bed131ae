import Testing
@testable import SeatcastCore

@Suite("AuthError")
struct AuthErrorTests {
    /// `unauthorized` is HTTP 401 and `forbidden` 403, with their wire names.
    @Test func httpStatuses() {
        #expect(ErrorCode.unauthorized.description == "unauthorized")
        #expect(ErrorCode.unauthorized.httpStatus == 401)
        #expect(ErrorCode.forbidden.description == "forbidden")
        #expect(ErrorCode.forbidden.httpStatus == 403)
        #expect(ErrorCode.unauthorized == ErrorCode("unauthorized"))
    }
}
