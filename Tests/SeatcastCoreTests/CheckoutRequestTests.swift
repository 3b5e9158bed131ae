import Testing
@testable import SeatcastCore

// `token`, the valid hold token standing in for docs/PROTOCOL.md's `<token>`, is RequestDecoderTests'.

private func decode(_ text: String) -> Result<Request, ProtocolError> {
    RequestDecoder().decode(Array(text.utf8))
}

private func code(_ r: Result<Request, ProtocolError>) -> ErrorCode? {
    if case let .failure(e) = r { return e.code }
    return nil
}

private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

/// Best-available `reserve` (docs/PROTOCOL.md 1.1): `count` and `together` instead of `seats`.
@Suite("RequestDecoder: best available")
struct BestAvailableRequestTests {
    /// The docs/PROTOCOL.md example decodes to a reserve of the best 2 seats together.
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

/// `extend` (docs/PROTOCOL.md 1.1) and its answers.
@Suite("RequestDecoder and Messages: extend")
struct ExtendRequestTests {
    /// The docs/PROTOCOL.md example decodes with its seconds and id; without seconds (or null) the TTL applies.
    @Test func example() {
        #expect(decode(#"{"type":"extend","tripId":"T1","hold":"\#(token)","seconds":120,"id":"e1"}"#)
            == .success(Request(id: "e1", .extend(tripId: "T1", hold: token, seconds: 120))))
        #expect(decode(#"{"type":"extend","tripId":"T1","hold":"\#(token)"}"#)
            == .success(Request(.extend(tripId: "T1", hold: token, seconds: nil))))
        #expect(decode(#"{"type":"extend","tripId":"T1","hold":"\#(token)","seconds":null}"#)
            == .success(Request(.extend(tripId: "T1", hold: token, seconds: nil))))
        #expect(decode(#"{"type":"extend","tripId":"T1","hold":"\#(token)","seconds":31536000}"#)
            == .success(Request(.extend(tripId: "T1", hold: token, seconds: 31_536_000))))
    }

    /// A missing or bad hold, bad seconds (not a whole number from 1 to a year) are `bad_request` with the id echoed; a bad trip id `unknown_trip`.
    @Test func badInput() {
        #expect(code(decode(#"{"type":"extend","tripId":"T1"}"#)) == .badRequest)
        #expect(code(decode(#"{"type":"extend","tripId":"T1","hold":"short"}"#)) == .badRequest)
        for bad in ["0", "-5", "1.5", "\"60\"", "true", "31536001"] {
            let r = decode(#"{"type":"extend","tripId":"T1","hold":"\#(token)","seconds":\#(bad),"id":"e2"}"#)
            #expect(code(r) == .badRequest, "seconds \(bad)")
            if case let .failure(e) = r { #expect(e.id == "e2") }
        }
        #expect(code(decode(#"{"type":"extend","tripId":"T/1","hold":"\#(token)"}"#)) == .unknownTrip)
        #expect(code(decode(#"{"type":"extend","hold":"\#(token)"}"#)) == .badRequest)
    }

    /// Over HTTP (`POST /api/trips/{id}/extend`, once routed) the body is the same without `type`.
    @Test func http() {
        #expect(RequestDecoder().decodeHTTP(Array(#"{"hold":"\#(token)","seconds":60}"#.utf8), type: "extend", tripId: "T1")
            == .success(Request(.extend(tripId: "T1", hold: token, seconds: 60))))
    }

    /// Words: `extend TRIP HOLD [SECONDS]`.
    @Test func words() {
        #expect(decode("extend T1 \(token)\n") == .success(Request(.extend(tripId: "T1", hold: token, seconds: nil))))
        #expect(decode("extend T1 \(token) 90") == .success(Request(.extend(tripId: "T1", hold: token, seconds: 90))))
        #expect(decode("EXTEND T1 \(token) 90") == .success(Request(.extend(tripId: "T1", hold: token, seconds: 90))))
        for bad in ["extend", "extend T1", "extend T1 short", "extend T1 \(token) 0", "extend T1 \(token) 1.5",
                    "extend T1 \(token) 90 more", "extend T1 \(token) -3"] {
            #expect(code(decode(bad)) == .badRequest, "\(bad)")
        }
        #expect(code(decode("extend T1! \(token)")) == .unknownTrip)
        #expect(RequestDecoder.helpText.contains("extend TRIP HOLD [SECONDS]"))
    }

    /// `extended` byte for byte, in the key order of the docs/PROTOCOL.md example; and the two rejections an extend can get besides those of version 1.
    @Test func frames() {
        // 2026-11-21T19:30:00Z
        #expect(text(Messages.extended(id: "e1", tripId: "T1", hold: "<token>", seats: ["3A", "3B"], untilMs: 1_795_289_400_000))
            == #"{"type":"extended","id":"e1","tripId":"T1","hold":"<token>","seats":["3A","3B"],"until":"2026-11-21T19:30:00.000Z"}"#)
        #expect(text(Messages.extended(id: nil, tripId: "T1", hold: "<token>", seats: ["3A"], untilMs: 1_795_289_400_000))
            == #"{"type":"extended","tripId":"T1","hold":"<token>","seats":["3A"],"until":"2026-11-21T19:30:00.000Z"}"#)
        #expect(text(Messages.rejected(id: "e1", tripId: "T1", reason: .extendLimit, seats: ["3A", "3B"]))
            == #"{"type":"rejected","id":"e1","tripId":"T1","reason":"extend_limit","seats":["3A","3B"]}"#)
        #expect(text(Messages.rejected(id: "e1", tripId: "T1", reason: .holdExpired, seats: []))
            == #"{"type":"rejected","id":"e1","tripId":"T1","reason":"hold_expired","seats":[]}"#)
    }
}
