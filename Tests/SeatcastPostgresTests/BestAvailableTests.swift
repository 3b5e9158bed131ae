import Foundation
import SeatcastCore
@testable import SeatcastPostgres
import SeatcastTesting
import Testing

/// A best-available reserve of `count` seats (`together`: side by side in one row).
func best(_ trip: String, _ count: Int, together: Bool = false, hold: String = newHold("best")) -> Command {
    .reserve(tripId: trip, seats: .best(count: count, together: together), hold: hold)
}

/// The seats of a `reserved` outcome, nil for any other outcome.
func reservedSeats(_ o: CommandOutcome) -> [String]? {
    if case let .reserved(seats, _) = o { return seats }
    return nil
}

/// `count` names per row, in the order given by `letters`, for rows 1...rows.
func rowPattern(rows: Int, _ letters: [String]) -> [[String]] {
    (1...rows).map { r in letters.map { "\(r)\($0)" } }
}

/// Best-available reserves (docs/PROTOCOL.md 1.1) at the store: the documented order on empty
/// trips (golden), and what a best-available reserve answers.
@Suite("Best available")
struct BestAvailableTests {
    /// One seat at a time on an empty 20x4 trip: lowest row first, then nearest the middle; the two middle columns tie and the lower one (B) comes first, then C, then A and D (equally far: A first). Each answer is `reserved` with one locked event at the next seq; the 81st is `not_enough_seats` with no seats.
    @Test func singlesOn20x4() throws {
        let db = try TestDatabase.shared.connect()
        let trip = try TestDatabase.shared.createTrip(rows: 20, cols: 4)
        var got: [String] = []
        for i in 1...80 {
            let o = try apply(db, best(trip, 1))
            let seats = try #require(reservedSeats(o), "request \(i): \(o)")
            got += seats
            let events = try SeatStore(db).events(tripId: trip, afterSeq: Int64(i - 1))
            #expect(events == [TripEvent(tripId: trip, seq: Int64(i), seatNo: seats[0], kind: .locked, untilMs: reservedUntil(o))])
        }
        #expect(got == rowPattern(rows: 20, ["B", "C", "A", "D"]).flatMap { $0 })
        #expect(try apply(db, best(trip, 1)) == .rejected(.notEnoughSeats, seats: []))
        #expect(try lastSeq(db, trip) == 80)
    }

    /// One seat at a time on an empty 10x5 trip: C (the middle), then B and D (B first), then A and E.
    @Test func singlesOn10x5() throws {
        let db = try TestDatabase.shared.connect()
        let trip = try TestDatabase.shared.createTrip(rows: 10, cols: 5)
        let got = try (1...50).flatMap { _ in reservedSeats(try apply(db, best(trip, 1))) ?? ["?"] }
        #expect(got == rowPattern(rows: 10, ["C", "B", "D", "A", "E"]).flatMap { $0 })
        #expect(try apply(db, best(trip, 1)) == .rejected(.notEnoughSeats, seats: []))
    }

    /// Several seats not together take the best ones one by one, across rows, and answer them in row/column order.
    @Test func severalNotTogether() throws {
        let db = try TestDatabase.shared.connect()
        let trip = try TestDatabase.shared.createTrip(rows: 20, cols: 4)
        #expect(reservedSeats(try apply(db, best(trip, 3))) == ["1A", "1B", "1C"])
        #expect(reservedSeats(try apply(db, best(trip, 3))) == ["1D", "2B", "2C"])
        #expect(reservedSeats(try apply(db, best(trip, 1))) == ["2A"])
        let five = try #require(reservedSeats(try apply(db, best(trip, 5))))
        #expect(five == ["2D", "3A", "3B", "3C", "3D"])
    }

