import Foundation
import SeatcastCore
@testable import SeatcastPostgres
import SeatcastTesting
import Testing

/// One request of a stampede and its answer.
struct Answer: Sendable {
    var command: Command
    var outcome: CommandOutcome
}

/// Checks what a stampede of reserves (best-available and listed) left on a trip that
/// started empty, whatever the interleaving was:
/// - every request was answered `reserved` or rejected (`not_enough_seats` for
///   best-available, `seat_taken` for listed seats), none failed;
/// - a best-available answer has `count` seats, side by side in one row with `together`;
/// - no seat was given twice, and the database holds exactly the seats answered, each
///   under the hold it was answered to;
/// - no best-available request was refused while there was room: the final map has no
///   `count` free seats (side by side, for `together`) for any size that was refused
///   (seats only get taken in a stampede, so no room at the end means none at the refusal);
/// - the outbox is gap-free and its replay is the database; the audit is clean.
/// Returns how many requests were reserved.
@discardableResult
func checkStampede(_ trip: String, _ answers: [Answer], sourceLocation: SourceLocation = #_sourceLocation) throws -> Int {
    let db = try TestDatabase.shared.connect()
    let final = try TestDatabase.shared.snapshot(trip)
    let place = Dictionary(uniqueKeysWithValues: final.seats.map { ($0.seatNo, ($0.row, $0.col)) })
    var given: [String: String] = [:] // seat -> hold
    var problems: [String] = []
    var refusedSizes = Set<[Int]>() // [count, together ? 1 : 0]
    var reserved = 0
    for a in answers {
        guard case let .reserve(_, selection, hold) = a.command else { continue }
        switch (selection, a.outcome) {
        case let (.best(count, together), .reserved(seats, _)):
            reserved += 1
            if seats.count != count { problems.append("\(hold): \(seats) is not \(count) seats") }
            if together {
                let spots = seats.compactMap { place[$0] }.sorted { $0.1 < $1.1 }
                let oneRow = Set(spots.map(\.0)).count == 1
                let consecutive = zip(spots, spots.dropFirst()).allSatisfy { $1.1 == $0.1 + 1 }
                if spots.count != count || !oneRow || !consecutive { problems.append("\(hold): \(seats) are not side by side") }
            }
            for s in seats {
                if let other = given[s] { problems.append("\(s) given to \(other) and \(hold)") }
                given[s] = hold
            }
        case let (.best(count, together), .rejected(.notEnoughSeats, seats)):
            if !seats.isEmpty { problems.append("not_enough_seats with seats \(seats)") }
            refusedSizes.insert([count, together ? 1 : 0])
        case let (.listed(seats), .reserved(got, _)):
            reserved += 1
            if got != seats { problems.append("\(hold): asked \(seats), answered \(got)") }
            for s in seats {
                if let other = given[s] { problems.append("\(s) given to \(other) and \(hold)") }
                given[s] = hold
            }
        case (.listed, .rejected(.seatTaken, _)):
            break
        default:
            problems.append("\(a.command): \(a.outcome)")
        }
    }
    #expect(problems == [], sourceLocation: sourceLocation)

    // The database holds exactly the seats answered, each under its hold.
    let held = final.seats.filter { $0.status == .held }.map(\.seatNo)
    #expect(Set(held) == Set(given.keys), sourceLocation: sourceLocation)
    #expect(final.seats.allSatisfy { $0.status != .booked }, sourceLocation: sourceLocation)
    var wrongHolder: [String] = []
    for (seat, hold) in given where try !isHolder(db, trip, seat, hold) { wrongHolder.append(seat) }
    #expect(wrongHolder == [], sourceLocation: sourceLocation)

    // Nobody was refused while there was room.
    let free = Set(final.seats.filter { $0.status == .available }.map { [$0.row, $0.col] })
    for size in refusedSizes {
        let (count, together) = (size[0], size[1] == 1)
        if together {
            let room = free.contains { s in (0..<count).allSatisfy { free.contains([s[0], s[1] + $0]) } }
            #expect(!room, "a block of \(count) is still free after a refusal", sourceLocation: sourceLocation)
        } else {
            #expect(free.count < count, "\(free.count) seats are free after a refusal of \(count)", sourceLocation: sourceLocation)
        }
    }

    // One event per seat taken, gap-free, and the replay is the database.
    let events = try allEvents(db, trip)
    #expect(events.map(\.seq) == Array(1...Int64(max(events.count, 1))).prefix(events.count).map { $0 }, sourceLocation: sourceLocation)
    #expect(events.count == given.count, sourceLocation: sourceLocation)
    let empty = TripSnapshot(tripId: trip, name: final.name, rows: final.rows, cols: final.cols, epoch: final.epoch, seq: 0,
                             seats: final.seats.map { SeatState(seatNo: $0.seatNo, row: $0.row, col: $0.col, status: .available) })
    #expect(replay(empty, events, sourceLocation: sourceLocation).snapshot == final, sourceLocation: sourceLocation)
    #expect(try db.exec("SELECT count(*) FROM seatcast_audit($1)", [trip]).int(0, 0) == 0, sourceLocation: sourceLocation)
    return reserved
}

