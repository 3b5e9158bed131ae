import Testing
@testable import SeatcastCore

/// 2026-11-21T19:30:00Z in ms since the Unix epoch (`date -u -d @1795289400`).
private let untilMs: Int64 = 1_795_289_400_000

private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

@Suite("Messages: server frames of docs/PROTOCOL.md, byte for byte")
struct MessagesGoldenTests {
    /// The timestamp used by the examples is the one `untilMs` stands for.
    @Test func exampleTimestamp() {
        // Independent arithmetic: 20778 days from 1970-01-01 to 2026-11-21, plus 19:30.
        #expect(Int64(20778 * 86400 + 19 * 3600 + 30 * 60) * 1000 == untilMs)
        #expect(Timestamp.iso8601(ms: untilMs) == "2026-11-21T19:30:00.000Z")
    }

    /// `reserved` matches the docs/PROTOCOL.md example.
    @Test func reserved() {
        let expected = #"{"type":"reserved","id":"r17","tripId":"T1","seats":["3A","3B"],"hold":"<token>","until":"2026-11-21T19:30:00.000Z"}"#
        #expect(text(Messages.reserved(id: "r17", tripId: "T1", seats: ["3A", "3B"], hold: "<token>", untilMs: untilMs)) == expected)
    }

    /// `confirmed` matches the docs/PROTOCOL.md example.
    @Test func confirmed() {
        let expected = #"{"type":"confirmed","id":"r18","tripId":"T1","seats":["3A","3B"]}"#
        #expect(text(Messages.confirmed(id: "r18", tripId: "T1", seats: ["3A", "3B"])) == expected)
    }

    /// `released` matches the docs/PROTOCOL.md example.
    @Test func released() {
        let expected = #"{"type":"released","id":"r19","tripId":"T1","seats":["3B"]}"#
        #expect(text(Messages.released(id: "r19", tripId: "T1", seats: ["3B"])) == expected)
    }

    /// `rejected` matches the docs/PROTOCOL.md example.
    @Test func rejected() {
        let expected = #"{"type":"rejected","id":"r17","tripId":"T1","reason":"seat_taken","seats":["3B"]}"#
        #expect(text(Messages.rejected(id: "r17", tripId: "T1", reason: .seatTaken, seats: ["3B"])) == expected)
    }

    /// `pong` matches the docs/PROTOCOL.md example.
    @Test func pong() {
        #expect(text(Messages.pong(id: "p1")) == #"{"type":"pong","id":"p1"}"#)
    }

    /// `error` matches the docs/PROTOCOL.md example.
    @Test func error() {
        let expected = #"{"type":"error","id":"r17","code":"bad_request","message":"seats must be a non-empty list"}"#
        let e = ProtocolError(.badRequest, "seats must be a non-empty list", id: "r17")
        #expect(text(Messages.error(e)) == expected)
    }

    /// `seat_locked` matches the docs/PROTOCOL.md example.
    @Test func seatLocked() {
        let expected = #"{"type":"seat_locked","tripId":"T1","seatNo":"3A","seq":42,"until":"2026-11-21T19:30:00.000Z"}"#
        #expect(text(Messages.event(TripEvent(tripId: "T1", seq: 42, seatNo: "3A", kind: .locked, untilMs: untilMs))) == expected)
    }

    /// `seat_released` matches the docs/PROTOCOL.md example.
    @Test func seatReleased() {
        let expected = #"{"type":"seat_released","tripId":"T1","seatNo":"3B","seq":43,"reason":"released"}"#
        #expect(text(Messages.event(TripEvent(tripId: "T1", seq: 43, seatNo: "3B", kind: .released, reason: "released"))) == expected)
    }

    /// `seat_booked` matches the docs/PROTOCOL.md example.
    @Test func seatBooked() {
        let expected = #"{"type":"seat_booked","tripId":"T1","seatNo":"3A","seq":44}"#
        #expect(text(Messages.event(TripEvent(tripId: "T1", seq: 44, seatNo: "3A", kind: .booked))) == expected)
    }

    /// `subscribed` matches the docs/PROTOCOL.md example.
    @Test func subscribed() {
        #expect(text(Messages.subscribed(id: nil, tripId: "T1", epoch: "k3f9", seq: 41))
            == #"{"type":"subscribed","tripId":"T1","epoch":"k3f9","seq":41}"#)
    }

