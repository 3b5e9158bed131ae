import Testing
@testable import SeatcastCore

/// A valid hold token (20 characters of the allowed alphabet) standing in for PROTOCOL.md's `<token>`.
private let token = "k2Jf9xQ_7bLm-3PzR0aV"

private func decode(_ text: String, limits: Limits = Limits()) -> Result<Request, ProtocolError> {
    RequestDecoder(limits: limits).decode(Array(text.utf8))
}

private func decodeHTTP(_ body: String, type: String, tripId: String = "T1") -> Result<Request, ProtocolError> {
    RequestDecoder().decodeHTTP(Array(body.utf8), type: type, tripId: tripId)
}

/// Checks that `result` is a failure with `code` and, when given, the echoed `id`.
private func expectFailure(
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

// MARK: - Golden client frames

@Suite("RequestDecoder: client frames of PROTOCOL.md")
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

// MARK: - Terminal shorthand

@Suite("RequestDecoder: terminal words")
struct RequestDecoderWordsTests {
    static let cases: [(String, Request)] = [
        ("sub T1\n", Request(.subscribe(tripId: "T1", since: nil))),
        ("unsub T1\n", Request(.unsubscribe(tripId: "T1"))),
        ("reserve T1 3A 3B\n", Request(.reserve(tripId: "T1", seats: ["3A", "3B"], hold: nil))),
        ("confirm T1 \(token)\n", Request(.confirm(tripId: "T1", seats: nil, hold: token))),
        ("release T1 \(token) 3B\n", Request(.release(tripId: "T1", seats: ["3B"], hold: token))),
        ("ping\n", Request(.ping)),
        ("help\n", Request(.help)),
        ("sub T1", Request(.subscribe(tripId: "T1", since: nil))),
        ("  \t sub   T1  \n", Request(.subscribe(tripId: "T1", since: nil))),
        ("\n\nping \t \n", Request(.ping)),
        ("subscribe T1\n", Request(.subscribe(tripId: "T1", since: nil))),
        ("unsubscribe T1\n", Request(.unsubscribe(tripId: "T1"))),
        ("reserve T1 3A hold=\(token)\n", Request(.reserve(tripId: "T1", seats: ["3A"], hold: token))),
        ("confirm T1 \(token) 3A 3B\n", Request(.confirm(tripId: "T1", seats: ["3A", "3B"], hold: token))),
        ("release T1 \(token)\n", Request(.release(tripId: "T1", seats: nil, hold: token))),
        ("PING\n", Request(.ping)),
        ("?\n", Request(.help)),
    ]

    /// Each word command of PROTOCOL.md (with websocat's trailing newline and extra whitespace) decodes to its request.
    @Test(arguments: cases)
    func words(text: String, expected: Request) {
        #expect(decode(text) == .success(expected))
    }

    /// A word line ending in CRLF (a terminal in CRLF mode) is trimmed like any surrounding whitespace.
    // BUG (fails today): Swift treats "\r\n" as one Character, which the word splitter in
    // RequestDecoder.decodeWords compares to "\r" and "\n" only, so it is never split off.
    @Test(arguments: [
        ("ping\r\n", Request(.ping)),
        ("sub T1\r\n", Request(.subscribe(tripId: "T1", since: nil))),
        ("reserve T1 3A 3B\r\n", Request(.reserve(tripId: "T1", seats: ["3A", "3B"], hold: nil))),
    ])
    func crlfLineEnding(text: String, expected: Request) {
        #expect(decode(text) == .success(expected))
    }

    /// A frame of only CRLF is empty after trimming, so it is a `bad_request` like any empty frame.
    // BUG (fails today), same cause: "\r\n" is read as an unknown command.
    @Test func crlfOnlyFrame() {
        expectFailure(decode(" \t\r\n "), .badRequest)
    }

    /// An unknown word gets `unknown_type`.
    @Test(arguments: ["frobnicate T1\n", "book T1 3A", "subscribe-all", "pong"])
    func unknownWord(text: String) {
        expectFailure(decode(text), .unknownType)
    }

    /// A frame that is not a JSON object does not start with `{`, so it is read as words and gets `unknown_type`.
    @Test(arguments: ["[1,2]", "\"ping\"", "42", "null", "[{\"type\":\"ping\"}]"])
    func nonObjectFrameIsWords(text: String) {
        expectFailure(decode(text), .unknownType)
    }

    /// An empty or all-whitespace frame is a `bad_request`.
    @Test(arguments: ["", " ", "\n", " \t\n ", "\r"])
    func emptyFrame(text: String) {
        expectFailure(decode(text), .badRequest)
    }

    /// A word command missing its arguments is a `bad_request` with a usage message.
    @Test(arguments: ["sub", "unsub\n", "reserve", "reserve T1", "reserve T1 hold=\(token)", "confirm T1", "release T1\n", "confirm"])
    func missingArguments(text: String) {
        expectFailure(decode(text), .badRequest)
    }

    /// An invalid trip id in a word command is `unknown_trip`.
    @Test(arguments: ["sub T1/x", "unsub T.1", "reserve ../T1 3A", "confirm T1! \(token)"])
    func invalidTrip(text: String) {
        expectFailure(decode(text), .unknownTrip)
    }

    /// An invalid seat name in a word command is `unknown_seat`.
    @Test func invalidSeatWord() {
        expectFailure(decode("reserve T1 3A 3_B"), .unknownSeat)
        expectFailure(decode("release T1 \(token) 3A! 3B"), .unknownSeat)
    }

    /// A repeated seat in a word command is a `bad_request`.
    @Test func duplicateSeatWord() {
        expectFailure(decode("reserve T1 3A 3B 3A"), .badRequest)
    }

    /// More than 10 seats in a word command is `too_large`.
    @Test func tooManySeatsWord() {
        let seats = (1...11).map { "\($0)A" }.joined(separator: " ")
        expectFailure(decode("reserve T1 \(seats)"), .tooLarge)
    }

    /// A hold token in words that is too short or has bad characters is a `bad_request`.
    @Test(arguments: ["confirm T1 HOLD", "release T1 short 3A", "reserve T1 3A hold=short", "reserve T1 3A hold=",
                      "confirm T1 abcdefgh.ijklmnop"])
    func badHoldWord(text: String) {
        expectFailure(decode(text), .badRequest)
    }
}

// MARK: - Errors for bad JSON input

@Suite("RequestDecoder: error codes for bad JSON input")
struct RequestDecoderErrorTests {
    /// Malformed JSON is a `bad_request` without an id (none could be read).
    @Test(arguments: [
        #"{"type":"ping""#, #"{type:"ping"}"#, #"{"type":"ping",}"#, #"{"type":"ping"} x"#,
        #"{"type":"ping"}{"type":"ping"}"#, "{", #"{"type":'ping'}"#, #"{"type":"ping","id":"p1"]"#,
    ])
    func malformedJSON(text: String) {
        expectFailure(decode(text), .badRequest)
    }

    /// JSON nested deeper than 32 levels is a `bad_request`, not a crash.
    @Test func tooDeep() {
        let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
        expectFailure(decode(#"{"type":"ping","x":\#(deep)}"#), .badRequest)
        let huge = String(repeating: "[", count: 100_000)
        expectFailure(decode(#"{"type":"ping","x":\#(huge)"#), .badRequest)
    }

    /// A decoded JSON value that is not an object is a `bad_request`.
    @Test(arguments: [JSON.array([]), .string("ping"), .null, .number(1), .bool(true)])
    func notAnObject(json: JSON) {
        expectFailure(RequestDecoder().decodeObject(json), .badRequest)
    }

    /// A missing `type` is a `bad_request` that echoes the id.
    @Test func missingType() {
        expectFailure(decode(#"{"tripId":"T1","id":"a1"}"#), .badRequest, id: "a1")
        expectFailure(decode("{}"), .badRequest)
    }

    /// A `type` that is not a string is a `bad_request` that echoes the id.
    @Test(arguments: ["5", "null", "true", #"["ping"]"#, #"{"t":"ping"}"#])
    func nonStringType(value: String) {
        expectFailure(decode(#"{"id":"a2","type":\#(value)}"#), .badRequest, id: "a2")
    }

    /// An unknown `type` is `unknown_type` and echoes the id.
    @Test(arguments: ["book", "sub", "Subscribe", "PING", "", "reserved", "pong"])
    func unknownType(type: String) {
        expectFailure(decode(#"{"type":"\#(type)","tripId":"T1","id":"a3"}"#), .unknownType, id: "a3")
    }

    /// A `tripId` that is missing or not a string is a `bad_request` that echoes the id.
    @Test(arguments: [#""tripId":1"#, #""tripId":null"#, #""tripId":["T1"]"#, #""tripId":{"id":"T1"}"#, #""trip":"T1""#])
    func tripIdWrongType(member: String) {
        for type in ["subscribe", "unsubscribe"] {
            expectFailure(decode(#"{"type":"\#(type)",\#(member),"id":"a4"}"#), .badRequest, id: "a4")
        }
        expectFailure(decode(#"{"type":"reserve",\#(member),"seats":["3A"],"id":"a4"}"#), .badRequest, id: "a4")
        expectFailure(decode(#"{"type":"confirm",\#(member),"hold":"\#(token)","id":"a4"}"#), .badRequest, id: "a4")
    }

    /// A `tripId` string with invalid syntax is `unknown_trip` and echoes the id.
    @Test(arguments: ["", "T 1", "T1/../x", "T.1", "Tür", "T1\n", String(repeating: "t", count: 65)])
    func invalidTripId(trip: String) {
        var w = JSONWriter()
        w.beginObject(); w.field("type", "subscribe"); w.field("tripId", trip); w.field("id", "a5"); w.endObject()
        expectFailure(RequestDecoder().decode(w.bytes), .unknownTrip, id: "a5")
    }

    /// A trip id of 64 characters is accepted.
    @Test func tripIdOf64Characters() {
        let trip = String(repeating: "t", count: 64)
        #expect(decode(#"{"type":"unsubscribe","tripId":"\#(trip)"}"#) == .success(Request(.unsubscribe(tripId: trip))))
    }

    /// `seats` that is not a list is a `bad_request`.
    @Test(arguments: [#""3A""#, "3", "true", #"{"0":"3A"}"#])
    func seatsNotAList(value: String) {
        expectFailure(decode(#"{"type":"reserve","tripId":"T1","seats":\#(value),"id":"s1"}"#), .badRequest, id: "s1")
        expectFailure(decode(#"{"type":"release","tripId":"T1","hold":"\#(token)","seats":\#(value),"id":"s1"}"#),
                      .badRequest, id: "s1")
    }

    /// A `seats` list holding anything but strings is a `bad_request`.
    @Test(arguments: ["[3]", #"["3A",null]"#, #"[["3A"]]"#, #"["3A",{"seatNo":"3B"}]"#, "[true]"])
    func seatsNotStrings(value: String) {
        expectFailure(decode(#"{"type":"reserve","tripId":"T1","seats":\#(value),"id":"s2"}"#), .badRequest, id: "s2")
    }

    /// An empty `seats` list is a `bad_request`, for reserve, confirm and release alike.
    @Test func emptySeats() {
        expectFailure(decode(#"{"type":"reserve","tripId":"T1","seats":[],"id":"s3"}"#), .badRequest, id: "s3")
        expectFailure(decode(#"{"type":"confirm","tripId":"T1","hold":"\#(token)","seats":[]}"#), .badRequest)
        expectFailure(decode(#"{"type":"release","tripId":"T1","hold":"\#(token)","seats":[]}"#), .badRequest)
    }

    /// A reserve with neither `seats` nor `seatNo` (or both null) is a `bad_request`.
    @Test func reserveWithoutSeats() {
        expectFailure(decode(#"{"type":"reserve","tripId":"T1","id":"s4"}"#), .badRequest, id: "s4")
        expectFailure(decode(#"{"type":"reserve","tripId":"T1","seats":null,"seatNo":null}"#), .badRequest)
    }

    /// A `seatNo` that is not a string is a `bad_request`.
    @Test(arguments: ["3", #"["3A"]"#, "false"])
    func seatNoNotString(value: String) {
        expectFailure(decode(#"{"type":"reserve","tripId":"T1","seatNo":\#(value),"id":"s5"}"#), .badRequest, id: "s5")
    }

    /// More than 10 seats is `too_large`.
    @Test func tooManySeats() {
        let list = (1...11).map { "\"\($0)A\"" }.joined(separator: ",")
        expectFailure(decode(#"{"type":"reserve","tripId":"T1","seats":[\#(list)],"id":"s6"}"#), .tooLarge, id: "s6")
        expectFailure(decode(#"{"type":"release","tripId":"T1","hold":"\#(token)","seats":[\#(list)]}"#), .tooLarge)
    }

    /// The seat limit follows the decoder's configured `Limits`.
    @Test func configuredSeatLimit() {
        var limits = Limits()
        limits.maxSeatsPerRequest = 2
        expectFailure(decode(#"{"type":"reserve","tripId":"T1","seats":["1A","1B","1C"]}"#, limits: limits), .tooLarge)
        #expect(decode(#"{"type":"reserve","tripId":"T1","seats":["1A","1B"]}"#, limits: limits)
            == .success(Request(.reserve(tripId: "T1", seats: ["1A", "1B"], hold: nil))))
    }

    /// A seat name with invalid syntax is `unknown_seat` and echoes the id.
    @Test(arguments: ["", "3 A", "3_A", "3A!", "3.A", "Ä1", String(repeating: "1", count: 17)])
    func invalidSeat(seat: String) {
        var w = JSONWriter()
        w.beginObject(); w.field("type", "reserve"); w.field("tripId", "T1")
        w.field("seats", strings: ["1A", seat]); w.field("id", "s7"); w.endObject()
        expectFailure(RequestDecoder().decode(w.bytes), .unknownSeat, id: "s7")
        var v = JSONWriter()
        v.beginObject(); v.field("type", "reserve"); v.field("tripId", "T1"); v.field("seatNo", seat); v.endObject()
        expectFailure(RequestDecoder().decode(v.bytes), .unknownSeat)
    }

    /// A seat named twice in one request is a `bad_request`.
    @Test func duplicateSeats() {
        expectFailure(decode(#"{"type":"reserve","tripId":"T1","seats":["3A","3B","3A"],"id":"s8"}"#), .badRequest, id: "s8")
        expectFailure(decode(#"{"type":"confirm","tripId":"T1","hold":"\#(token)","seats":["3B","3B"]}"#), .badRequest)
    }

    /// A hold that is too short, too long, has bad characters or is not a string is a `bad_request`.
    @Test(arguments: [
        #""abcdefghijklmno""#, #""""#, "\"\(String(repeating: "h", count: 129))\"", #""abcdefgh ijklmnop""#,
        #""abcdefgh+ijklmnop/==""#, #""abcdefgh.ijklmnop""#, "12345678901234567", #"["\#(token)"]"#, "true",
    ])
    func badHold(value: String) {
        expectFailure(decode(#"{"type":"reserve","tripId":"T1","seats":["3A"],"hold":\#(value),"id":"h1"}"#),
                      .badRequest, id: "h1")
        expectFailure(decode(#"{"type":"confirm","tripId":"T1","hold":\#(value),"id":"h2"}"#), .badRequest, id: "h2")
        expectFailure(decode(#"{"type":"release","tripId":"T1","hold":\#(value),"id":"h3"}"#), .badRequest, id: "h3")
    }

    /// Confirm and release without a hold (or with a null one) are a `bad_request`.
    @Test func missingHold() {
        expectFailure(decode(#"{"type":"confirm","tripId":"T1","id":"h4"}"#), .badRequest, id: "h4")
        expectFailure(decode(#"{"type":"release","tripId":"T1","hold":null,"seats":["3A"],"id":"h5"}"#), .badRequest, id: "h5")
    }

    /// An id longer than 64 characters is a `bad_request` that cannot echo it.
    @Test func idTooLong() {
        let id = String(repeating: "i", count: 65)
        expectFailure(decode(#"{"type":"ping","id":"\#(id)"}"#), .badRequest, id: nil)
    }

    /// An id that is not a string is a `bad_request`.
    @Test(arguments: ["17", "true", #"["r1"]"#, #"{"id":"r1"}"#])
    func idNotString(value: String) {
        expectFailure(decode(#"{"type":"ping","id":\#(value)}"#), .badRequest, id: nil)
    }

    /// A malformed `since` is a `bad_request` that echoes the id.
    @Test(arguments: [
        #""k3f9""#, "41", #"{"epoch":"k3f9"}"#, #"{"seq":41}"#, #"{"epoch":"k3f9","seq":-1}"#,
        #"{"epoch":"k3f9","seq":41.5}"#, #"{"epoch":"k3f9","seq":"41"}"#, #"{"epoch":7,"seq":41}"#,
        "{\"epoch\":\"\(String(repeating: "e", count: 65))\",\"seq\":1}",
    ])
    func badSince(value: String) {
        expectFailure(decode(#"{"type":"subscribe","tripId":"T1","since":\#(value),"id":"c1"}"#), .badRequest, id: "c1")
    }

    /// The first error found carries the id even when the id comes last in the object.
    @Test func idReadBeforeOtherFields() {
        expectFailure(decode(#"{"type":"reserve","tripId":"T1","seats":"3A","id":"late"}"#), .badRequest, id: "late")
        expectFailure(decode(#"{"type":"nope","id":"late"}"#), .unknownType, id: "late")
    }
}

// MARK: - HTTP mirror

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

// MARK: - Error messages

@Suite("RequestDecoder: error message quoting")
struct RequestDecoderQuotingTests {
    /// Quoted values in error messages are cut at 40 characters so an error never echoes a flood back.
    @Test func quotedIsShortened() {
        let q = RequestDecoder.quoted(String(repeating: "x", count: 1000))
        #expect(q == "\"" + String(repeating: "x", count: 40) + "...\"")
    }

    /// Quoted values have whitespace and control characters replaced by spaces.
    @Test func quotedBlanksControls() {
        #expect(RequestDecoder.quoted("a\nb\tc\u{1}d") == "\"a b c d\"")
    }

    /// An unknown type's error message names the type.
    @Test func unknownTypeMessage() {
        guard case let .failure(e) = decode(#"{"type":"book"}"#) else { Issue.record("expected failure"); return }
        #expect(e.message.contains("\"book\""))
    }

    /// `helpText` mentions every word command.
    @Test func helpTextMentionsCommands() {
        for word in ["sub", "unsub", "reserve", "confirm", "release", "ping", "help"] {
            #expect(RequestDecoder.helpText.contains(word))
        }
    }
}

extension Result where Failure == ProtocolError {
    var failureCode: ErrorCode? {
        if case let .failure(e) = self { return e.code }
        return nil
    }
}
