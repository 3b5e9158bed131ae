import Testing
@testable import SeatcastCore

// The RequestDecoder suites (RequestDecoder*Tests.swift) and what they share.

/// A valid hold token (20 characters of the allowed alphabet) standing in for docs/PROTOCOL.md's `<token>`.
let token = "k2Jf9xQ_7bLm-3PzR0aV"

func decode(_ text: String, limits: Limits = Limits()) -> Result<Request, ProtocolError> {
    RequestDecoder(limits: limits).decode(Array(text.utf8))
}

func decodeHTTP(_ body: String, type: String, tripId: String = "T1") -> Result<Request, ProtocolError> {
    RequestDecoder().decodeHTTP(Array(body.utf8), type: type, tripId: tripId)
}

/// Checks that `result` is a failure with `code` and, when given, the echoed `id`.
func expectFailure(
    _ result: Result<Request, ProtocolError>, _ code: ErrorCode, id: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    switch result {
    case let .success(r):
        Issue.record("expected \(code), decoded \(r)", sourceLocation: sourceLocation)
    case let .failure(e):
        #expect(e.code == code, "message: \(e.message)", sourceLocation: sourceLocation)
        #expect(e.id == id, sourceLocation: sourceLocation)
        #expect(!e.message.isEmpty, sourceLocation: sourceLocation)
    }
}

extension Result where Failure == ProtocolError {
    var failureCode: ErrorCode? {
        if case let .failure(e) = self { return e.code }
        return nil
    }
}

