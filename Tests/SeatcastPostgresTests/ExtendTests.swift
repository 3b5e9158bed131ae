import Foundation
import SeatcastCore
@testable import SeatcastPostgres
import SeatcastTesting
import Testing

/// An extend of `hold` on `trip`.
func extend(_ trip: String, _ hold: String, seconds: Int? = nil) -> Command {
    .extend(tripId: trip, hold: hold, seconds: seconds)
}

/// Runs `commands` in one committed transaction and also returns that transaction's now(),
/// truncated to ms as the store truncates it (ms since the Unix epoch).
func applyAt(_ db: PGConnection, _ commands: [Command], ttl: Int64 = defaultTTL,
             maxHold: Int64 = Schema.defaultMaxHoldMs) throws(PGError) -> (outcomes: [CommandOutcome], nowMs: Int64) {
    let store = SeatStore(db)
    return try db.transaction { () throws(PGError) in
        let out = try store.apply(commands, holdTTLms: ttl, maxHoldMs: maxHold)
        let now = try db.exec("SELECT floor(extract(epoch FROM date_trunc('milliseconds', now())) * 1000)::bigint").int64(0, 0) ?? 0
        return (out, now)
    }
}

/// The `untilMs` of an `extended` outcome, nil for any other outcome.
func extendedUntil(_ o: CommandOutcome) -> Int64? {
    if case let .extended(_, until) = o { return until }
    return nil
}

