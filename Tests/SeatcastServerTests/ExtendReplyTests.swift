import SeatcastCore
@testable import SeatcastServer
import Testing

/// The server's reply and metric label for an `extend` (issue 11).
@Suite("Extend replies")
struct ExtendReplyTests {
    let command = Command.extend(tripId: "T1", hold: "k2Jf9xQ_7bLm-3PzR0aV", seconds: 60)

    /// `extended` carries the hold of the command and the store's seats and until; a refusal is the usual `rejected`.
    @Test func encode() {
        let frame = String(decoding: CommandReply.encode(.extended(seats: ["3A", "3B"], untilMs: 1_795_289_400_000), id: "e1", command: command),
                           as: UTF8.self)
        #expect(frame == #"{"type":"extended","id":"e1","tripId":"T1","hold":"k2Jf9xQ_7bLm-3PzR0aV","seats":["3A","3B"],"until":"2026-11-21T19:30:00.000Z"}"#)
        #expect(String(decoding: CommandReply.encode(.rejected(.extendLimit, seats: ["3A"]), id: nil, command: command), as: UTF8.self)
            == #"{"type":"rejected","tripId":"T1","reason":"extend_limit","seats":["3A"]}"#)
    }

    /// The metric label of each outcome.
    @Test func labels() {
        #expect(CommandReply.label("extend", .extended(seats: [], untilMs: 0)) == "extend:extended")
        #expect(CommandReply.label("extend", .rejected(.holdExpired, seats: [])) == "extend:rejected:hold_expired")
        #expect(CommandReply.label("reserve", .rejected(.notEnoughSeats, seats: [])) == "reserve:rejected:not_enough_seats")
    }
}