@Suite("RequestDecoder: client frames of docs/PROTOCOL.md")
struct RequestDecoderGoldenTests {
    /// The plain `subscribe` example decodes to a subscription without a resume position.
    @Test func subscribe() {
        #expect(decode(#"{"type":"subscribe","tripId":"T1"}"#)
            == .success(Request(.subscribe(tripId: "T1", since: nil))))
    }

    /// The `subscribe` example with `since` decodes its epoch and seq into a stream position.
    @Test func subscribeSince() {
        #expect(decode(#"{"type":"subscribe","tripId":"T1","since":{"epoch":"k3f9","seq":41}}"#)
            == .success(Request(.subscribe(tripId: "T1", since: StreamPosition(epoch: "k3f9", seq: 41)))))
    }

    /// A `since` of null is the same as no `since` at all.
    @Test func subscribeSinceNull() {
        #expect(decode(#"{"type":"subscribe","tripId":"T1","since":null}"#)
            == .success(Request(.subscribe(tripId: "T1", since: nil))))
    }

    /// A `since` with seq 0 (the start of an epoch) is accepted.
    @Test func subscribeSinceZero() {
        #expect(decode(#"{"type":"subscribe","tripId":"T1","since":{"epoch":"e","seq":0}}"#)
            == .success(Request(.subscribe(tripId: "T1", since: StreamPosition(epoch: "e", seq: 0)))))
    }

    /// The `unsubscribe` example decodes to an unsubscription of that trip.
    @Test func unsubscribe() {
        #expect(decode(#"{"type":"unsubscribe","tripId":"T1"}"#) == .success(Request(.unsubscribe(tripId: "T1"))))
    }

    /// The `reserve` example decodes its seats, hold and id.
    @Test func reserve() {
        #expect(decode(#"{"type":"reserve","tripId":"T1","seats":["3A","3B"],"hold":"\#(token)","id":"r17"}"#)
            == .success(Request(id: "r17", .reserve(tripId: "T1", seats: ["3A", "3B"], hold: token))))
    }

    /// A `reserve` without `hold` decodes with a nil hold, which the server fills in.
    @Test func reserveWithoutHold() {
        #expect(decode(#"{"type":"reserve","tripId":"T1","seats":["3A"]}"#)
            == .success(Request(.reserve(tripId: "T1", seats: ["3A"], hold: nil))))
    }

    /// A `reserve` with `"hold":null` is the same as one without a hold.
    @Test func reserveWithNullHold() {
        #expect(decode(#"{"type":"reserve","tripId":"T1","seats":["3A"],"hold":null}"#)
            == .success(Request(.reserve(tripId: "T1", seats: ["3A"], hold: nil))))
    }

    /// `seatNo` (one string) stands in for a one-element `seats` list in a reserve.
    @Test func reserveWithSeatNo() {
        #expect(decode(#"{"type":"reserve","tripId":"T1","seatNo":"3A","id":"r20"}"#)
            == .success(Request(id: "r20", .reserve(tripId: "T1", seats: ["3A"], hold: nil))))
    }

    /// The `confirm` example decodes with no seats, meaning all of the hold's seats.
    @Test func confirm() {
        #expect(decode(#"{"type":"confirm","tripId":"T1","hold":"\#(token)","id":"r18"}"#)
            == .success(Request(id: "r18", .confirm(tripId: "T1", seats: nil, hold: token))))
    }

    /// A `confirm` naming seats keeps them in order.
    @Test func confirmWithSeats() {
        #expect(decode(#"{"type":"confirm","tripId":"T1","hold":"\#(token)","seats":["3B","3A"]}"#)
            == .success(Request(.confirm(tripId: "T1", seats: ["3B", "3A"], hold: token))))
    }

    /// `seatNo` stands in for `seats` in a confirm as well.
    @Test func confirmWithSeatNo() {
        #expect(decode(#"{"type":"confirm","tripId":"T1","hold":"\#(token)","seatNo":"3B"}"#)
            == .success(Request(.confirm(tripId: "T1", seats: ["3B"], hold: token))))
    }

    /// The `release` example decodes its hold, seats and id.
    @Test func release() {
        #expect(decode(#"{"type":"release","tripId":"T1","hold":"\#(token)","seats":["3B"],"id":"r19"}"#)
            == .success(Request(id: "r19", .release(tripId: "T1", seats: ["3B"], hold: token))))
    }

    /// A `release` without seats decodes with nil seats (all of the hold's seats).
    @Test func releaseWithoutSeats() {
        #expect(decode(#"{"type":"release","tripId":"T1","hold":"\#(token)"}"#)
            == .success(Request(.release(tripId: "T1", seats: nil, hold: token))))
    }

    /// `seatNo` stands in for `seats` in a release.
    @Test func releaseWithSeatNo() {
        #expect(decode(#"{"type":"release","tripId":"T1","hold":"\#(token)","seatNo":"3B","id":"x"}"#)
            == .success(Request(id: "x", .release(tripId: "T1", seats: ["3B"], hold: token))))
    }

    /// The `ping` example decodes with its id, which the reply echoes.
    @Test func ping() {
        #expect(decode(#"{"type":"ping","id":"p1"}"#) == .success(Request(id: "p1", .ping)))
    }

    /// `id` is at most 64 characters (Unicode scalars), whatever their UTF-8 length: 64
    /// accented letters or emoji are an id, 65 of anything are not.
    @Test(arguments: ["i", "é", "🚌", "✓"])
    func idOfSixtyFourCharacters(_ c: String) {
        let ok = String(repeating: c, count: 64), over = String(repeating: c, count: 65)
        var w = JSONWriter()
        w.beginObject(); w.field("type", "ping"); w.field("id", ok); w.endObject()
        #expect(RequestDecoder().decode(w.bytes) == .success(Request(id: ok, .ping)))
        var v = JSONWriter()
        v.beginObject(); v.field("type", "ping"); v.field("id", over); v.endObject()
        guard case let .failure(e) = RequestDecoder().decode(v.bytes) else {
            Issue.record("an id of 65 \(c) was accepted")
            return
        }
        #expect(e.code == .badRequest)
        #expect(e.message.contains("64 characters"))
    }

    /// A JSON `help` request decodes to help.
    @Test func helpJSON() {
        #expect(decode(#"{"type":"help"}"#) == .success(Request(.help)))
    }

    /// Key order does not matter and unknown extra fields are ignored (the protocol only grows).
    @Test func keyOrderAndExtraFields() {
        #expect(decode(#"{"id":"r1","future":{"x":[1,2]},"seats":["1A"],"tripId":"T1","type":"reserve"}"#)
            == .success(Request(id: "r1", .reserve(tripId: "T1", seats: ["1A"], hold: nil))))
    }

    /// Whitespace around and inside a JSON frame, including a trailing newline, is allowed.
    @Test func jsonWithWhitespace() {
        #expect(decode(" \n\t{ \"type\" : \"ping\" , \"id\" : \"p2\" }\r\n")
            == .success(Request(id: "p2", .ping)))
    }

    /// An id of exactly 64 characters is accepted and kept.
    @Test func idOf64Characters() {
        let id = String(repeating: "i", count: 64)
        #expect(decode(#"{"type":"ping","id":"\#(id)"}"#) == .success(Request(id: id, .ping)))
    }

    /// Seat names in the wide `row-col` form are accepted.
    @Test func wideSeatNames() {
        #expect(decode(#"{"type":"reserve","tripId":"T-2_b","seats":["3-27","12-1"]}"#)
            == .success(Request(.reserve(tripId: "T-2_b", seats: ["3-27", "12-1"], hold: nil))))
    }

    /// Exactly 10 seats (the default limit) are accepted.
    @Test func tenSeats() {
        let seats = (1...10).map { "\($0)A" }
        let list = seats.map { "\"\($0)\"" }.joined(separator: ",")
        #expect(decode(#"{"type":"reserve","tripId":"T1","seats":[\#(list)]}"#)
            == .success(Request(.reserve(tripId: "T1", seats: .listed(seats), hold: nil))))
    }
}
