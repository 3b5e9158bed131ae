import Foundation
import SeatcastCore
@testable import SeatcastPostgres
import SeatcastTesting
import Testing

// Owns: the tests of hold ownership (seats.hold_owner, HoldScope.ownHoldsOnly) in
// seatcast_apply: another holder's hold token holds nothing; open mode is version 1.

@Suite("Hold owners")
struct HoldOwnerTests {
    /// A buyer's hold token used by another buyer is answered as one that holds nothing: confirm not_held, release releases nothing, extend not_held, a reserve's retry seat_taken; nothing changes in the database (seats, outbox). The owner itself can do all of it.
    @Test func anotherHoldersTokenHoldsNothing() throws {
        let (db, trip) = try connectionAndFreshTrip()
        let u1 = buyer(newHolder()), u2 = buyer(newHolder())
        let h = newHold()
        #expect(reservedUntil(try apply(db, .reserve(tripId: trip, seats: ["1A", "1B"], hold: h), u1)) != nil)
        #expect(try holdOwner(db, trip, "1A") == u1.holder)
        let rows = try seatRows(db, trip), seq = try lastSeq(db, trip)

        #expect(try apply(db, .confirm(tripId: trip, seats: nil, hold: h), u2) == .rejected(.notHeld, seats: []))
        #expect(try apply(db, .confirm(tripId: trip, seats: ["1A"], hold: h), u2) == .rejected(.notHeld, seats: ["1A"]))
        #expect(try apply(db, .release(tripId: trip, seats: nil, hold: h), u2) == .released(seats: []))
        #expect(try apply(db, .release(tripId: trip, seats: ["1B"], hold: h), u2) == .released(seats: []))
        #expect(try apply(db, .extend(tripId: trip, hold: h, seconds: nil), u2) == .rejected(.notHeld, seats: []))
        #expect(try apply(db, .reserve(tripId: trip, seats: ["1A"], hold: h), u2) == .rejected(.seatTaken, seats: ["1A"]))
        #expect(try apply(db, .reserve(tripId: trip, seats: ["1A", "1C"], hold: h), u2) == .rejected(.seatTaken, seats: ["1A"]))
        // The same, set-wise (a batch with sessions: groups r and x).
        let store = SeatStore(db)
        let bulk = try db.transaction { () throws(PGError) in
            try store.apply([.reserve(tripId: trip, seats: ["1A"], hold: h), .release(tripId: trip, seats: ["1B"], hold: h)],
                            sessions: [1, 2], scopes: [u2, u2], holdTTLms: defaultTTL)
        }
        #expect(bulk == [.rejected(.seatTaken, seats: ["1A"]), .released(seats: [])])
        #expect(try seatRows(db, trip) == rows)
        #expect(try lastSeq(db, trip) == seq)

        // The owner: a retry, an extend, a confirm.
        #expect(reservedUntil(try apply(db, .reserve(tripId: trip, seats: ["1A"], hold: h), u1)) != nil)
        #expect(try apply(db, .extend(tripId: trip, hold: h, seconds: 30), u1) != .rejected(.notHeld, seats: []))
        #expect(try apply(db, .confirm(tripId: trip, seats: nil, hold: h), u1) == .confirmed(seats: ["1A", "1B"]))
        // Booked seats keep their owner; a confirm's retry is the owner's only.
        #expect(try holdOwner(db, trip, "1B") == u1.holder)
        #expect(try apply(db, .confirm(tripId: trip, seats: nil, hold: h), u1) == .confirmed(seats: ["1A", "1B"]))
        #expect(try apply(db, .confirm(tripId: trip, seats: nil, hold: h), u2) == .rejected(.notHeld, seats: []))
    }

