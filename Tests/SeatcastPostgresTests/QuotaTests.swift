import Foundation
import SeatcastCore
@testable import SeatcastPostgres
import SeatcastTesting
import Testing

// Owns: the tests of the hold quota (HoldScope.maxHeld) in seatcast_apply: the count, what
// counts, and its exactness under concurrent transactions of one holder.

@Suite("Hold quota")
struct QuotaTests {
    /// Up to the limit every reserve is taken; past it, rejected:quota with the seats asked for and the limit, nothing taken; a multi-seat reserve over the limit is refused as a whole.
    @Test func exactLimitAndWholeRequests() throws {
        let (db, trip) = try connectionAndFreshTrip()
        let u = buyer(newHolder(), max: 3)
        for s in ["1A", "1B"] { #expect(reservedUntil(try apply(db, .reserve(tripId: trip, seats: [s], hold: newHold()), u)) != nil) }
        let rows = try seatRows(db, trip), seq = try lastSeq(db, trip)
        #expect(try apply(db, .reserve(tripId: trip, seats: ["2A", "2B"], hold: newHold()), u) == .overQuota(seats: ["2A", "2B"], limit: 3))
        #expect(try seatRows(db, trip) == rows)
        #expect(try lastSeq(db, trip) == seq)
        #expect(reservedUntil(try apply(db, .reserve(tripId: trip, seats: ["1C"], hold: newHold()), u)) != nil)
        #expect(try apply(db, .reserve(tripId: trip, seats: ["1D"], hold: newHold()), u) == .overQuota(seats: ["1D"], limit: 3))
        #expect(try heldBy(db, u.holder!) == 3)
        // Unknown names are still answered as such first.
        #expect(failureCode(try apply(db, .reserve(tripId: trip, seats: ["99Z"], hold: newHold()), u)) == .unknownSeat)
        #expect(failureCode(try apply(db, .reserve(tripId: "no-such-trip", seats: ["1A"], hold: newHold()), u)) == .unknownTrip)
        #expect(failureCode(try apply(db, .reserve(tripId: "no-such-trip", seats: .best(count: 1, together: false), hold: newHold()), u))
                == .unknownTrip)
        // Another holder is not affected.
        #expect(reservedUntil(try apply(db, .reserve(tripId: trip, seats: ["1D"], hold: newHold()), buyer(newHolder(), max: 3))) != nil)
    }

    /// Best available counts the seats it would take: over the limit it is rejected:quota with no seats, and takes nothing.
    @Test func bestAvailableOverTheLimit() throws {
        let (db, trip) = try connectionAndFreshTrip()
        let u = buyer(newHolder(), max: 3)
        let h = newHold()
        #expect(reservedUntil(try apply(db, .reserve(tripId: trip, seats: .best(count: 2, together: false), hold: h), u)) != nil)
        #expect(try apply(db, .reserve(tripId: trip, seats: .best(count: 2, together: true), hold: h), u) == .overQuota(seats: [], limit: 3))
        #expect(try heldBy(db, u.holder!) == 2)
        #expect(reservedUntil(try apply(db, .reserve(tripId: trip, seats: .best(count: 1, together: false), hold: h), u)) != nil)
        #expect(try heldBy(db, u.holder!) == 3)
    }

    /// A retry of seats the holder holds takes nothing new and is not refused at the limit; a request mixing held and new seats counts only the new ones.
    @Test func retryDoesNotCountTwice() throws {
        let (db, trip) = try connectionAndFreshTrip()
        let u = buyer(newHolder(), max: 2)
        let h = newHold()
        #expect(reservedUntil(try apply(db, .reserve(tripId: trip, seats: ["1A", "1B"], hold: h), u)) != nil)
        #expect(reservedUntil(try apply(db, .reserve(tripId: trip, seats: ["1A", "1B"], hold: h), u)) != nil)
        #expect(reservedUntil(try apply(db, .reserve(tripId: trip, seats: ["1B"], hold: h), u)) != nil)
        #expect(try apply(db, .reserve(tripId: trip, seats: ["1A", "1C"], hold: h), u) == .overQuota(seats: ["1A", "1C"], limit: 2))
        #expect(try apply(db, .release(tripId: trip, seats: ["1B"], hold: h), u) == .released(seats: ["1B"]))
        #expect(reservedUntil(try apply(db, .reserve(tripId: trip, seats: ["1A", "1C"], hold: h), u)) != nil)
        #expect(try heldBy(db, u.holder!) == 2)
    }

