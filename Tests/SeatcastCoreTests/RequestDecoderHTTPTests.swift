import Testing
@testable import SeatcastCore

@Suite("RequestDecoder.decodeHTTP")
struct RequestDecoderHTTPTests {
    /// A reserve body without `type` or `tripId` takes both from the path.
    @Test func reserveFromPath() {
        #expect(decodeHTTP(#"{"seats":["3A","3B"],"hold":"\#(token)","id":"r17"}"#, type: "reserve")
            == .success(Request(id: "r17", .reserve(tripId: "T1", seats: ["3A", "3B"], hold: token))))
    }

    /// A confirm body with only a hold confirms all of the hold's seats.
    @Test func confirmFromPath() {
        #expect(decodeHTTP(#"{"hold":"\#(token)"}"#, type: "confirm", tripId: "trip-7")
            == .success(Request(.confirm(tripId: "trip-7", seats: nil, hold: token))))
    }

    /// A release body may use `seatNo`.
    @Test func releaseWithSeatNo() {
        #expect(decodeHTTP(#"{"hold":"\#(token)","seatNo":"3B"}"#, type: "release")
            == .success(Request(.release(tripId: "T1", seats: ["3B"], hold: token))))
    }

    /// A `tripId` in the body that agrees with the path is accepted.
    @Test func matchingTripId() {
        #expect(decodeHTTP(#"{"tripId":"T1","seats":["3A"]}"#, type: "reserve")
            == .success(Request(.reserve(tripId: "T1", seats: ["3A"], hold: nil))))
    }

    /// A `type` in the body is overridden by the endpoint's.
    @Test func bodyTypeIgnored() {
        #expect(decodeHTTP(#"{"type":"release","hold":"\#(token)"}"#, type: "confirm")
            == .success(Request(.confirm(tripId: "T1", seats: nil, hold: token))))
    }

    /// A `tripId` in the body that differs from the path is a `bad_request`.
    @Test(arguments: [#""T2""#, "1", "null", #""t1""#])
    func mismatchingTripId(value: String) {
        let r = decodeHTTP(#"{"tripId":\#(value),"hold":"\#(token)"}"#, type: "confirm")
        #expect(r.failureCode == .badRequest)
    }

    /// The error for a mismatching `tripId` echoes the body's id, as every error reply does when the id is readable.
    // BUG (fails today): decodeHTTP returns this error before reading `id`, so the HTTP error reply omits it.
    @Test func mismatchingTripIdEchoesId() {
        expectFailure(decodeHTTP(#"{"tripId":"T2","hold":"\#(token)","id":"h1"}"#, type: "confirm"), .badRequest, id: "h1")
    }

    /// An empty (or all-whitespace) body is an empty request: confirm and release lack a hold, reserve lacks seats.
    @Test(arguments: ["", " \r\n"])
    func emptyBody(body: String) {
        expectFailure(decodeHTTP(body, type: "confirm"), .badRequest)
        expectFailure(decodeHTTP(body, type: "release"), .badRequest)
        expectFailure(decodeHTTP(body, type: "reserve"), .badRequest)
    }

    /// A body that is not a JSON object is a `bad_request`.
    @Test(arguments: ["[]", "null", #""x""#, "42", #"[{"seats":["3A"]}]"#])
    func nonObjectBody(body: String) {
        expectFailure(decodeHTTP(body, type: "reserve"), .badRequest)
    }

    /// A malformed body is a `bad_request`.
    @Test(arguments: ["{", #"{"seats":["3A"]"#, "seats=3A", #"{"seats":["3A"]} {}"#])
    func malformedBody(body: String) {
        expectFailure(decodeHTTP(body, type: "reserve"), .badRequest)
    }

    /// An invalid trip id in the path is `unknown_trip`.
    @Test func invalidPathTrip() {
        expectFailure(decodeHTTP(#"{"seats":["3A"],"id":"q"}"#, type: "reserve", tripId: "T 1"), .unknownTrip, id: "q")
    }

    /// Errors inside an HTTP body echo its id like the WebSocket ones.
    @Test func bodyErrorsEchoId() {
        expectFailure(decodeHTTP(#"{"seats":[],"id":"h2"}"#, type: "reserve"), .badRequest, id: "h2")
        expectFailure(decodeHTTP(#"{"seats":["3A!"],"id":"h3"}"#, type: "reserve"), .unknownSeat, id: "h3")
        expectFailure(decodeHTTP(#"{"hold":"short","id":"h4"}"#, type: "release"), .badRequest, id: "h4")
    }
}
