import Foundation
import SeatcastCore
@testable import SeatcastPostgres
import SeatcastTesting
import Testing

@Suite("SeatStore apply")
struct SeatStoreApplyTests {
    /// Reserving one available seat holds it for the TTL, reflects in the snapshot and writes one locked event.
    @Test func reserveOneSeat() throws {
        let (db, trip) = try connectionAndFreshTrip()
        let hold = newHold()
        let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
        let o = try apply(db, .reserve(tripId: trip, seats: ["3C"], hold: hold))
        let until = try #require(reservedUntil(o))
        #expect(o == .reserved(seats: ["3C"], untilMs: until))
        #expect(abs(until - (nowMs + defaultTTL)) < 10_000)
        #expect(try isHolder(db, trip, "3C", hold))
        let s = try TestDatabase.shared.snapshot(trip)
        #expect(s.seq == 1)
        #expect(s.seats.first { $0.seatNo == "3C" } == SeatState(seatNo: "3C", row: 3, col: 3, status: .held, untilMs: until))
        #expect(try allEvents(db, trip) == [TripEvent(tripId: trip, seq: 1, seatNo: "3C", kind: .locked, untilMs: until)])
    }

    /// A multi-seat reserve takes every seat with one until, answering the seats in request order.
    @Test func reserveSeveralSeats() throws {
        let (db, trip) = try connectionAndFreshTrip()
        let o = try apply(db, .reserve(tripId: trip, seats: ["2C", "2A", "2B"], hold: newHold()))
        let until = try #require(reservedUntil(o))
        #expect(o == .reserved(seats: ["2C", "2A", "2B"], untilMs: until))
        let events = try allEvents(db, trip)
        #expect(events.map(\.seatNo) == ["2A", "2B", "2C"])
        #expect(events.map(\.seq) == [1, 2, 3])
        #expect(events.allSatisfy { $0.kind == .locked && $0.untilMs == until })
    }

