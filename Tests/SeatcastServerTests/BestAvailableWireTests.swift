import Foundation
import SeatcastCore
import SeatcastTesting
import Testing

/// A best-available reserve travels inside the server's existing `reserve` routing, so it
/// works end to end today: over the WebSocket (JSON and words) and over HTTP.
@Suite(.timeLimit(.minutes(2)))
struct BestAvailableWireTests {
    /// JSON and words on a subscribed connection: `reserved` with the chosen seats and their seat_locked events, `not_enough_seats` with no seats, `bad_request` for count with seats.
    @Test func webSocket() throws {
        let trip = try TestDatabase.shared.createTrip(rows: 2, cols: 4)
        let server = try TestServer()
        defer { server.stop() }
        let (client, map) = try server.subscriber(trip)
        try client.send(#"{"type":"reserve","tripId":"\#(trip)","count":2,"together":true,"id":"b1"}"#)
        let pair = try client.reply(id: "b1")
        #expect(pair.type == "reserved")
        #expect(pair["seats"]?.strings == ["1B", "1C"])
        let locks = try client.collect(until: "seat_locked") { $0.seatNo == "1C" }.filter { $0.type == "seat_locked" }
        #expect(locks.map(\.seatNo) == ["1B", "1C"])
        #expect(locks.first?.seq == map.seq + 1)

        try client.send("reserve \(trip) 4 together\n")
        let four = try client.next(type: "reserved")
        #expect(four["seats"]?.strings == ["2A", "2B", "2C", "2D"])
        try client.send(#"{"type":"reserve","tripId":"\#(trip)","count":2,"together":true,"id":"b2"}"#)
        let none = try client.reply(id: "b2")
        #expect(none.type == "rejected")
        #expect(none["reason"]?.stringValue == "not_enough_seats")
        #expect(none["seats"]?.strings == [])
        try client.send(#"{"type":"reserve","tripId":"\#(trip)","count":2,"seats":["1A"],"id":"b3"}"#)
        #expect(try client.reply(id: "b3")["code"]?.stringValue == "bad_request")
    }

    /// HTTP: `POST /api/trips/{id}/reserve` with a count answers 200 `reserved`, 409 `not_enough_seats`, 413 for a count over the limit.
    @Test func http() throws {
        let trip = try TestDatabase.shared.createTrip(rows: 1, cols: 3)
        let server = try TestServer()
        defer { server.stop() }
        let ok = try server.http("POST", "/api/trips/\(trip)/reserve", body: #"{"count":2,"together":true}"#)
        #expect(ok.status == 200)
        #expect(try JSON.parse(ok.body)["seats"]?.strings == ["1A", "1B"])
        let full = try server.http("POST", "/api/trips/\(trip)/reserve", body: #"{"count":2,"together":true}"#)
        #expect(full.status == 409)
        #expect(try JSON.parse(full.body)["reason"]?.stringValue == "not_enough_seats")
        #expect(try server.http("POST", "/api/trips/\(trip)/reserve", body: #"{"count":11}"#).status == 413)
    }
}