    /// Another buyer's expired hold is not_held, never hold_expired, before and after the sweep (expired_holds remembers the owner); to its owner it is hold_expired.
    @Test func anotherHoldersExpiredHoldIsNotHeld() throws {
        let (db, trip) = try quietConnectionAndFreshTrip()
        let u1 = buyer(newHolder()), u2 = buyer(newHolder())
        let h = newHold()
        #expect(reservedUntil(try apply(db, .reserve(tripId: trip, seats: ["2A"], hold: h), u1)) != nil)
        try expireHold(db, trip, "2A")
        #expect(try apply(db, .extend(tripId: trip, hold: h, seconds: nil), u2) == .rejected(.notHeld, seats: []))
        #expect(try apply(db, .extend(tripId: trip, hold: h, seconds: nil), u1) == .rejected(.holdExpired, seats: []))
        // Taken over by u2 (any token): the old hold is recorded as expired, with u1 as owner.
        #expect(reservedUntil(try apply(db, .reserve(tripId: trip, seats: ["2A"], hold: newHold()), u2)) != nil)
        #expect(try holdOwner(db, trip, "2A") == u2.holder)
        #expect(try db.exec("SELECT hold_owner FROM expired_holds WHERE trip_id = $1", [trip]).string(0, 0) == u1.holder)
        #expect(try apply(db, .confirm(tripId: trip, seats: nil, hold: h), u2) == .rejected(.notHeld, seats: []))
        #expect(try apply(db, .extend(tripId: trip, hold: h, seconds: nil), u2) == .rejected(.notHeld, seats: []))
        #expect(try apply(db, .confirm(tripId: trip, seats: nil, hold: h), u1) == .rejected(.holdExpired, seats: []))
        #expect(try apply(db, .extend(tripId: trip, hold: h, seconds: nil), u1) == .rejected(.holdExpired, seats: []))
        // Without "own" (open mode, the backend), version 1: hold_expired.
        #expect(try apply(db, .confirm(tripId: trip, seats: nil, hold: h), openConnection("~x:1")) == .rejected(.holdExpired, seats: []))
        #expect(try apply(db, .confirm(tripId: trip, seats: nil, hold: h)) == .rejected(.holdExpired, seats: []))
    }

    /// Open mode (no "own"): any connection with the hold token may confirm, release, extend and retry, as in version 1; the seat stays recorded under the connection that took it.
    @Test func openModeIsVersion1() throws {
        let (db, trip) = try connectionAndFreshTrip()
        let a = openConnection("~n:\(UUID().uuidString):1", max: 10), b = openConnection("~n:\(UUID().uuidString):2", max: 10)
        let h = newHold()
        #expect(reservedUntil(try apply(db, .reserve(tripId: trip, seats: ["3A", "3B"], hold: h), a)) != nil)
        #expect(reservedUntil(try apply(db, .reserve(tripId: trip, seats: ["3A"], hold: h), b)) != nil)
        #expect(try holdOwner(db, trip, "3A") == a.holder)
        if case .extended = try apply(db, .extend(tripId: trip, hold: h, seconds: nil), b) {} else { Issue.record("not extended") }
        #expect(try apply(db, .release(tripId: trip, seats: ["3B"], hold: h), b) == .released(seats: ["3B"]))
        #expect(try apply(db, .confirm(tripId: trip, seats: nil, hold: h), b) == .confirmed(seats: ["3A"]))
        // The backend (no holder) too; its holds belong to nobody.
        let g = newHold()
        #expect(reservedUntil(try apply(db, .reserve(tripId: trip, seats: ["4A"], hold: g))) != nil)
        #expect(try holdOwner(db, trip, "4A") == nil)
        #expect(try apply(db, .confirm(tripId: trip, seats: nil, hold: g), a) == .confirmed(seats: ["4A"]))
        // A buyer cannot use a hold that belongs to nobody.
        let k = newHold()
        #expect(reservedUntil(try apply(db, .reserve(tripId: trip, seats: ["4B"], hold: k))) != nil)
        #expect(try apply(db, .confirm(tripId: trip, seats: nil, hold: k), buyer(newHolder())) == .rejected(.notHeld, seats: []))
    }

    /// hold_owner goes with the hold: set by every kind of reserve, kept while booked, cleared when the seat is freed (release, expiry sweep, by hand in psql).
    @Test func ownerFollowsTheSeat() throws {
        let (db, trip) = try quietConnectionAndFreshTrip()
        let u = buyer(newHolder())
        let h = newHold()
        _ = try apply(db, [.reserve(tripId: trip, seats: ["5A"], hold: h), .reserve(tripId: trip, seats: .best(count: 2, together: true), hold: h),
                           .reserve(tripId: trip, seats: ["6A", "6B"], hold: h)], u)
        let owned = try tableRows(db, "(SELECT seat_no FROM seats WHERE trip_id = '\(trip)' AND hold_owner = '\(u.holder!)')")
        #expect(owned.count == 5)
        #expect(try apply(db, .release(tripId: trip, seats: ["5A"], hold: h), u) == .released(seats: ["5A"]))
        #expect(try holdOwner(db, trip, "5A") == nil)
        #expect(try apply(db, .confirm(tripId: trip, seats: ["6A"], hold: h), u) == .confirmed(seats: ["6A"]))
        #expect(try holdOwner(db, trip, "6A") == u.holder)
        try expireHold(db, trip, "6B")
        try db.exec("SELECT seatcast_expire(1000)")
        #expect(try holdOwner(db, trip, "6B") == nil)
        try db.exec("UPDATE seats SET status = 'available' WHERE trip_id = $1 AND seat_no = '6A'", [trip])
        #expect(try holdOwner(db, trip, "6A") == nil)
        #expect(try db.exec("SELECT count(*) FROM seats WHERE status = 'available' AND hold_owner IS NOT NULL").int(0, 0) == 0)
    }
}