    /// `unsubscribed` matches the docs/PROTOCOL.md example.
    @Test func unsubscribed() {
        #expect(text(Messages.unsubscribed(id: nil, tripId: "T1")) == #"{"type":"unsubscribed","tripId":"T1"}"#)
    }

    /// `snapshot` matches the docs/PROTOCOL.md example, joined without whitespace between tokens.
    @Test func snapshot() {
        let asInProtocol = """
        {"type":"snapshot","tripId":"T1","name":"Accra - Kumasi 08:00","epoch":"k3f9","seq":41,
         "rows":12,"cols":5,
         "seats":[{"seatNo":"1A","row":1,"col":1,"status":"available"},
                  {"seatNo":"1B","row":1,"col":2,"status":"held","until":"2026-11-21T19:30:00.000Z"},
                  {"seatNo":"1D","row":1,"col":4,"status":"booked"}]}
        """
        let expected = asInProtocol.split(separator: "\n")
            .map { String($0.drop(while: { $0 == " " })) }
            .joined()
        #expect(expected.hasPrefix(#"{"type":"snapshot","tripId":"T1","name":"Accra - Kumasi 08:00","epoch":"k3f9","seq":41,"rows":12"#))
        let s = TripSnapshot(tripId: "T1", name: "Accra - Kumasi 08:00", rows: 12, cols: 5, epoch: "k3f9", seq: 41, seats: [
            SeatState(seatNo: "1A", row: 1, col: 1, status: .available),
            SeatState(seatNo: "1B", row: 1, col: 2, status: .held, untilMs: untilMs),
            SeatState(seatNo: "1D", row: 1, col: 4, status: .booked),
        ])
        #expect(text(Messages.snapshot(s)) == expected)
    }

    /// The `GET /api/trips` list matches the shape of docs/PROTOCOL.md.
    @Test func trips() {
        let list = [TripSummary(tripId: "T1", name: "...", seats: 48, available: 45),
                    TripSummary(tripId: "T2", name: "Accra - Tamale", seats: 60, available: 0)]
        #expect(text(Messages.trips(list))
            == #"{"trips":[{"tripId":"T1","name":"...","seats":48,"available":45},{"tripId":"T2","name":"Accra - Tamale","seats":60,"available":0}]}"#)
        #expect(text(Messages.trips([])) == #"{"trips":[]}"#)
    }

    /// `help` is `{"type":"help","text":...}` carrying the decoder's help text.
    @Test func help() throws {
        let json = try JSON.parse(Messages.help(id: nil))
        #expect(json == .object([("type", .string("help")), ("text", .string(RequestDecoder.helpText))]))
        #expect(text(Messages.help(id: "q")).hasPrefix(#"{"type":"help","id":"q","text":"seatcast v1."#))
    }
}

@Suite("Messages: optional parts")
struct MessagesOptionalTests {
    /// Replies without an id leave the `id` key out entirely.
    @Test func noId() {
        #expect(text(Messages.pong(id: nil)) == #"{"type":"pong"}"#)
        #expect(text(Messages.confirmed(id: nil, tripId: "T1", seats: [])) == #"{"type":"confirmed","tripId":"T1","seats":[]}"#)
        #expect(text(Messages.error(ProtocolError(.unknownType, "x"))) == #"{"type":"error","code":"unknown_type","message":"x"}"#)
    }

    /// `subscribed` and `unsubscribed` echo an id right after the type when one is given.
    @Test func subscriptionAnswersWithId() {
        #expect(text(Messages.subscribed(id: "s1", tripId: "T1", epoch: "k3f9", seq: 0))
            == #"{"type":"subscribed","id":"s1","tripId":"T1","epoch":"k3f9","seq":0}"#)
        #expect(text(Messages.unsubscribed(id: "s2", tripId: "T1")) == #"{"type":"unsubscribed","id":"s2","tripId":"T1"}"#)
    }

    /// `seat_released` says `expired` when the event says so and defaults to `released`.
    @Test func releasedReason() {
        #expect(text(Messages.event(TripEvent(tripId: "T1", seq: 5, seatNo: "1A", kind: .released, reason: "expired")))
            == #"{"type":"seat_released","tripId":"T1","seatNo":"1A","seq":5,"reason":"expired"}"#)
        #expect(text(Messages.event(TripEvent(tripId: "T1", seq: 6, seatNo: "1A", kind: .released)))
            == #"{"type":"seat_released","tripId":"T1","seatNo":"1A","seq":6,"reason":"released"}"#)
    }

