import Foundation
import SeatcastCore
@testable import SeatcastPostgres
import SeatcastTesting
import Testing

@Suite(.serialized)
struct RetentionTests {
    /// seatcast_prune keeps the last N events of a trip and drops events older than the age limit.
    @Test func pruneByCountAndAge() throws {
        let db = TestDatabase.shared
        let trip = try db.createTrip()
        // 66 statements flipping all 48 seats: 3,168 events.
        for _ in 0..<66 {
            try db.sql("""
                UPDATE seats SET status = CASE WHEN status = 'available' THEN 'booked' ELSE 'available' END,
                                 hold_hash = CASE WHEN status = 'available' THEN '\\x01'::bytea END
                WHERE trip_id = $1
                """, [trip])
        }
        let last = try db.sql("SELECT last_seq FROM trips WHERE trip_id = $1", [trip]).int64(0, 0)!
        #expect(last == 66 * 48)
        // A count far above any other suite's trips, so only trips as long as this one lose history.
        try db.sql("SELECT seatcast_prune(3000, interval '1 hour')")
        let kept = try db.sql("SELECT min(seq), max(seq), count(*) FROM seat_events WHERE trip_id = $1", [trip])
        #expect(kept.int64(0, 0) == last - 2999)
        #expect(kept.int64(0, 1) == last)
        #expect(kept.int(0, 2) == 3000)

        // Age: make this trip's history look two hours old, then keep one hour.
        try db.sql("UPDATE seat_events SET at = now() - interval '2 hours' WHERE trip_id = $1 AND seq <= $2", [trip, String(last - 10)])
        try db.sql("SELECT seatcast_prune(1000000, interval '1 hour')")
        let young = try db.sql("SELECT min(seq), count(*) FROM seat_events WHERE trip_id = $1", [trip])
        #expect(young.int64(0, 0) == last - 9)
        #expect(young.int(0, 1) == 10)

        // A stream position before the kept history cannot be replayed: the store says so.
        let store = SeatStore(try db.connect())
        let events = try store.events(tripId: trip, afterSeq: 0, limit: 5)
        #expect(events.first?.seq == last - 9)
    }
}
