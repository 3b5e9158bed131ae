import Foundation
import SeatcastCore
import SeatcastTesting
import Testing

/// Events that arrive together leave together: one write per subscriber per loop pass.
@Suite struct BatchWriteTests {
    /// One transaction that changes six seats reaches each of ten subscribers as one send() carrying all six events.
    @Test func notifyBatchIsOneWritePerSubscriber() throws {
        let db = TestDatabase.shared
        let trip = try db.createTrip()
        let server = try TestServer()
        defer { server.stop() }
        let subs = try (0..<10).map { _ in try server.subscriber(trip) }
        let writes0 = try server.metric("seatcast_socket_writes_total")
        let frames0 = try server.metric("seatcast_coalesced_frames_total")
        let seats = ["2A", "2B", "2C", "2D", "3A", "3B"]
        try db.sql("UPDATE seats SET status = 'booked' WHERE trip_id = $1 AND seat_no = ANY($2::text[])",
                   [trip, "{" + seats.joined(separator: ",") + "}"])
        for (c, map) in subs {
            var got: [String] = []
            for i in 1...seats.count {
                let e = try c.next(type: "seat_booked")
                #expect(e.seq == map.seq + Int64(i))
                got.append(e.seatNo ?? "")
            }
            #expect(got.sorted() == seats)
        }
        #expect(try server.metric("seatcast_socket_writes_total") - writes0 == Double(subs.count))
        #expect(try server.metric("seatcast_coalesced_frames_total") - frames0 == Double(subs.count * seats.count))
    }
}