/// `extend` (docs/PROTOCOL.md 1.1) at the store: new until = now + min(seconds, TTL), never past
/// the hold's start + max hold, broadcast as seat_locked events; the refusals; retries.
@Suite("Extend")
struct ExtendTests {
    /// An extend moves the until of every seat of the hold to now + TTL, answers `extended` with the hold's seats and that until, and writes one seat_locked per seat at the next seqs (what every subscriber's countdown follows); the replay of the outbox is the database.
    @Test func movesUntilAndBroadcasts() throws {
        let db = try TestDatabase.shared.connect()
        let trip = try TestDatabase.shared.createTrip()
        let initial = try TestDatabase.shared.snapshot(trip)
        let h = newHold()
        let old = try #require(reservedUntil(try apply(db, .reserve(tripId: trip, seats: ["2B", "1A"], hold: h), ttl: 60_000)))
        let (out, now) = try applyAt(db, [extend(trip, h)])
        #expect(out == [.extended(seats: ["1A", "2B"], untilMs: now + defaultTTL)])
        #expect(now + defaultTTL > old)
        #expect(try allEvents(db, trip).dropFirst(2) == [
            TripEvent(tripId: trip, seq: 3, seatNo: "1A", kind: .locked, untilMs: now + defaultTTL),
            TripEvent(tripId: trip, seq: 4, seatNo: "2B", kind: .locked, untilMs: now + defaultTTL),
        ])
        #expect(try seatRow(db, trip, "1A").untilMs == now + defaultTTL)
        #expect(try lastSeq(db, trip) == 4)
        #expect(replay(initial, try allEvents(db, trip)).snapshot == (try TestDatabase.shared.snapshot(trip)))
        #expect(try db.exec("SELECT count(*) FROM seatcast_audit($1)", [trip]).int(0, 0) == 0)
    }

    /// `seconds` asks for less than the TTL (now + seconds), more than the TTL gets the TTL; an extend never shortens a hold: asking for less than is left answers `extended` with the until as it is, and writes nothing.
    @Test func secondsAreCappedByTheTTLAndNeverShorten() throws {
        let db = try TestDatabase.shared.connect()
        let trip = try TestDatabase.shared.createTrip()
        let h = newHold()
        _ = try apply(db, .reserve(tripId: trip, seats: ["3C"], hold: h), ttl: 20_000)
        let (a, now1) = try applyAt(db, [extend(trip, h, seconds: 30)], ttl: 60_000)
        #expect(a == [.extended(seats: ["3C"], untilMs: now1 + 30_000)])
        let (b, now2) = try applyAt(db, [extend(trip, h, seconds: 3600)], ttl: 60_000)
        #expect(b == [.extended(seats: ["3C"], untilMs: now2 + 60_000)])
        let last = try lastSeq(db, trip)
        #expect(try apply(db, extend(trip, h, seconds: 5), ttl: 60_000) == .extended(seats: ["3C"], untilMs: now2 + 60_000))
        #expect(try lastSeq(db, trip) == last)
    }

    /// A retry of the same extend lands one TTL after its own now, not one TTL after the first extend's until: twice is no further than once.
    @Test func retryDoesNotExtendTwice() throws {
        let db = try TestDatabase.shared.connect()
        let trip = try TestDatabase.shared.createTrip()
        let h = newHold()
        _ = try apply(db, .reserve(tripId: trip, seats: ["1A", "1B"], hold: h), ttl: 30_000)
        let (first, now1) = try applyAt(db, [extend(trip, h, seconds: 60)])
        let (again, now2) = try applyAt(db, [extend(trip, h, seconds: 60)])
        #expect(first == [.extended(seats: ["1A", "1B"], untilMs: now1 + 60_000)])
        #expect(again == [.extended(seats: ["1A", "1B"], untilMs: now2 + 60_000)])
        // In one transaction (the same now), the retry changes nothing at all.
        let (both, now3) = try applyAt(db, [extend(trip, h, seconds: 60), extend(trip, h, seconds: 60)])
        #expect(both == Array(repeating: .extended(seats: ["1A", "1B"], untilMs: now3 + 60_000), count: 2))
        // Events only where an extend moved the until (two transactions may share a millisecond).
        var expected: [Int64] = [now1, now1]
        for (earlier, now) in [(now1, now2), (now2, now3)] where now > earlier { expected += [now, now] }
        #expect(try allEvents(db, trip).filter { $0.seq > 2 }.map(\.untilMs) == expected.map { $0 + 60_000 })
    }

    /// The cap: the hold's start (held_at) + max hold. An extend that reaches it stops there (`extended` with the cap); the next is `rejected`/`extend_limit` with the hold's seats and writes nothing. With the default 900 s (the hold made "850 s ago" by hand) and with a configured max hold.
    @Test func capIsHonoured() throws {
        let db = try TestDatabase.shared.connect()
        let trip = try TestDatabase.shared.createTrip()
        let h = newHold()
        let until = try #require(reservedUntil(try apply(db, .reserve(tripId: trip, seats: ["1A", "1B"], hold: h), ttl: 40_000)))
        let start = until - 40_000
        try db.exec("UPDATE seats SET held_at = held_at - interval '850 seconds' WHERE trip_id = $1", [trip])
        #expect(try apply(db, extend(trip, h)) == .extended(seats: ["1A", "1B"], untilMs: start + 50_000))
        let last = try lastSeq(db, trip)
        #expect(try apply(db, extend(trip, h)) == .rejected(.extendLimit, seats: ["1A", "1B"]))
        #expect(try apply(db, extend(trip, h, seconds: 1)) == .rejected(.extendLimit, seats: ["1A", "1B"]))
        #expect(try lastSeq(db, trip) == last)

        // --max-hold 30: a hold made with a 20 s TTL can be extended to 30 s after it began.
        let k = newHold()
        let u = try #require(reservedUntil(try apply(db, .reserve(tripId: trip, seats: ["4D"], hold: k), ttl: 20_000)))
        let (out, _) = try applyAt(db, [extend(trip, k)], maxHold: 30_000)
        #expect(out == [.extended(seats: ["4D"], untilMs: u - 20_000 + 30_000)])
        #expect(try applyAt(db, [extend(trip, k)], maxHold: 30_000).outcomes == [.rejected(.extendLimit, seats: ["4D"])])
        // A max hold shorter than the TTL: a fresh hold is already at the cap.
        let m = newHold()
        _ = try apply(db, .reserve(tripId: trip, seats: ["4C"], hold: m))
        #expect(try applyAt(db, [extend(trip, m)], maxHold: 60_000).outcomes == [.rejected(.extendLimit, seats: ["4C"])])
    }

    /// A hold made before held_at existed (NULL) counts from until - TTL.
    @Test func holdWithoutStartCountsFromUntilMinusTTL() throws {
        let db = try TestDatabase.shared.connect()
        let trip = try TestDatabase.shared.createTrip()
        let h = newHold()
        _ = try apply(db, .reserve(tripId: trip, seats: ["2A"], hold: h))
        try db.exec("UPDATE seats SET held_at = NULL, until = date_trunc('milliseconds', now()) + interval '30 seconds' WHERE trip_id = $1 AND seat_no = '2A'", [trip])
        let until = try #require(try seatRow(db, trip, "2A").untilMs)
        // Start = until - 60 s; max hold 70 s: the cap is until + 10 s.
        #expect(try applyAt(db, [extend(trip, h)], ttl: 60_000, maxHold: 70_000).outcomes == [.extended(seats: ["2A"], untilMs: until + 10_000)])
    }

    /// Refusals, none of which changes anything: an expired hold (still held, or released by the sweep) is `hold_expired`; another buyer's hold, a hold that was never made or whose seats were released or booked is `not_held`; an unknown trip is `unknown_trip`. (On the quiet database, which no test server sweeps: elsewhere another server's sweep may hold the expired seat's row, uncommitted, when this test's own sweep passes it over.)
    @Test func refusals() throws {
        let db = try TestDatabase.quiet.connect()
        let trip = try TestDatabase.quiet.createTrip()
        let gone = newHold("gone"), mine = newHold("mine"), released = newHold("released"), booked = newHold("booked")
        _ = try apply(db, [
            .reserve(tripId: trip, seats: ["1A"], hold: gone), .reserve(tripId: trip, seats: ["1B"], hold: mine),
            .reserve(tripId: trip, seats: ["1C"], hold: released), .reserve(tripId: trip, seats: ["1D"], hold: booked),
        ])
        _ = try apply(db, [.release(tripId: trip, seats: nil, hold: released), .confirm(tripId: trip, seats: nil, hold: booked)])
        try db.exec("UPDATE seats SET until = now() - interval '1 second' WHERE trip_id = $1 AND seat_no = '1A'", [trip])
        let last = try lastSeq(db, trip)
        let versions = try ["1B", "1C", "1D"].map { try seatRow(db, trip, $0) }
        #expect(try apply(db, extend(trip, gone)) == .rejected(.holdExpired, seats: []))
        #expect(try apply(db, extend(trip, newHold("stranger"))) == .rejected(.notHeld, seats: []))
        #expect(try apply(db, extend(trip, released)) == .rejected(.notHeld, seats: []))
        #expect(try apply(db, extend(trip, booked)) == .rejected(.notHeld, seats: []))
        #expect(failureCode(try apply(db, extend("no-such-trip", mine))) == .unknownTrip)
        #expect(try ["1B", "1C", "1D"].map { try seatRow(db, trip, $0) } == versions)
        func onlyExpiry() throws -> Bool {
            try SeatStore(db).events(tripId: trip, afterSeq: last).allSatisfy { $0.seatNo == "1A" && $0.reason == "expired" }
        }
        #expect(try onlyExpiry())
        _ = try db.exec("SELECT seatcast_expire(1000)")
        #expect(try seatRow(db, trip, "1A").status == "available")
        #expect(try apply(db, extend(trip, gone)) == .rejected(.holdExpired, seats: []))
        #expect(try onlyExpiry())
        // Another trip's hold of the same token is not this trip's.
        let elsewhere = try TestDatabase.quiet.createTrip()
        #expect(try apply(db, extend(elsewhere, mine)) == .rejected(.notHeld, seats: []))
    }

    /// A hold with a seat that ran out and a live one extends the live one only (the expired seat is left to the sweep).
    @Test func onlyLiveSeatsAreExtended() throws {
        let db = try TestDatabase.shared.connect()
        let trip = try TestDatabase.shared.createTrip()
        let h = newHold()
        _ = try apply(db, .reserve(tripId: trip, seats: ["5A", "5B"], hold: h))
        try db.exec("UPDATE seats SET until = now() - interval '1 second' WHERE trip_id = $1 AND seat_no = '5A'", [trip])
        let (out, now) = try applyAt(db, [extend(trip, h)])
        #expect(out == [.extended(seats: ["5B"], untilMs: now + defaultTTL)])
        let a = try seatRow(db, trip, "5A") // left as it was, or released by a sweep meanwhile
        #expect(a.status == "available" || (a.untilMs ?? .max) < now)
    }

    /// Through a PostgresBackend (the writer's batches): its max hold (80 s here) is the cap. A hold made at s with its 60 s TTL, moved by hand to have begun at s - 30 s and to end at s + 30 s, is extended to s + 50 s (its start + 80 s; with the default 900 s it would be now + 60 s), and the next extend is `extend_limit`.
    @Test func throughTheBackendWithItsMaxHold() throws {
        let trip = try TestDatabase.shared.createTrip()
        var config = PostgresBackend.Config(url: TestDatabase.shared.url, holdTTLSeconds: 60)
        config.maxHoldSeconds = 80
        let backend = PostgresBackend(config)
        backend.start()
        defer { backend.stop() }
        func run(_ c: Command) throws -> CommandOutcome {
            let answer = Shared<CommandOutcome?>(nil)
            let done = DispatchSemaphore(value: 0)
            backend.execute(c, session: 1) { o in
                answer.update { $0 = o }
                done.signal()
            }
            guard done.wait(timeout: .now() + 30) == .success, let o = answer.value else { throw TestFailure("no answer") }
            return o
        }
        let h = newHold()
        let start = try #require(reservedUntil(try run(.reserve(tripId: trip, seats: ["1A"], hold: h)))) - 60_000
        try TestDatabase.shared.sql("""
            UPDATE seats SET held_at = held_at - interval '30 seconds', until = held_at + interval '30 seconds'
             WHERE trip_id = $1 AND seat_no = '1A'
            """, [trip])
        #expect(try heldAt(TestDatabase.shared.connect(), trip, "1A") == start - 30_000)
        #expect(try run(extend(trip, h)) == .extended(seats: ["1A"], untilMs: start + 50_000))
        #expect(try run(extend(trip, h)) == .rejected(.extendLimit, seats: ["1A"]))
    }
}

