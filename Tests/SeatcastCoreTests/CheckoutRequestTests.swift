import Testing
@testable import SeatcastCore

/// A valid hold token standing in for PROTOCOL.md's `<token>`.
private let token = "k2Jf9xQ_7bLm-3PzR0aV"

private func decode(_ text: String) -> Result<Request, ProtocolError> {
    RequestDecoder().decode(Array(text.utf8))
}

private func code(_ r: Result<Request, ProtocolError>) -> ErrorCode? {
    if case let .failure(e) = r { return e.code }
    return nil
}

private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

/// Best-available `reserve` (PROTOCOL.md 1.1): `count` and `together` instead of `seats`.
@Suite("RequestDecoder: best available")
struct BestAvailableRequestTests {
    /// The PROTOCOL.md example decodes to a reserve of the best 2 seats together.
    @Test func example() {
        #expect(decode(#"{"type":"reserve","tripId":"T1","count":2,"together":true,"hold":"\#(token)","id":"b1"}"#)
            == .success(Request(id: "b1", .reserve(tripId: "T1", seats: .best(count: 2, together: true), hold: token))))
    }

    /// `together` is optional (default false), `null` counts as absent, and so does a `null` seats next to a count.
    @Test func optionalFields() {
        let single = Request(.reserve(tripId: "T1", seats: .best(count: 3, together: false), hold: nil))
        #expect(decode(#"{"type":"reserve","tripId":"T1","count":3}"#) == .success(single))
        #expect(decode(#"{"type":"reserve","tripId":"T1","count":3,"together":false}"#) == .success(single))
        #expect(decode(#"{"type":"reserve","tripId":"T1","count":3,"together":null,"seats":null}"#) == .success(single))
        #expect(decode(#"{"type":"reserve","tripId":"T1","count":1}"#)
            == .success(Request(.reserve(tripId: "T1", seats: .best(count: 1, together: false), hold: nil))))
        #expect(decode(#"{"type":"reserve","tripId":"T1","count":10,"together":true}"#)
            == .success(Request(.reserve(tripId: "T1", seats: .best(count: 10, together: true), hold: nil))))
    }

    /// `count` is a whole number from 1 to the seat limit: past it `too_large`, anything else `bad_request`; the id is echoed.
    @Test func badCounts() {
        #expect(code(decode(#"{"type":"reserve","tripId":"T1","count":11}"#)) == .tooLarge)
        for bad in ["0", "-1", "2.5", "\"2\"", "true", "[2]", "1e300"] {
            let r = decode(#"{"type":"reserve","tripId":"T1","count":\#(bad),"id":"b2"}"#)
            #expect(code(r) == .badRequest, "count \(bad)")
            if case let .failure(e) = r { #expect(e.id == "b2") }
        }
    }

    /// `count` with `seats` or `seatNo` is a `bad_request`, as is `together` without `count` or not a boolean.
    @Test func conflictingFields() {
        #expect(code(decode(#"{"type":"reserve","tripId":"T1","count":2,"seats":["3A","3B"]}"#)) == .badRequest)
        #expect(code(decode(#"{"type":"reserve","tripId":"T1","count":1,"seatNo":"3A"}"#)) == .badRequest)
        #expect(code(decode(#"{"type":"reserve","tripId":"T1","seats":["3A","3B"],"together":true}"#)) == .badRequest)
        #expect(code(decode(#"{"type":"reserve","tripId":"T1","together":true}"#)) == .badRequest)
        #expect(code(decode(#"{"type":"reserve","tripId":"T1","count":2,"together":"yes"}"#)) == .badRequest)
        #expect(code(decode(#"{"type":"reserve","tripId":"T1"}"#)) == .badRequest)
    }

    /// Over HTTP the body is the same without `type`.
    @Test func http() {
        #expect(RequestDecoder().decodeHTTP(Array(#"{"count":2,"together":true}"#.utf8), type: "reserve", tripId: "T1")
            == .success(Request(.reserve(tripId: "T1", seats: .best(count: 2, together: true), hold: nil))))
    }

    /// Words: `reserve TRIP COUNT [together] [hold=TOKEN]`; a number where the first seat would be is a count.
    @Test func words() {
        #expect(decode("reserve T1 2 together\n")
            == .success(Request(.reserve(tripId: "T1", seats: .best(count: 2, together: true), hold: nil))))
        #expect(decode("reserve T1 3")
            == .success(Request(.reserve(tripId: "T1", seats: .best(count: 3, together: false), hold: nil))))
        #expect(decode("reserve T1 2 Together hold=\(token)")
            == .success(Request(.reserve(tripId: "T1", seats: .best(count: 2, together: true), hold: token))))
        #expect(decode("reserve T1 hold=\(token) 4")
            == .success(Request(.reserve(tripId: "T1", seats: .best(count: 4, together: false), hold: token))))
        #expect(decode("reserve T1 3A 3B") == .success(Request(.reserve(tripId: "T1", seats: ["3A", "3B"], hold: nil))))
    }

    /// Bad word forms: a zero or too large count, a count followed by seats or other words.
    @Test func badWords() {
        #expect(code(decode("reserve T1 0")) == .badRequest)
        #expect(code(decode("reserve T1 11")) == .tooLarge)
        #expect(code(decode("reserve T1 99999999999999999999999")) == .badRequest)
        #expect(code(decode("reserve T1 2 3A")) == .badRequest)
        #expect(code(decode("reserve T1 2 together again")) == .badRequest)
        #expect(code(decode("reserve T1 2 together together")) == .badRequest)
    }

    /// The help text shows the count form.
    @Test func help() {
        #expect(RequestDecoder.helpText.contains("reserve TRIP COUNT [together]"))
    }

    /// The new rejection, byte for byte: `not_enough_seats` with an empty seat list.
    @Test func notEnoughSeatsFrame() {
        #expect(text(Messages.rejected(id: "b1", tripId: "T1", reason: .notEnoughSeats, seats: []))
            == #"{"type":"rejected","id":"b1","tripId":"T1","reason":"not_enough_seats","seats":[]}"#)
    }
}