/// Best-available reserves under real concurrency: many connections (and two batching
/// writers, as two server instances have) on one trip at once.
@Suite("Best available under concurrency", .timeLimit(.minutes(3)))
struct BestAvailableConcurrencyTests {
    /// 200 requests for two seats together, from 10 threads with a connection each (one transaction per request), on a 20x4 trip: no seat twice, every pair side by side, nobody refused while a pair was free, the rest `not_enough_seats`.
    @Test func pairsFromTenConnections() throws {
        let trip = try TestDatabase.shared.createTrip(rows: 20, cols: 4)
        let answers = Shared<[Answer]>([])
        let errors = runTogether(10) { t, db in
            for _ in 0..<20 {
                let c = best(trip, 2, together: true)
                let o = try applyRetrying(db, [c])[0]
                answers.update { $0.append(Answer(command: c, outcome: o)) }
            }
        }
        #expect(errors == [])
        #expect(answers.value.count == 200)
        let reserved = try checkStampede(trip, answers.value)
        // 20 rows hold at most 2 pairs each, and at least 1 (B+C or an outer pair leaves the other).
        #expect((20...40).contains(reserved), "\(reserved) pairs")
    }

    /// The same stampede mixed with other requests on the same trip: single seats by name (random, some taken), best single seats, best pairs not together; and two connections that keep locking two free seats and rolling back (room that is locked but never taken: a request that refused instead of waiting for it would leave room behind).
    @Test func pairsMixedWithSingleSeats() throws {
        let trip = try TestDatabase.shared.createTrip(rows: 20, cols: 4)
        let names = seatNames(rows: 20, cols: 4)
        let answers = Shared<[Answer]>([])
        let working = Shared<Int>(14)
        let noise = Shared<Int>(0)
        let errors = runTogether(16) { t, db in
            if t >= 14 {
                while working.value > 0 {
                    try db.exec("BEGIN")
                    let r = try db.exec("""
                        SELECT seat_no FROM seats WHERE trip_id = $1 AND status = 'available'
                         ORDER BY random() LIMIT 2 FOR UPDATE SKIP LOCKED
                        """, [trip])
                    try db.exec("ROLLBACK")
                    noise.update { $0 += r.rowCount }
                }
                return
            }
            defer { working.update { $0 -= 1 } }
            for i in 0..<(t < 10 ? 20 : 15) {
                let c: Command
                switch t {
                case 0..<10: c = best(trip, 2, together: true)
                case 10, 11: c = .reserve(tripId: trip, seats: [names[(t * 37 + i * 13) % names.count]], hold: newHold("named"))
                case 12: c = best(trip, 1)
                default: c = best(trip, 2)
                }
                let o = try applyRetrying(db, [c])[0]
                answers.update { $0.append(Answer(command: c, outcome: o)) }
            }
        }
        #expect(errors == [])
        #expect(answers.value.count == 260)
        #expect(noise.value > 0)
        try checkStampede(trip, answers.value)
    }

    /// 200 pair requests through two PostgresBackends (two batching writers, as two server instances), from 8 threads each with its own session: batches of many best-available requests in one transaction each, racing the other instance's batches.
    @Test func pairsThroughTwoBackends() throws {
        let trip = try TestDatabase.shared.createTrip(rows: 20, cols: 4)
        let backends = (0..<2).map { _ in PostgresBackend(.init(url: TestDatabase.shared.url)) }
        for b in backends { b.start() }
        defer { for b in backends { b.stop() } }
        let answers = Shared<[Answer]>([])
        let done = DispatchGroup()
        let errors = runTogether(8) { t in
            for i in 0..<25 {
                let c = best(trip, 2, together: true)
                done.enter()
                backends[(t + i) % 2].execute(c, session: t) { o in
                    answers.update { $0.append(Answer(command: c, outcome: o)) }
                    done.leave()
                }
            }
        }
        #expect(errors == [])
        #expect(done.wait(timeout: .now() + 120) == .success)
        #expect(answers.value.count == 200)
        let reserved = try checkStampede(trip, answers.value)
        #expect((20...40).contains(reserved), "\(reserved) pairs")
    }
}