    /// Only `seat_locked` carries `until`, and only `seat_released` carries `reason`.
    @Test func eventFieldsByKind() {
        #expect(text(Messages.event(TripEvent(tripId: "T1", seq: 7, seatNo: "1A", kind: .booked, untilMs: untilMs, reason: "x")))
            == #"{"type":"seat_booked","tripId":"T1","seatNo":"1A","seq":7}"#)
        #expect(text(Messages.event(TripEvent(tripId: "T1", seq: 8, seatNo: "1A", kind: .locked)))
            == #"{"type":"seat_locked","tripId":"T1","seatNo":"1A","seq":8}"#)
        #expect(text(Messages.event(TripEvent(tripId: "T1", seq: 9, seatNo: "1A", kind: .released, untilMs: untilMs)))
            == #"{"type":"seat_released","tripId":"T1","seatNo":"1A","seq":9,"reason":"released"}"#)
    }

    /// A snapshot writes `until` only for held seats, and an empty seat list as `[]`.
    @Test func snapshotUntilOnlyWhenHeld() {
        let s = TripSnapshot(tripId: "T9", name: "n", rows: 1, cols: 2, epoch: "e", seq: 0, seats: [
            SeatState(seatNo: "1A", row: 1, col: 1, status: .available, untilMs: untilMs),
            SeatState(seatNo: "1B", row: 1, col: 2, status: .held),
        ])
        #expect(text(Messages.snapshot(s))
            == #"{"type":"snapshot","tripId":"T9","name":"n","epoch":"e","seq":0,"rows":1,"cols":2,"seats":[{"seatNo":"1A","row":1,"col":1,"status":"available"},{"seatNo":"1B","row":1,"col":2,"status":"held"}]}"#)
        let empty = TripSnapshot(tripId: "T0", name: "", rows: 0, cols: 0, epoch: "e", seq: 3, seats: [])
        #expect(text(Messages.snapshot(empty))
            == #"{"type":"snapshot","tripId":"T0","name":"","epoch":"e","seq":3,"rows":0,"cols":0,"seats":[]}"#)
    }

    /// Every rejection reason is written by its wire name.
    @Test(arguments: [(RejectReason.seatTaken, "seat_taken"), (.notHeld, "not_held"), (.holdExpired, "hold_expired")])
    func rejectReasons(reason: RejectReason, name: String) {
        #expect(text(Messages.rejected(id: nil, tripId: "T1", reason: reason, seats: ["1A"]))
            == #"{"type":"rejected","tripId":"T1","reason":"\#(name)","seats":["1A"]}"#)
    }

    /// Error messages with quotes, backslashes and newlines stay valid JSON and parse back unchanged.
    @Test func errorMessageEscaping() throws {
        let message = "unknown type \"a\\b\"\nline\t2 \u{1}"
        let bytes = Messages.error(ProtocolError(.badRequest, message, id: "i\"d"))
        #expect(text(bytes) == #"{"type":"error","id":"i\"d","code":"bad_request","message":"unknown type \"a\\b\"\nline\t2 \u0001"}"#)
        let json = try JSON.parse(bytes)
        #expect(json["message"] == .string(message))
        #expect(json["id"] == .string("i\"d"))
    }

    /// Large sequence numbers are written as plain integers.
    @Test func largeSeq() {
        #expect(text(Messages.event(TripEvent(tripId: "T1", seq: 9_007_199_254_740_993, seatNo: "1A", kind: .booked)))
            == #"{"type":"seat_booked","tripId":"T1","seatNo":"1A","seq":9007199254740993}"#)
    }

