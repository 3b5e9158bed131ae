import Foundation
import SeatcastCore
import SeatcastTesting
import Testing

/// A trip deleted under its subscribers (`DELETE FROM trips`, or the backend's
/// `DELETE /api/trips/{id}`): the delete trigger rings the doorbell, the listener finds the
/// trip gone, and every subscriber gets `error` unknown_trip; its subscription is over.
/// Before, they heard nothing and kept a stale map, and a trip created again under the same
/// id could have been taken for the old one's continuation.
@Suite(.timeLimit(.minutes(1)))
struct TripDeletedTests {
    @Test func subscribersAreToldTheTripIsGone() throws {
        let db = TestDatabase.shared
        try TestServer.withTrip { server, trip in
            let (a, _) = try server.subscriber(trip)
            let (b, _) = try server.subscriber(trip)
            try a.send(reserveJSON(trip, ["1A"], id: "r"))
            #expect(try a.reply(id: "r").type == "reserved")
            _ = try b.next(type: "seat_locked")

            _ = try db.sql("DELETE FROM trips WHERE trip_id = $1", [trip])
            for c in [a, b] {
                let e = try c.next(type: "error", timeout: 10)
                #expect(e["code"]?.stringValue == "unknown_trip")
                #expect(e["tripId"]?.stringValue == trip || e["message"]?.stringValue?.contains(trip) == true)
            }

            // The trip is gone for a new subscribe too.
            try a.send(#"{"type":"subscribe","tripId":"\#(trip)","id":"s"}"#)
            let again = try a.reply(id: "s")
            #expect(again.type == "error")
            #expect(again["code"]?.stringValue == "unknown_trip")
        }
    }
}