    /// A multi-seat reserve with one taken seat is rejected seat_taken naming only the taken seat, and changes nothing.
    @Test func multiSeatIsAllOrNothing() throws {
        let (db, trip) = try connectionAndFreshTrip()
        let first = newHold(), second = newHold()
        _ = try apply(db, .reserve(tripId: trip, seats: ["4B"], hold: first))
        _ = try apply(db, .reserve(tripId: trip, seats: ["4D"], hold: first))
        _ = try apply(db, .confirm(tripId: trip, seats: ["4D"], hold: first))
        let before = try TestDatabase.shared.snapshot(trip)

        #expect(try apply(db, .reserve(tripId: trip, seats: ["4A", "4B", "4C"], hold: second))
            == .rejected(.seatTaken, seats: ["4B"]))
        #expect(try apply(db, .reserve(tripId: trip, seats: ["4D", "4C", "4B", "4A"], hold: second))
            == .rejected(.seatTaken, seats: ["4D", "4B"]))
        #expect(try TestDatabase.shared.snapshot(trip) == before)
        #expect(try lastSeq(db, trip) == 3)
        #expect(try seatRow(db, trip, "4A").status == "available")
        #expect(try seatRow(db, trip, "4C").status == "available")
    }

    /// A retried reserve by the same hold answers reserved with the same until and writes nothing, even with another TTL.
    @Test func reserveRetryIsIdempotent() throws {
        let (db, trip) = try connectionAndFreshTrip()
        let hold = newHold()
        let until1 = try #require(reservedUntil(try apply(db, .reserve(tripId: trip, seats: ["5A"], hold: hold))))
        let until2 = try #require(reservedUntil(try apply(db, .reserve(tripId: trip, seats: ["6A", "6B"], hold: hold))))
        let rows = try ["5A", "6A", "6B"].map { try seatRow(db, trip, $0) }

        // A much longer TTL would move `until` if the retry rewrote it.
        #expect(try apply(db, .reserve(tripId: trip, seats: ["5A"], hold: hold), ttl: 900_000)
            == .reserved(seats: ["5A"], untilMs: until1))
        #expect(try apply(db, .reserve(tripId: trip, seats: ["6B", "6A"], hold: hold), ttl: 900_000)
            == .reserved(seats: ["6B", "6A"], untilMs: until2))
        #expect(try ["5A", "6A", "6B"].map { try seatRow(db, trip, $0) } == rows)
        #expect(try lastSeq(db, trip) == 3)
        #expect(try allEvents(db, trip).count == 3)
    }

    /// A seat held by another hold is rejected seat_taken, as is a booked seat, and the holder keeps it.
    @Test func otherHoldGetsSeatTaken() throws {
        let (db, trip) = try connectionAndFreshTrip()
        let owner = newHold(), other = newHold()
        _ = try apply(db, .reserve(tripId: trip, seats: ["1A", "1B"], hold: owner))
        _ = try apply(db, .confirm(tripId: trip, seats: ["1B"], hold: owner))
        #expect(try apply(db, .reserve(tripId: trip, seats: ["1A"], hold: other)) == .rejected(.seatTaken, seats: ["1A"]))
        #expect(try apply(db, .reserve(tripId: trip, seats: ["1B"], hold: other)) == .rejected(.seatTaken, seats: ["1B"]))
        #expect(try isHolder(db, trip, "1A", owner))
        #expect(try lastSeq(db, trip) == 3)
    }

    /// Reserve, confirm and release on an unknown trip fail with unknown_trip.
    @Test func unknownTrip() throws {
        let db = try TestDatabase.shared.connect()
        let trip = "no-such-trip-\(UInt32.random(in: 0...UInt32.max))"
        let hold = newHold()
        let outcomes = try apply(db, [
            .reserve(tripId: trip, seats: ["1A"], hold: hold),
            .reserve(tripId: trip, seats: ["1A", "1B"], hold: hold),
            .confirm(tripId: trip, seats: nil, hold: hold),
            .release(tripId: trip, seats: ["1A"], hold: hold),
        ])
        #expect(outcomes.map(failureCode) == Array(repeating: ErrorCode.unknownTrip, count: 4))
    }

    /// An unknown seat fails with unknown_seat naming it, for reserve, confirm and release, and changes nothing.
    @Test func unknownSeatChangesNothing() throws {
        let (db, trip) = try connectionAndFreshTrip()
        let hold = newHold()
        _ = try apply(db, .reserve(tripId: trip, seats: ["2A"], hold: hold))
        let before = try TestDatabase.shared.snapshot(trip)

        let r1 = try apply(db, .reserve(tripId: trip, seats: ["99Z"], hold: hold))
        let r2 = try apply(db, .reserve(tripId: trip, seats: ["1A", "13A", "1B"], hold: hold))
        let c = try apply(db, .confirm(tripId: trip, seats: ["2A", "1E"], hold: hold))
        let rel = try apply(db, .release(tripId: trip, seats: ["2A", "0A"], hold: hold))
        for o in [r1, r2, c, rel] { #expect(failureCode(o) == .unknownSeat) }
        if case let .failed(e) = r2 { #expect(e.message.contains("13A")) }
        if case let .failed(e) = rel { #expect(e.message.contains("0A")) }
        #expect(try TestDatabase.shared.snapshot(trip) == before)
        #expect(try seatRow(db, trip, "2A").status == "held")
    }

    /// Confirm without seats books every seat of the hold on that trip; a retry answers confirmed again with the same seats.
    @Test func confirmAllAndRetry() throws {
        let (db, trip) = try connectionAndFreshTrip()
        let other = try TestDatabase.shared.createTrip()
        let hold = newHold()
        _ = try apply(db, .reserve(tripId: trip, seats: ["3B", "1C"], hold: hold))
        _ = try apply(db, .reserve(tripId: trip, seats: ["2D"], hold: hold))
        _ = try apply(db, .reserve(tripId: other, seats: ["1A"], hold: hold))

        #expect(try apply(db, .confirm(tripId: trip, seats: nil, hold: hold)) == .confirmed(seats: ["1C", "2D", "3B"]))
        #expect(try lastSeq(db, trip) == 6)
        #expect(try apply(db, .confirm(tripId: trip, seats: nil, hold: hold)) == .confirmed(seats: ["1C", "2D", "3B"]))
        #expect(try lastSeq(db, trip) == 6)
        let events = try allEvents(db, trip)
        #expect(events.suffix(3).map(\.seatNo) == ["1C", "2D", "3B"])
        #expect(events.suffix(3).allSatisfy { $0.kind == .booked && $0.untilMs == nil })
        let s = try TestDatabase.shared.snapshot(trip)
        #expect(s.seats.filter { $0.status == .booked }.map(\.seatNo) == ["1C", "2D", "3B"])
        // The other trip's seat is untouched.
        #expect(try seatRow(db, other, "1A").status == "held")
    }

    /// Confirm with seats books only those seats; a retry of it answers confirmed; the rest stays held.
    @Test func confirmListedSeats() throws {
        let (db, trip) = try connectionAndFreshTrip()
        let hold = newHold()
        let until = try #require(reservedUntil(try apply(db, .reserve(tripId: trip, seats: ["5A", "5B", "5C"], hold: hold))))
        #expect(try apply(db, .confirm(tripId: trip, seats: ["5C", "5A"], hold: hold)) == .confirmed(seats: ["5C", "5A"]))
        #expect(try apply(db, .confirm(tripId: trip, seats: ["5A", "5C"], hold: hold)) == .confirmed(seats: ["5A", "5C"]))
        #expect(try apply(db, .confirm(tripId: trip, seats: ["5A"], hold: hold)) == .confirmed(seats: ["5A"]))
        #expect(try seatRow(db, trip, "5A") .status == "booked")
        #expect(try seatRow(db, trip, "5A").untilMs == nil)
        #expect(try seatRow(db, trip, "5B") == SeatRow(status: "held", holdHash: try holdHash(db, hold), untilMs: until, version: 1))
        #expect(try seatRow(db, trip, "5C").status == "booked")
        #expect(try lastSeq(db, trip) == 5)
    }

    /// Confirm by a hold that holds none of the seats is rejected not_held and changes nothing.
    @Test func confirmByStrangerIsNotHeld() throws {
        let (db, trip) = try connectionAndFreshTrip()
        let owner = newHold(), stranger = newHold()
        _ = try apply(db, .reserve(tripId: trip, seats: ["7A", "7B"], hold: owner))
        #expect(try apply(db, .confirm(tripId: trip, seats: ["7A"], hold: stranger)) == .rejected(.notHeld, seats: ["7A"]))
        #expect(try apply(db, .confirm(tripId: trip, seats: nil, hold: stranger)) == .rejected(.notHeld, seats: []))
        #expect(try apply(db, .confirm(tripId: trip, seats: ["8A"], hold: owner)) == .rejected(.notHeld, seats: ["8A"]))
        #expect(try seatRow(db, trip, "7A").status == "held")
        #expect(try seatRow(db, trip, "7B").status == "held")
        #expect(try lastSeq(db, trip) == 2)
    }

    /// Release of listed seats frees only those; a retry answers released with no seats.
    @Test func releaseListedAndRetry() throws {
        let (db, trip) = try connectionAndFreshTrip()
        let hold = newHold()
        _ = try apply(db, .reserve(tripId: trip, seats: ["9A", "9B", "9C"], hold: hold))
        #expect(try apply(db, .release(tripId: trip, seats: ["9C", "9A"], hold: hold)) == .released(seats: ["9A", "9C"]))
        #expect(try apply(db, .release(tripId: trip, seats: ["9C", "9A"], hold: hold)) == .released(seats: []))
        #expect(try seatRow(db, trip, "9A") == SeatRow(status: "available", holdHash: nil, untilMs: nil, version: 2))
        #expect(try seatRow(db, trip, "9B").status == "held")
        let events = try allEvents(db, trip)
        #expect(events.map(\.seq) == [1, 2, 3, 4, 5])
        #expect(events.suffix(2).map(\.seatNo) == ["9A", "9C"])
        #expect(events.suffix(2).allSatisfy { $0.kind == .released && $0.reason == "released" && $0.untilMs == nil })
    }

    /// Release without seats frees every held seat of the hold on that trip (not booked ones); a retry releases nothing.
    @Test func releaseAllAndRetry() throws {
        let (db, trip) = try connectionAndFreshTrip()
        let hold = newHold()
        _ = try apply(db, .reserve(tripId: trip, seats: ["10D", "10A", "11B"], hold: hold))
        _ = try apply(db, .confirm(tripId: trip, seats: ["11B"], hold: hold))
        #expect(try apply(db, .release(tripId: trip, seats: nil, hold: hold)) == .released(seats: ["10A", "10D"]))
        #expect(try apply(db, .release(tripId: trip, seats: nil, hold: hold)) == .released(seats: []))
        #expect(try seatRow(db, trip, "11B").status == "booked")
        #expect(try lastSeq(db, trip) == 6)
    }

    /// Release never fails for seats the hold does not hold: others' held, booked or available seats answer released with none, untouched.
    @Test func releaseOfSeatsNotHeldNeverFails() throws {
        let (db, trip) = try connectionAndFreshTrip()
        let owner = newHold(), stranger = newHold()
        _ = try apply(db, .reserve(tripId: trip, seats: ["1A", "1B"], hold: owner))
        _ = try apply(db, .confirm(tripId: trip, seats: ["1B"], hold: owner))
        let before = try TestDatabase.shared.snapshot(trip)
        #expect(try apply(db, .release(tripId: trip, seats: ["1A", "1B", "1C"], hold: stranger)) == .released(seats: []))
        #expect(try apply(db, .release(tripId: trip, seats: nil, hold: stranger)) == .released(seats: []))
        #expect(try apply(db, .release(tripId: trip, seats: ["1B", "1C"], hold: owner)) == .released(seats: []))
        #expect(try TestDatabase.shared.snapshot(trip) == before)
    }

    /// An expired hold's seat is taken by another hold at once (a seat_locked event), and the first hold's confirm is rejected hold_expired.
    @Test func expiredHoldIsTakenOver() throws {
        let (db, trip) = try quietConnectionAndFreshTrip()
        let first = newHold(), second = newHold()
        _ = try apply(db, .reserve(tripId: trip, seats: ["6C"], hold: first))
        try expireHold(db, trip, "6C")
        let seqBefore = try lastSeq(db, trip)

        let o = try apply(db, .reserve(tripId: trip, seats: ["6C"], hold: second))
        let until = try #require(reservedUntil(o))
        #expect(until > Int64(Date().timeIntervalSince1970 * 1000))
        #expect(try isHolder(db, trip, "6C", second))
        let taken = try SeatStore(db).events(tripId: trip, afterSeq: seqBefore)
        #expect(taken == [TripEvent(tripId: trip, seq: seqBefore + 1, seatNo: "6C", kind: .locked, untilMs: until)])

        #expect(try apply(db, .confirm(tripId: trip, seats: nil, hold: first)) == .rejected(.holdExpired, seats: []))
        #expect(try apply(db, .confirm(tripId: trip, seats: ["6C"], hold: first)) == .rejected(.holdExpired, seats: ["6C"]))
        #expect(try isHolder(db, trip, "6C", second))
        #expect(try apply(db, .confirm(tripId: trip, seats: nil, hold: second)) == .confirmed(seats: ["6C"]))
    }

    /// A multi-seat reserve may take an expired seat together with available ones.
    @Test func multiSeatTakesExpiredSeat() throws {
        let (db, trip) = try quietConnectionAndFreshTrip()
        let first = newHold(), second = newHold()
        _ = try apply(db, .reserve(tripId: trip, seats: ["2B"], hold: first))
        try expireHold(db, trip, "2B")
        let o = try apply(db, .reserve(tripId: trip, seats: ["2A", "2B", "2C"], hold: second))
        #expect(reservedUntil(o) != nil)
        for seat in ["2A", "2B", "2C"] { #expect(try isHolder(db, trip, seat, second)) }
        #expect(try apply(db, .confirm(tripId: trip, seats: ["2B"], hold: first)) == .rejected(.holdExpired, seats: ["2B"]))
    }

    /// A confirm after expiry succeeds while the seat is still held by that hold.
    @Test func confirmOfExpiredButStillHeldSeat() throws {
        let (db, trip) = try quietConnectionAndFreshTrip()
        let hold = newHold()
        _ = try apply(db, .reserve(tripId: trip, seats: ["8C"], hold: hold))
        try expireHold(db, trip, "8C")
        #expect(try apply(db, .confirm(tripId: trip, seats: nil, hold: hold)) == .confirmed(seats: ["8C"]))
        #expect(try seatRow(db, trip, "8C").status == "booked")
    }

    /// Releasing an expired hold records reason expired, and a later confirm by that hold is rejected hold_expired.
    @Test func releaseOfExpiredHold() throws {
        let (db, trip) = try quietConnectionAndFreshTrip()
        let hold = newHold()
        _ = try apply(db, .reserve(tripId: trip, seats: ["4A", "4B"], hold: hold))
        try expireHold(db, trip, "4A")
        #expect(try apply(db, .release(tripId: trip, seats: nil, hold: hold)) == .released(seats: ["4A", "4B"]))
        let released = try allEvents(db, trip).filter { $0.kind == .released }
        #expect(released.map(\.seatNo) == ["4A", "4B"])
        #expect(released.map(\.reason) == ["expired", "released"])
        #expect(try apply(db, .confirm(tripId: trip, seats: ["4A"], hold: hold)) == .rejected(.holdExpired, seats: ["4A"]))
    }

    /// A batch answers one outcome per command, in order, each command seeing the ones before it.
    @Test func batchOutcomesInOrder() throws {
        let (db, trip) = try connectionAndFreshTrip()
        let h1 = newHold(), h2 = newHold(), stranger = newHold()
        let outcomes = try apply(db, [
            .reserve(tripId: trip, seats: ["1A"], hold: h1),
            .reserve(tripId: trip, seats: ["1A"], hold: h2),
            .reserve(tripId: trip, seats: ["2A", "2B"], hold: h2),
            .reserve(tripId: trip, seats: ["2B", "2C"], hold: h1),
            .reserve(tripId: trip, seats: ["2C"], hold: h1),
            .confirm(tripId: trip, seats: nil, hold: h1),
            .release(tripId: trip, seats: ["2B"], hold: h2),
            .reserve(tripId: trip, seats: ["1Z"], hold: h1),
            .reserve(tripId: trip + "-missing", seats: ["1A"], hold: h1),
            .confirm(tripId: trip, seats: nil, hold: stranger),
            .release(tripId: trip, seats: nil, hold: h2),
        ])
        #expect(outcomes.count == 11)
        let until = try #require(reservedUntil(outcomes[0]))
        #expect(outcomes[0] == .reserved(seats: ["1A"], untilMs: until))
        #expect(outcomes[1] == .rejected(.seatTaken, seats: ["1A"]))
        #expect(outcomes[2] == .reserved(seats: ["2A", "2B"], untilMs: until))
        #expect(outcomes[3] == .rejected(.seatTaken, seats: ["2B"]))
        #expect(outcomes[4] == .reserved(seats: ["2C"], untilMs: until))
        #expect(outcomes[5] == .confirmed(seats: ["1A", "2C"]))
        #expect(outcomes[6] == .released(seats: ["2B"]))
        #expect(failureCode(outcomes[7]) == .unknownSeat)
        #expect(failureCode(outcomes[8]) == .unknownTrip)
        #expect(outcomes[9] == .rejected(.notHeld, seats: []))
        #expect(outcomes[10] == .released(seats: ["2A"]))

        let events = try allEvents(db, trip)
        #expect(events.map(\.seq) == Array(1...Int64(events.count)))
        #expect(events.map { "\($0.seatNo):\($0.kind)" } == [
            "1A:locked", "2A:locked", "2B:locked", "2C:locked", "1A:booked", "2C:booked", "2B:released", "2A:released",
        ])
    }

    /// A batch of forty single-seat reserves answers forty outcomes matching their commands, in order.
    @Test func largeBatchKeepsOrder() throws {
        let (db, trip) = try connectionAndFreshTrip(rows: 10, cols: 4)
        let names = seatNames(rows: 10, cols: 4).shuffled()
        let holds = names.map { _ in newHold() }
        // Every fifth command asks for the seat the command before it took, by another hold.
        let commands: [Command] = names.indices.map { i in
            i % 5 == 4 ? .reserve(tripId: trip, seats: [names[i - 1]], hold: holds[i]) : .reserve(tripId: trip, seats: [names[i]], hold: holds[i])
        }
        let outcomes = try apply(db, commands)
        #expect(outcomes.count == commands.count)
        for (i, o) in outcomes.enumerated() {
            if i % 5 == 4 {
                #expect(o == .rejected(.seatTaken, seats: [names[i - 1]]))
            } else {
                #expect(o == .reserved(seats: [names[i]], untilMs: reservedUntil(o) ?? -1))
                #expect(try isHolder(db, trip, names[i], holds[i]))
            }
        }
        #expect(try lastSeq(db, trip) == 32)
    }
}