/// One at a time: the race below sweeps without pause, and would release the seats the
/// lock-order tests expire by hand before they can lock them.
@Suite("Extend racing the expiry sweep", .serialized, .timeLimit(.minutes(3)))
struct ExtendRaceTests {
    /// The sweep locks the expired seat first: an extend whose transaction began while the hold still ran waits for that lock, then finds the seat released and answers `hold_expired`; nothing is extended: after the reserve, the history is the hand-made change of until and the expiry. (The hold is made to run out inside the sweep's own transaction, so no other test's sweep can release it first.)
    @Test func sweepFirstExtendFindsItExpired() throws {
        let db = try TestDatabase.shared.connect()
        let trip = try TestDatabase.shared.createTrip()
        let h = newHold()
        _ = try apply(db, .reserve(tripId: trip, seats: ["1A"], hold: h))
        let extender = try ConnectionThread()
        // The extend's transaction begins; the hold runs out one microsecond after its now().
        let began = try extender.run { db in
            try db.exec("BEGIN")
            return try db.exec("SELECT now()::text").string(0, 0) ?? ""
        }
        let before = try lastSeq(db, trip) // the reserve
        let sweeper = try TestDatabase.shared.connect()
        try sweeper.exec("BEGIN")
        try sweeper.exec("UPDATE seats SET until = $2::timestamptz + interval '1 microsecond' WHERE trip_id = $1 AND seat_no = '1A'", [trip, began])
        #expect(try sweeper.exec("SELECT seatcast_expire(1000)").int(0, 0)! >= 1)
        #expect(try sweeper.exec("SELECT status FROM seats WHERE trip_id = $1 AND seat_no = '1A'", [trip]).string(0, 0) == "available")
        let answer = extender.submit { db in try SeatStore(db).apply([extend(trip, h)], holdTTLms: defaultTTL) }
        #expect(try extender.waitsOnLock(answer))
        try sweeper.exec("COMMIT")
        #expect(try answer.wait() == [.rejected(.holdExpired, seats: [])])
        try extender.run { db in _ = try db.exec("COMMIT") }
        #expect(try SeatStore(db).events(tripId: trip, afterSeq: before).map { "\($0.kind) \($0.reason ?? "")" } == ["locked ", "released expired"])
        #expect(try seatRow(db, trip, "1A").status == "available")
    }