    /// Pairs together on an empty 20x4 trip: B+C of each row (the block centred on the middle), row by row; then A and D are left in every row, never side by side, so the 21st pair is `not_enough_seats`.
    @Test func pairsOn20x4() throws {
        let db = try TestDatabase.shared.connect()
        let trip = try TestDatabase.shared.createTrip(rows: 20, cols: 4)
        let got = try (1...20).map { _ in reservedSeats(try apply(db, best(trip, 2, together: true))) ?? [] }
        #expect(got == rowPattern(rows: 20, ["B", "C"]))
        #expect(try apply(db, best(trip, 2, together: true)) == .rejected(.notEnoughSeats, seats: []))
        // Single seats are still there, and a not-together pair gets two of them.
        #expect(reservedSeats(try apply(db, best(trip, 2))) == ["1A", "1D"])
    }

    /// Pairs together on an empty 10x5 trip: B+C and C+D are equally near the middle, the lower (B+C) wins; then D+E is the row's only pair; then the next row.
    @Test func pairsOn10x5() throws {
        let db = try TestDatabase.shared.connect()
        let trip = try TestDatabase.shared.createTrip(rows: 10, cols: 5)
        let got = try (1...20).map { _ in reservedSeats(try apply(db, best(trip, 2, together: true))) ?? [] }
        #expect(got == (1...10).flatMap { r in [["\(r)B", "\(r)C"], ["\(r)D", "\(r)E"]] })
        #expect(try apply(db, best(trip, 2, together: true)) == .rejected(.notEnoughSeats, seats: []))
    }