    /// Only live holds count: an expired hold (not yet swept) and booked seats free their place.
    @Test func expiredAndBookedDoNotCount() throws {
        let (db, trip) = try quietConnectionAndFreshTrip()
        let u = buyer(newHolder(), max: 2)
        let h = newHold()
        #expect(reservedUntil(try apply(db, .reserve(tripId: trip, seats: ["1A", "1B"], hold: h), u)) != nil)
        #expect(try apply(db, .reserve(tripId: trip, seats: ["1C"], hold: h), u) == .overQuota(seats: ["1C"], limit: 2))
        try expireHold(db, trip, "1A")
        #expect(reservedUntil(try apply(db, .reserve(tripId: trip, seats: ["1C"], hold: h), u)) != nil)
        #expect(try apply(db, .confirm(tripId: trip, seats: ["1B", "1C"], hold: h), u) == .confirmed(seats: ["1B", "1C"]))
        #expect(reservedUntil(try apply(db, .reserve(tripId: trip, seats: ["2A", "2B"], hold: newHold()), u)) != nil)
    }

    /// The count covers every trip of the holder; max_held 0 is no quota at all; open-mode keys have a quota of their own.
    @Test func acrossTripsOffAndOpenMode() throws {
        let db = try TestDatabase.shared.connect()
        let t1 = try TestDatabase.shared.createTrip(), t2 = try TestDatabase.shared.createTrip()
        let sub = newHolder()
        #expect(reservedUntil(try apply(db, .reserve(tripId: t1, seats: ["1A"], hold: newHold()), buyer(sub, max: 2))) != nil)
        #expect(reservedUntil(try apply(db, .reserve(tripId: t2, seats: ["1A"], hold: newHold()), buyer(sub, max: 2))) != nil)
        #expect(try apply(db, .reserve(tripId: t1, seats: ["1B"], hold: newHold()), buyer(sub, max: 2)) == .overQuota(seats: ["1B"], limit: 2))
        // max_held 0: off.
        let many = seatNames(rows: 12, cols: 4).dropFirst(4).prefix(20)
        #expect(reservedUntil(try apply(db, .reserve(tripId: t2, seats: .listed(Array(many.prefix(10))), hold: newHold()), buyer(sub))) != nil)
        #expect(reservedUntil(try apply(db, .reserve(tripId: t2, seats: .listed(Array(many.suffix(10))), hold: newHold()), buyer(sub))) != nil)
        #expect(try heldBy(db, sub) == 22)
        // Open mode: per connection key, no holder row.
        let key = "~\(UUID().uuidString):7"
        let c = openConnection(key, max: 2)
        let out = try apply(db, ["3A", "3B", "3C"].map { .reserve(tripId: t1, seats: [$0], hold: newHold()) }, c)
        #expect(out.map { reservedUntil($0) != nil } == [true, true, false])
        #expect(out[2] == .overQuota(seats: ["3C"], limit: 2))
        #expect(try db.exec("SELECT count(*) FROM seat_holders WHERE holder = $1", [key]).int(0, 0) == 0)
        #expect(try db.exec("SELECT count(*) FROM seat_holders WHERE holder = $1", [sub]).int(0, 0) == 1)
    }

    /// The quota count is one range of seats_held_by_owner, however many seats others hold: EXPLAIN shows an index (only) scan on it, and no sequential scan. On the quiet database, with 2,500 seats held by another holder, so the plan does not hinge on how many holds other tests' sweeps happen to have left in the table.
    @Test func countIsAnIndexLookup() throws {
        let (db, trip) = try quietConnectionAndFreshTrip(rows: 100, cols: 50)
        let sub = newHolder()
        _ = try apply(db, .reserve(tripId: trip, seats: ["1A", "1B", "2C"], hold: newHold()), buyer(sub, max: 10))
        try db.exec("UPDATE seats SET status = 'held', hold_hash = sha256('crowd'), hold_owner = 'crowd', "
            + "until = now() + interval '1 hour' WHERE trip_id = $1 AND row_no > 50", [trip])
        try db.exec("ANALYZE seats")
        let plan = try db.exec("""
            EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
            SELECT count(*) FROM seats WHERE status = 'held' AND hold_owner = $1 AND until > now()
            """, [sub])
        let text = (0..<plan.rowCount).map { plan.string($0, 0) ?? "" }.joined(separator: "\n")
        #expect(text.contains("Index") && text.contains("seats_held_by_owner"), "\(text)")
        #expect(!text.contains("Seq Scan"), "\(text)")
    }
}