    /// The extend locks the seat first (its transaction began before the hold ran out): the sweep passes the locked seat over (SKIP LOCKED), and after the extend commits the seat is held with the new until, which the next sweep leaves alone: the one event after is the extend's seat_locked. (Between the hand-made expiry and the extend's lock, another test's sweep may release the seat; then the extend rightly answers hold_expired and the round is run again on the next seat.)
    @Test func extendFirstSweepPassesOver() throws {
        let db = try TestDatabase.shared.connect()
        let trip = try TestDatabase.shared.createTrip()
        for seat in ["1A", "1B", "1C", "1D", "2A"] {
            let h = newHold()
            _ = try apply(db, .reserve(tripId: trip, seats: [seat], hold: h))
            let extender = try ConnectionThread()
            let began = try extender.run { db in
                try db.exec("BEGIN")
                return try db.exec("SELECT now()::text").string(0, 0) ?? ""
            }
            try db.exec("UPDATE seats SET until = $3::timestamptz + interval '1 microsecond' WHERE trip_id = $1 AND seat_no = $2",
                        [trip, seat, began])
            let before = try lastSeq(db, trip) // the reserve and the hand-made change of until
            let out = try extender.run { db in try SeatStore(db).apply([extend(trip, h)], holdTTLms: defaultTTL) }
            guard let until = extendedUntil(out[0]) else {
                #expect(out == [.rejected(.holdExpired, seats: [])])
                try extender.run { db in _ = try db.exec("ROLLBACK") }
                continue
            }
            _ = try db.exec("SELECT seatcast_expire(1000)")
            #expect(try seatRow(db, trip, seat).status == "held") // passed over: still held, its hold run out
            try extender.run { db in _ = try db.exec("COMMIT") }
            _ = try db.exec("SELECT seatcast_expire(1000)")
            #expect(try SeatStore(db).events(tripId: trip, afterSeq: before).map { "\($0.kind) \($0.untilMs ?? 0)" } == ["locked \(until)"])
            #expect(try seatRow(db, trip, seat).untilMs == until)
            #expect(try seatRow(db, trip, seat).status == "held")
            return
        }
        Issue.record("every round lost its seat to another sweep")
    }