    /// Every server message is one JSON object whose first member is its `type`.
    @Test func everyMessageIsATypedObject() throws {
        let frames: [[UInt8]] = [
            Messages.reserved(id: "a", tripId: "T1", seats: ["1A"], hold: "h", untilMs: 0),
            Messages.confirmed(id: "a", tripId: "T1", seats: ["1A"]),
            Messages.released(id: nil, tripId: "T1", seats: []),
            Messages.rejected(id: nil, tripId: "T1", reason: .notHeld, seats: []),
            Messages.pong(id: nil), Messages.help(id: nil),
            Messages.error(ProtocolError(.internal, "boom")),
            Messages.subscribed(id: nil, tripId: "T1", epoch: "e", seq: 1),
            Messages.unsubscribed(id: nil, tripId: "T1"),
            Messages.event(TripEvent(tripId: "T1", seq: 1, seatNo: "1A", kind: .locked, untilMs: -1)),
            Messages.snapshot(TripSnapshot(tripId: "T1", name: "x", rows: 1, cols: 1, epoch: "e", seq: 0,
                                           seats: [SeatState(seatNo: "1A", row: 1, col: 1, status: .held, untilMs: 5)])),
        ]
        for f in frames {
            guard case let .object(members) = try JSON.parse(f) else { Issue.record("not an object: \(text(f))"); continue }
            #expect(members.first?.0 == "type")
            #expect(members.first?.1.stringValue != nil)
        }
    }
}

@Suite("Domain names")
struct DomainTests {
    /// Seat statuses round-trip through their wire names and reject others.
    @Test func seatStatusNames() {
        for s in [SeatStatus.available, .held, .booked] { #expect(SeatStatus(name: s.name) == s) }
        #expect(SeatStatus.available.name == "available")
        #expect(SeatStatus.held.name == "held")
        #expect(SeatStatus.booked.name == "booked")
        #expect(SeatStatus(name: "Available") == nil)
        #expect(SeatStatus(name: "") == nil)
    }

    /// Event kinds map to the three event types of docs/PROTOCOL.md.
    @Test func eventTypeNames() {
        #expect(TripEvent.Kind.locked.typeName == "seat_locked")
        #expect(TripEvent.Kind.released.typeName == "seat_released")
        #expect(TripEvent.Kind.booked.typeName == "seat_booked")
    }

    /// Error codes carry the wire names of docs/PROTOCOL.md semantics 8.
    @Test func errorCodeNames() {
        let codes: [ErrorCode] = [.badRequest, .unknownType, .unknownTrip, .unknownSeat, .tooLarge, .rateLimited, .unavailable, .internal]
        #expect(codes.map(\.rawValue) == ["bad_request", "unknown_type", "unknown_trip", "unknown_seat", "too_large",
                                           "rate_limited", "unavailable", "internal"])
        #expect(ErrorCode.tooLarge.description == "too_large")
    }

    /// Every error code maps to a 4xx or 5xx HTTP status for the HTTP mirror.
    @Test func errorCodeHTTPStatus() {
        #expect(ErrorCode.badRequest.httpStatus == 400)
        #expect(ErrorCode.unknownType.httpStatus == 400)
        #expect(ErrorCode.unknownTrip.httpStatus == 404)
        #expect(ErrorCode.unknownSeat.httpStatus == 404)
        #expect(ErrorCode.tooLarge.httpStatus == 413)
        #expect(ErrorCode.rateLimited.httpStatus == 429)
        #expect(ErrorCode.unavailable.httpStatus == 503)
        #expect(ErrorCode.internal.httpStatus == 500)
        #expect((400...599).contains(ErrorCode("future_code").httpStatus))
    }

    /// Rejection reasons carry the wire names of docs/PROTOCOL.md.
    @Test func rejectReasonNames() {
        #expect(RejectReason.seatTaken.rawValue == "seat_taken")
        #expect(RejectReason.notHeld.rawValue == "not_held")
        #expect(RejectReason.holdExpired.description == "hold_expired")
    }

    /// The default limits are the ones docs/PROTOCOL.md states.
    @Test func defaultLimits() {
        let l = Limits()
        #expect(l.maxMessageBytes == 65536)
        #expect(l.maxSeatsPerRequest == 10)
        #expect(l.maxSubscriptions == 64)
        #expect(l.messagesPerSecond == 50)
        #expect(l.messageBurst == 100)
    }

    /// `Command.tripId` reads the trip of every command.
    @Test func commandTripId() {
        #expect(Command.reserve(tripId: "A", seats: ["1A"], hold: "h").tripId == "A")
        #expect(Command.confirm(tripId: "B", seats: nil, hold: "h").tripId == "B")
        #expect(Command.release(tripId: "C", seats: ["1A"], hold: "h").tripId == "C")
    }
}
