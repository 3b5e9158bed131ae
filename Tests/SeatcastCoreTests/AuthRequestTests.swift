import Testing
@testable import SeatcastCore

/// Version 1.1 requests and replies: `auth`/`authed`, `release` with seats and no hold,
/// `POST /api/trips` bodies, and the new error code.
@Suite("Requests and replies of issue 10")
struct AuthRequestTests {
    /// `{"type":"auth","token":...}` decodes with its id; the words form is `auth TOKEN`.
    @Test func authDecodes() throws {
        #expect(try decode(#"{"type":"auth","token":"a.b.c","id":"x1"}"#).get() == Request(id: "x1", .auth(token: "a.b.c")))
        #expect(try decode("auth a.b.c").get() == Request(.auth(token: "a.b.c")))
    }

    /// A missing, null, empty or non-string token is a `bad_request` with the id; `auth` alone in words too.
    @Test(arguments: [#""id":"a1""#, #""token":null,"id":"a1""#, #""token":"","id":"a1""#, #""token":5,"id":"a1""#,
                      #""token":["a.b.c"],"id":"a1""#])
    func badAuth(members: String) {
        expectFailure(decode(#"{"type":"auth",\#(members)}"#), .badRequest, id: "a1")
    }

    @Test func authWordsUsage() {
        expectFailure(decode("auth"), .badRequest)
        expectFailure(decode("auth a b"), .badRequest)
    }

    /// `release` with seats and no hold (absent or null) is `releaseSeats`; over HTTP as well.
    @Test func releaseWithoutHold() throws {
        #expect(try decode(#"{"type":"release","tripId":"T1","seats":["3A","3B"],"id":"r1"}"#).get()
            == Request(id: "r1", .releaseSeats(tripId: "T1", seats: ["3A", "3B"])))
        #expect(try decode(#"{"type":"release","tripId":"T1","seatNo":"3A","hold":null}"#).get()
            == Request(.releaseSeats(tripId: "T1", seats: ["3A"])))
        #expect(try RequestDecoder().decodeHTTP(Array(#"{"seats":["1A"]}"#.utf8), type: "release", tripId: "T9").get()
            == Request(.releaseSeats(tripId: "T9", seats: ["1A"])))
        // The seats are checked as any seats are.
        expectFailure(decode(#"{"type":"release","tripId":"T1","seats":["3A","3A"]}"#), .badRequest)
        expectFailure(decode(#"{"type":"release","tripId":"T1","seats":["no such"]}"#), .unknownSeat)
    }

    /// `authed`: type, id, sub, exp as a whole number (or a fraction when the token had one).
    @Test func authedMessage() {
        #expect(String(decoding: Messages.authed(id: "a", sub: "u1", exp: 1_767_225_600), as: UTF8.self)
            == #"{"type":"authed","id":"a","sub":"u1","exp":1767225600}"#)
        #expect(String(decoding: Messages.authed(id: nil, sub: "u\"1", exp: 1.5), as: UTF8.self)
            == #"{"type":"authed","sub":"u\"1","exp":1.5}"#)
    }

    /// An error about a trip that is not a reply names the trip.
    @Test func errorWithTrip() {
        #expect(String(decoding: Messages.error(ProtocolError(.forbidden, "m"), tripId: "T2"), as: UTF8.self)
            == #"{"type":"error","code":"forbidden","message":"m","tripId":"T2"}"#)
    }

    /// `trip_exists` is HTTP 409; `unauthorized` 401; `forbidden` 403.
    @Test func statuses() {
        #expect(ErrorCode.tripExists.rawValue == "trip_exists")
        #expect(ErrorCode.tripExists.httpStatus == 409)
        #expect(ErrorCode.unauthorized.httpStatus == 401)
        #expect(ErrorCode.forbidden.httpStatus == 403)
    }

    /// A good `POST /api/trips` body.
    @Test func tripSpec() throws {
        #expect(try TripSpec.decode(Array(#"{"tripId":"T1","name":"Coach","rows":12,"cols":4,"extra":1}"#.utf8)).get()
            == TripSpec(tripId: "T1", name: "Coach", rows: 12, cols: 4))
    }

    /// Every bad `POST /api/trips` body is a `bad_request`, as the CLI refuses the same arguments.
    @Test(arguments: [
        "", "nope", "[]", #"{"name":"n","rows":1,"cols":1}"#, #"{"tripId":"a b","name":"n","rows":1,"cols":1}"#,
        #"{"tripId":5,"name":"n","rows":1,"cols":1}"#, #"{"tripId":"T1","rows":1,"cols":1}"#,
        #"{"tripId":"T1","name":"","rows":1,"cols":1}"#, "{\"tripId\":\"T1\",\"name\":\"\(String(repeating: "n", count: 201))\",\"rows\":1,\"cols\":1}",
        #"{"tripId":"T1","name":"n","rows":0,"cols":1}"#, #"{"tripId":"T1","name":"n","rows":1001,"cols":1}"#,
        #"{"tripId":"T1","name":"n","rows":1,"cols":0}"#, #"{"tripId":"T1","name":"n","rows":1.5,"cols":1}"#,
        #"{"tripId":"T1","name":"n","rows":"2","cols":1}"#, #"{"tripId":"T1","name":"n","rows":1000,"cols":1000}"#,
    ])
    func badTripSpec(body: String) {
        guard case let .failure(e) = TripSpec.decode(Array(body.utf8)) else {
            Issue.record("\(body) accepted")
            return
        }
        #expect(e.code == .badRequest, "\(body)")
    }
}