    /// 200 rounds, each a hold of one seat made with a TTL of 0 to 3 ms; then, at the same moment, its extend on one connection and a sweep on each of two others (two instances' sweepers), so the hold runs out right about when they run. Whatever the interleaving, an extend either answers `extended`, its hold still ran at the extend's now, and its seat's history is exactly (locked, locked at that until) with the seat held at the end; or answers `hold_expired`, its hold had run out at the extend's now or a sweep had released it, and no seat_locked ever follows the reserve's: no seat is released and then extended, no run-out hold is extended.
    @Test func neverResurrects() throws {
        let rows = 50
        let trip = try TestDatabase.shared.createTrip(rows: rows, cols: 4)
        let names = seatNames(rows: rows, cols: 4)
        let db = try TestDatabase.shared.connect()
        let extender = try ConnectionThread(), sweepers = [try ConnectionThread(), try ConnectionThread()]
        var outcomes: [String: (hold: String, outcome: CommandOutcome, nowMs: Int64)] = [:]
        var swept = 0
        for (i, seat) in names.enumerated() {
            let h = newHold("race")
            _ = try apply(db, .reserve(tripId: trip, seats: [seat], hold: h), ttl: Int64(i % 4))
            let e = extender.submit { db in try applyAt(db, [extend(trip, h)], ttl: 60_000) }
            let s = sweepers.map { $0.submit { db in try db.exec("SELECT seatcast_expire(1000)").int(0, 0) ?? 0 } }
            let (o, now) = try e.wait()
            outcomes[seat] = (h, o[0], now)
            swept += try s.map { try $0.wait() }.reduce(0, +)
        }
        _ = try db.exec("SELECT seatcast_expire(1000)")
        let events = try allEvents(db, trip)
        let bySeat = Dictionary(grouping: events, by: \.seatNo)
        var extended = 0, expiredUnswept = 0, expiredSwept = 0, problems: [String] = []
        for (seat, (hold, outcome, now)) in outcomes {
            let history = bySeat[seat] ?? []
            let tail = history.dropFirst()
            if history.first?.kind != .locked { problems.append("\(seat): \(history)") }
            let reserved = history.first?.untilMs ?? 0
            switch outcome {
            case let .extended(seats, until):
                extended += 1
                if seats != [seat] || tail.map(\.kind) != [.locked] || tail.first?.untilMs != until || until <= reserved {
                    problems.append("\(seat) extended to \(until): \(history)")
                }
                // The hold still ran at the extend's now (until > now()).
                if now >= reserved { problems.append("\(seat) extended at \(now), its hold ran out at \(reserved)") }
                if try !isHolder(db, trip, seat, hold) || seatRow(db, trip, seat).untilMs != until { problems.append("\(seat) not held as extended") }
            case .rejected(.holdExpired, []):
                if tail.contains(where: { $0.kind == .locked }) { problems.append("\(seat) expired, then locked: \(history)") }
                if tail.map({ "\($0.kind) \($0.reason ?? "")" }) != ["released expired"] { problems.append("\(seat): \(history)") }
                // Either it had run out at the extend's now (then the sweep released it later),
                // or a sweep released it first (the extend waited for its lock).
                if reserved <= now { expiredUnswept += 1 } else { expiredSwept += 1 }
            default:
                problems.append("\(seat): \(outcome)")
            }
        }
        #expect(outcomes.count == names.count)
        #expect(problems == [])
        #expect(events.map(\.seq) == Array(1...Int64(events.count)))
        #expect(try db.exec("SELECT count(*) FROM seatcast_audit($1)", [trip]).int(0, 0) == 0)
        print("ExtendRaceTests: \(extended) extended, \(expiredUnswept) hold_expired (run out at the extend's now), \(expiredSwept) hold_expired (released by a sweep first), \(swept) released by the racing sweeps")
    }
}
