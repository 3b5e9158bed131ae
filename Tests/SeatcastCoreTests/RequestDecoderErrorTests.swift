import Testing
@testable import SeatcastCore

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

    /// Confirm without a hold (or with a null one), and release with neither hold nor seats, are a
    /// `bad_request`. (Release with seats and no hold is the backend's release of any seat, 1.1.)
    @Test func missingHold() {
        expectFailure(decode(#"{"type":"confirm","tripId":"T1","id":"h4"}"#), .badRequest, id: "h4")
        expectFailure(decode(#"{"type":"confirm","tripId":"T1","hold":null,"seats":["3A"],"id":"h6"}"#), .badRequest, id: "h6")
        expectFailure(decode(#"{"type":"release","tripId":"T1","hold":null,"id":"h5"}"#), .badRequest, id: "h5")
        expectFailure(decode(#"{"type":"release","tripId":"T1","id":"h7"}"#), .badRequest, id: "h7")
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