    /// Three together on 10x5 take B-D (centred); on 20x4 A-C and B-D tie and A-C (the lower) wins, then the row has D left; four together on 20x4 take whole rows; more than a row holds is never possible.
    @Test func blocksOfThreeAndFour() throws {
        let db = try TestDatabase.shared.connect()
        let wide = try TestDatabase.shared.createTrip(rows: 10, cols: 5)
        #expect(try (1...3).map { _ in reservedSeats(try apply(db, best(wide, 3, together: true))) ?? [] }
                == rowPattern(rows: 3, ["B", "C", "D"]))
        let narrow = try TestDatabase.shared.createTrip(rows: 20, cols: 4)
        #expect(try (1...2).map { _ in reservedSeats(try apply(db, best(narrow, 3, together: true))) ?? [] }
                == rowPattern(rows: 2, ["A", "B", "C"]))
        #expect(reservedSeats(try apply(db, best(narrow, 4, together: true))) == ["3A", "3B", "3C", "3D"])
        #expect(try apply(db, best(narrow, 5, together: true)) == .rejected(.notEnoughSeats, seats: []))
        #expect(try apply(db, best(wide, 6, together: true)) == .rejected(.notEnoughSeats, seats: []))
    }

    /// Wide trips (seat names row-col): of 40 columns, 20 and 21 are the middle (20 first), a pair takes 20+21; of 100 columns, three together are 49-51 (49-51 and 50-52 are equally near the middle: the lower wins).
    @Test func wideTrips() throws {
        let db = try TestDatabase.shared.connect()
        let forty = try TestDatabase.shared.createTrip(rows: 3, cols: 40)
        #expect(reservedSeats(try apply(db, best(forty, 1))) == ["1-20"])
        #expect(reservedSeats(try apply(db, best(forty, 1))) == ["1-21"])
        #expect(reservedSeats(try apply(db, best(forty, 2, together: true))) == ["1-18", "1-19"])
        #expect(reservedSeats(try apply(db, best(forty, 2, together: true))) == ["1-22", "1-23"])
        let hundred = try TestDatabase.shared.createTrip(rows: 2, cols: 100)
        #expect(reservedSeats(try apply(db, best(hundred, 3, together: true))) == ["1-49", "1-50", "1-51"])
        #expect(reservedSeats(try apply(db, best(hundred, 10, together: true))) == ["1-52", "1-53", "1-54", "1-55", "1-56", "1-57", "1-58", "1-59", "1-60", "1-61"])
    }

    /// Seats held, booked or taken are passed over; seats whose hold ran out count as free; the hold's seats are then its own (confirm all books them).
    @Test func takenSeatsArePassedOver() throws {
        let db = try TestDatabase.shared.connect()
        let trip = try TestDatabase.shared.createTrip(rows: 3, cols: 4)
        let other = newHold("other")
        _ = try apply(db, .reserve(tripId: trip, seats: ["1B", "2C", "3B", "3C"], hold: other))
        _ = try apply(db, .confirm(tripId: trip, seats: ["1B"], hold: other))
        // Row 1 (1B booked) has one pair left, C+D; row 2 (2C held) has A+B; row 3 none.
        let h = newHold("mine")
        #expect(reservedSeats(try apply(db, best(trip, 2, together: true, hold: h))) == ["1C", "1D"])
        #expect(reservedSeats(try apply(db, best(trip, 2, together: true))) == ["2A", "2B"])
        #expect(try apply(db, best(trip, 2, together: true)) == .rejected(.notEnoughSeats, seats: []))
        // 3B and 3C run out: the pair is free again.
        try db.exec("UPDATE seats SET until = now() - interval '1 second' WHERE trip_id = $1 AND seat_no IN ('3B', '3C')", [trip])
        #expect(reservedSeats(try apply(db, best(trip, 2, together: true))) == ["3B", "3C"])
        #expect(try apply(db, .confirm(tripId: trip, seats: nil, hold: h)) == .confirmed(seats: ["1C", "1D"]))
        #expect(try db.exec("SELECT count(*) FROM seatcast_audit($1)", [trip]).int(0, 0) == 0)
    }

    /// In one batch, best-available requests see each other's seats (and those of the batch's single-seat reserves, which run first); an unknown trip is `unknown_trip`; a best-available reserve never joins a set-wise group.
    @Test func batchAndUnknownTrip() throws {
        let db = try TestDatabase.shared.connect()
        let trip = try TestDatabase.shared.createTrip(rows: 2, cols: 4)
        let batch: [Command] = [
            best(trip, 2, together: true), best(trip, 1), .reserve(tripId: trip, seats: ["2B"], hold: newHold()),
            best(trip, 2, together: true), best(trip, 2, together: true), best("no-such-trip", 1),
        ]
        let sessions = [1, 2, 3, 4, 5, 6]
        #expect(SeatStore.bulkGroups(batch, sessions: sessions) == [nil, nil, Schema.BulkGroup.singleSeatReserve, nil, nil, nil])
        #expect(SeatStore.bulkGroups([best(trip, 1)], sessions: [1]) == [nil])
        let out = try db.transaction { () throws(PGError) in
            try SeatStore(db).apply(batch, sessions: sessions, holdTTLms: defaultTTL)
        }
        #expect(out.map(reservedSeats) == [["1B", "1C"], ["1A"], ["2B"], ["2C", "2D"], nil, nil])
        #expect(out[4] == .rejected(.notEnoughSeats, seats: []))
        #expect(failureCode(out[5]) == .unknownTrip)
        #expect(try allEvents(db, trip).map(\.seatNo) == ["2B", "1B", "1C", "1A", "2C", "2D"])
    }

    // MARK: Locks of other transactions

    /// Seats another transaction has locked are passed over without waiting (phase A, SKIP LOCKED): the next best are taken at once; once the lock is gone, the passed-over seats are the best again.
    @Test func lockedSeatsArePassedOverWithoutWaiting() throws {
        let db = try TestDatabase.shared.connect()
        try db.exec("SET lock_timeout = '5s'") // waiting would fail these calls
        let trip = try TestDatabase.shared.createTrip(rows: 3, cols: 4)
        let locker = try TestDatabase.shared.connect()
        try locker.exec("BEGIN")
        try locker.exec("SELECT 1 FROM seats WHERE trip_id = $1 AND seat_no IN ('1B', '1C') FOR UPDATE", [trip])
        #expect(reservedSeats(try apply(db, best(trip, 2, together: true))) == ["2B", "2C"])
        #expect(reservedSeats(try apply(db, best(trip, 1))) == ["1A"])
        #expect(reservedSeats(try apply(db, best(trip, 2))) == ["1D", "2A"])
        try locker.exec("ROLLBACK")
        #expect(reservedSeats(try apply(db, best(trip, 2, together: true))) == ["1B", "1C"])
    }

    /// When the only room left is locked by another transaction, a best-available reserve waits for it (phase B) instead of refusing; the locker rolls back, and the reserve gets those seats (a pair, then a single seat).
    @Test func waitsForLockedRoomAndGetsIt() throws {
        let db = try TestDatabase.shared.connect()
        let trip = try TestDatabase.shared.createTrip(rows: 2, cols: 2)
        _ = try apply(db, .reserve(tripId: trip, seats: ["2A", "2B"], hold: newHold()))
        let locker = try TestDatabase.shared.connect()
        try locker.exec("BEGIN")
        try locker.exec("SELECT 1 FROM seats WHERE trip_id = $1 AND seat_no = '1A' FOR UPDATE", [trip])
        let h = newHold("waiter")
        let pair = try BackgroundApply([best(trip, 2, together: true, hold: h)])
        #expect(try pair.waitsOnLock())
        try locker.exec("ROLLBACK")
        #expect(try pair.result().map(reservedSeats) == [["1A", "1B"]])

        #expect(try apply(db, .release(tripId: trip, seats: nil, hold: h)) == .released(seats: ["1A", "1B"]))
        try locker.exec("BEGIN")
        try locker.exec("SELECT 1 FROM seats WHERE trip_id = $1 AND seat_no IN ('1A', '1B') FOR UPDATE", [trip])
        let single = try BackgroundApply([best(trip, 1)])
        #expect(try single.waitsOnLock())
        try locker.exec("ROLLBACK")
        #expect(try single.result().map(reservedSeats) == [["1A"]])
    }

    /// When the locker takes the seats it locked, the waiting best-available reserve finds no room left and answers `not_enough_seats`, with no event of its own.
    @Test func waitsForLockedRoomAndIsRefusedWhenTaken() throws {
        let db = try TestDatabase.shared.connect()
        let trip = try TestDatabase.shared.createTrip(rows: 2, cols: 2)
        _ = try apply(db, .reserve(tripId: trip, seats: ["2A", "2B"], hold: newHold()))
        let locker = try TestDatabase.shared.connect()
        try locker.exec("BEGIN")
        let taken = try SeatStore(locker).apply([.reserve(tripId: trip, seats: ["1B"], hold: newHold("locker"))], holdTTLms: defaultTTL)
        #expect(reservedSeats(taken[0]) == ["1B"])
        let pair = try BackgroundApply([best(trip, 2, together: true)])
        #expect(try pair.waitsOnLock())
        try locker.exec("COMMIT")
        #expect(try pair.result() == [.rejected(.notEnoughSeats, seats: [])])
        #expect(try allEvents(db, trip).map(\.seatNo) == ["2A", "2B", "1B"])
        #expect(try seatRow(db, trip, "1A").status == "available")
    }

    // MARK: Batches do not wait

    /// In a batch (`applyDeferringWaits`), a best-available reserve that only locked seats would serve does not wait: it and its session's later commands are left out (nil) and change nothing, other sessions' commands run; with no room at all, even locked, the answer is `not_enough_seats` at once.
    @Test func batchDefersInsteadOfWaiting() throws {
        let db = try TestDatabase.shared.connect()
        try db.exec("SET lock_timeout = '5s'") // waiting would fail the batch
        let trip = try TestDatabase.shared.createTrip(rows: 2, cols: 2)
        let other = try TestDatabase.shared.createTrip(rows: 2, cols: 2)
        _ = try apply(db, .reserve(tripId: trip, seats: ["2A", "2B"], hold: newHold()))
        let locker = try TestDatabase.shared.connect()
        try locker.exec("BEGIN")
        try locker.exec("SELECT 1 FROM seats WHERE trip_id = $1 AND seat_no = '1A' FOR UPDATE", [trip])
        let h = newHold("deferred")
        let batch: [Command] = [
            best(trip, 2, together: true, hold: h), .reserve(tripId: other, seats: ["1A"], hold: newHold()),
            .release(tripId: trip, seats: nil, hold: h), best(trip, 2, together: true), best(other, 2, together: true),
        ]
        let last = try lastSeq(db, trip)
        let out = try db.transaction { () throws(PGError) in
            try SeatStore(db).applyDeferringWaits(batch, sessions: [1, 2, 1, 3, 4], holdTTLms: defaultTTL)
        }
        #expect(out.count == 5)
        #expect(out[0] == nil && out[2] == nil && out[3] == nil)
        #expect(reservedSeats(out[1] ?? .released(seats: [])) == ["1A"])
        #expect(reservedSeats(out[4] ?? .released(seats: [])) == ["2A", "2B"])
        #expect(try lastSeq(db, trip) == last)
        try locker.exec("ROLLBACK")

        // No room, locked or not: refused at once, not deferred.
        let full = try TestDatabase.shared.createTrip(rows: 1, cols: 3)
        _ = try apply(db, .reserve(tripId: full, seats: ["1B"], hold: newHold()))
        let refused = try db.transaction { () throws(PGError) in
            try SeatStore(db).applyDeferringWaits([best(full, 2, together: true), best(full, 1)], sessions: [1, 2], holdTTLms: defaultTTL)
        }
        #expect(refused[0] == .rejected(.notEnoughSeats, seats: []))
        #expect(reservedSeats(refused[1] ?? .released(seats: [])) == ["1A"])
    }

    /// Through a PostgresBackend: one batch (everything queued before the writer starts) with a best-available reserve that only locked seats would serve, a later release of its hold, and another session's reserve. The other session is answered while the lock is still held (the batch did not wait); the deferred reserve then waits on its own, gets the seats once the locker rolls back, and the release that came after it in its session runs after it.
    @Test func writerDefersWaitsOutOfTheBatch() throws {
        let trip = try TestDatabase.shared.createTrip(rows: 2, cols: 2)
        let other = try TestDatabase.shared.createTrip(rows: 2, cols: 2)
        let db = try TestDatabase.shared.connect()
        _ = try apply(db, .reserve(tripId: trip, seats: ["2A", "2B"], hold: newHold()))
        let locker = try TestDatabase.shared.connect()
        try locker.exec("BEGIN")
        try locker.exec("SELECT 1 FROM seats WHERE trip_id = $1 AND seat_no = '1A' FOR UPDATE", [trip])
        let backend = PostgresBackend(.init(url: TestDatabase.shared.url))
        let answers = Shared<[String: CommandOutcome]>([:])
        let arrived = DispatchSemaphore(value: 0)
        func send(_ name: String, _ c: Command, session: Int) {
            backend.execute(c, session: session) { o in
                answers.update { $0[name] = o }
                arrived.signal()
            }
        }
        let h = newHold("waiter")
        send("best", best(trip, 2, together: true, hold: h), session: 1)
        send("release", .release(tripId: trip, seats: nil, hold: h), session: 1)
        send("other", .reserve(tripId: other, seats: ["1A"], hold: newHold()), session: 2)
        backend.start()
        defer { backend.stop() }
        #expect(arrived.wait(timeout: .now() + 30) == .success)
        #expect(answers.value.keys.sorted() == ["other"])
        #expect(reservedSeats(answers.value["other"]!) == ["1A"])
        // The deferred reserve now waits for the locker's seat on its own.
        let lockerPid = try #require(try locker.exec("SELECT pg_backend_pid()").int(0, 0))
        #expect(try eventually {
            try TestDatabase.shared.sql("SELECT count(*) FROM pg_stat_activity WHERE $1::int = ANY (pg_blocking_pids(pid))",
                                        [String(lockerPid)]).int(0, 0) == 1
        })
        #expect(answers.value.count == 1)
        try locker.exec("ROLLBACK")
        for _ in 0..<2 { #expect(arrived.wait(timeout: .now() + 30) == .success) }
        #expect(answers.value["best"] == .reserved(seats: ["1A", "1B"], untilMs: reservedUntil(answers.value["best"]!) ?? 0))
        #expect(answers.value["release"] == .released(seats: ["1A", "1B"]))
        #expect(try seatRow(db, trip, "1A").status == "available")
    }
}
