import Foundation
import SeatcastCore
@testable import SeatcastPostgres
import SeatcastTesting
import Testing

/// `seats.held_at`, in ms since the Unix epoch (nil when NULL).
func heldAt(_ db: PGConnection, _ trip: String, _ seat: String) throws -> Int64? {
    let r = try db.exec("SELECT floor(extract(epoch FROM held_at) * 1000)::bigint FROM seats WHERE trip_id = $1 AND seat_no = $2",
                        [trip, seat])
    guard r.rowCount == 1 else { throw TestFailure("no seat \(seat) on \(trip)") }
    return r.int64(0, 0)
}

/// `seats.held_at` (migration 5), kept by the row trigger for every writer: when the seat's
/// current hold began, the start extend's cap counts from.
@Suite("Hold start (held_at)")
struct HoldStartTests {
    /// A reserve starts the hold (held_at = until - TTL: both from the transaction's now), a retry of it keeps held_at and writes nothing, release, confirm and the sweep clear it.
    @Test func reserveStartsRetryKeepsEndsClear() throws {
        let db = try TestDatabase.quiet.connect()
        let trip = try TestDatabase.quiet.createTrip()
        let a = newHold("a")
        let until = try #require(reservedUntil(try apply(db, .reserve(tripId: trip, seats: ["1A", "1B", "1C"], hold: a))))
        for s in ["1A", "1B", "1C"] { #expect(try heldAt(db, trip, s) == until - defaultTTL) }
        #expect(try heldAt(db, trip, "2A") == nil)

        let versions = try ["1A", "1B"].map { try seatRow(db, trip, $0).version }
        let last = try lastSeq(db, trip)
        #expect(try apply(db, .reserve(tripId: trip, seats: ["1A", "1B"], hold: a)) == .reserved(seats: ["1A", "1B"], untilMs: until))
        #expect(try apply(db, .reserve(tripId: trip, seats: ["1A"], hold: a)) == .reserved(seats: ["1A"], untilMs: until))
        for s in ["1A", "1B"] { #expect(try heldAt(db, trip, s) == until - defaultTTL) }
        #expect(try ["1A", "1B"].map { try seatRow(db, trip, $0).version } == versions)
        #expect(try lastSeq(db, trip) == last)

        _ = try apply(db, .release(tripId: trip, seats: ["1A"], hold: a))
        _ = try apply(db, .confirm(tripId: trip, seats: ["1B"], hold: a))
        #expect(try heldAt(db, trip, "1A") == nil)
        #expect(try heldAt(db, trip, "1B") == nil)
        try db.exec("UPDATE seats SET until = now() - interval '1 second' WHERE trip_id = $1 AND seat_no = '1C'", [trip])
        _ = try db.exec("SELECT seatcast_expire(1000)") // the quiet database: no other sweep
        #expect(try seatRow(db, trip, "1C").status == "available")
        #expect(try heldAt(db, trip, "1C") == nil)
    }

    /// A hold that ran out and is taken again, by another hold or by its own, is a new hold: held_at starts again.
    @Test func takeOverStartsANewHold() throws {
        let db = try TestDatabase.shared.connect()
        let trip = try TestDatabase.shared.createTrip()
        let a = newHold("a"), b = newHold("b")
        _ = try apply(db, .reserve(tripId: trip, seats: ["1A", "1B"], hold: a))
        try db.exec("UPDATE seats SET until = now() - interval '1 second' WHERE trip_id = $1 AND seat_no IN ('1A', '1B')", [trip])
        let taken = try #require(reservedUntil(try apply(db, .reserve(tripId: trip, seats: ["1A"], hold: b))))
        let again = try #require(reservedUntil(try apply(db, .reserve(tripId: trip, seats: ["1B"], hold: a))))
        #expect(try heldAt(db, trip, "1A") == taken - defaultTTL)
        #expect(try heldAt(db, trip, "1B") == again - defaultTTL)
    }

    /// Every writer gets held_at right, psql included: a hold made by hand starts at its transaction's now; a change of held_at alone on a running hold is kept as written and is no event (no version, no seq).
    @Test func handWrittenHolds() throws {
        let db = try TestDatabase.shared.connect()
        let trip = try TestDatabase.shared.createTrip()
        let matches = try db.transaction { () throws(PGError) -> Bool in
            try db.exec("""
                UPDATE seats SET status = 'held', hold_hash = sha256('by-hand'), until = now() + interval '1 minute'
                 WHERE trip_id = $1 AND seat_no = '2B'
                """, [trip])
            return try db.exec("SELECT held_at = date_trunc('milliseconds', now()) FROM seats WHERE trip_id = $1 AND seat_no = '2B'",
                               [trip]).string(0, 0) == "t"
        }
        #expect(matches)
        let version = try seatRow(db, trip, "2B").version
        let last = try lastSeq(db, trip)
        let before = try #require(try heldAt(db, trip, "2B"))
        try db.exec("UPDATE seats SET held_at = held_at - interval '10 minutes' WHERE trip_id = $1 AND seat_no = '2B'", [trip])
        #expect(try heldAt(db, trip, "2B") == before - 600_000)
        #expect(try seatRow(db, trip, "2B").version == version)
        #expect(try lastSeq(db, trip) == last)
        // Booked by hand: no hold any more.
        try db.exec("UPDATE seats SET status = 'booked' WHERE trip_id = $1 AND seat_no = '2B'", [trip])
        #expect(try heldAt(db, trip, "2B") == nil)
    }
}
