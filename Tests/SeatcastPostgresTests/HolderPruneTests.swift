import Foundation
import SeatcastCore
@testable import SeatcastPostgres
import SeatcastTesting
import Testing

// Owns: the pruning of seat_holders rows (one per buyer that ever reserved under a quota)
// and the quota's exactness while rows are pruned under it.

@Suite("Holder rows are pruned", .serialized, .timeLimit(.minutes(3)))
struct HolderPruneTests {
    /// `apply` with a scope, run again after a deadlock or serialization failure.
    private func applyRetrying(_ db: PGConnection, _ c: Command, _ scope: HoldScope) throws -> CommandOutcome {
        var attempt = 0
        while true {
            do {
                return try apply(db, c, scope)
            } catch {
                attempt += 1
                if error.isRetryable && attempt < 50 { continue }
                throw error
            }
        }
    }

    private func holderRows(_ db: PGConnection, _ holders: [String]) throws -> Set<String> {
        let r = try db.exec("SELECT holder FROM seat_holders WHERE holder = ANY ($1::text[])",
                            ["{" + holders.joined(separator: ",") + "}"])
        return Set((0..<r.rowCount).compactMap { r.string($0, 0) })
    }

    /// seatcast_prune_holders forgets the rows of buyers that hold nothing and keeps those
    /// of buyers that hold seats. A row another transaction has locked (a buyer's reserve in
    /// flight) is skipped without waiting for it. A forgotten buyer's next reserve makes its
    /// row again and is still held to its quota.
    @Test func forgetsHoldersThatHoldNothing() throws {
        let db = try TestDatabase.shared.connect()
        let trip = try TestDatabase.shared.createTrip()
        let gone = newHolder("gone"), keeps = newHolder("keeps"), busy = newHolder("busy")
        let goneHold = newHold()
        #expect(reservedUntil(try apply(db, .reserve(tripId: trip, seats: ["1A"], hold: goneHold), buyer(gone, max: 1))) != nil)
        #expect(try apply(db, .release(tripId: trip, seats: nil, hold: goneHold), buyer(gone, max: 1)) == .released(seats: ["1A"]))
        #expect(reservedUntil(try apply(db, .reserve(tripId: trip, seats: ["1B"], hold: newHold()), buyer(keeps, max: 1))) != nil)
        #expect(reservedUntil(try apply(db, .reserve(tripId: trip, seats: ["1C"], hold: newHold()), buyer(busy, max: 1))) != nil)
        _ = try apply(db, .releaseSeats(tripId: trip, seats: ["1C"]))
        #expect(try holderRows(db, [gone, keeps, busy]) == [gone, keeps, busy])

        // `busy` holds nothing, but a transaction of its own has its row locked.
        let other = try TestDatabase.shared.connect()
        try other.exec("BEGIN")
        try other.exec("SELECT 1 FROM seat_holders WHERE holder = $1 FOR UPDATE", [busy])
        try db.exec("SET statement_timeout = '5s'")
        let pruned = try db.exec("SELECT seatcast_prune_holders(1000000)").int(0, 0) ?? -1
        #expect(pruned >= 1)
        #expect(try holderRows(db, [gone, keeps, busy]) == [keeps, busy])
        try other.exec("COMMIT")
        _ = try db.exec("SELECT seatcast_prune_holders(1000000)")
        #expect(try holderRows(db, [gone, keeps, busy]) == [keeps])

        // `gone` comes back: a row again, and the quota still counts.
        #expect(reservedUntil(try apply(db, .reserve(tripId: trip, seats: ["2A"], hold: newHold()), buyer(gone, max: 1))) != nil)
        #expect(try apply(db, .reserve(tripId: trip, seats: ["2B"], hold: newHold()), buyer(gone, max: 1)) == .overQuota(seats: ["2B"], limit: 1))
        #expect(try holderRows(db, [gone]) == [gone])
        #expect(try heldBy(db, gone) == 1)
    }

    /// A prune reads the rows it forgets, not the table: with 100,000 forgettable rows, a
    /// prune of 10,000 reads each of those about twice (finding, then deleting them). (As `DELETE ... WHERE holder
    /// IN (subquery)` it read the whole table after locking its rows: 85-140 ms with a
    /// million rows, every buyer it had locked waiting.) In a database of its own, so no
    /// other prune's reads are counted.
    @Test func aPruneReadsWhatItForgets() throws {
        try withScratchDatabase { url in
            let db = try PGConnection(url)
            _ = try Migrator.run(db)
            try db.exec("INSERT INTO seat_holders SELECT 'idle-' || g FROM generate_series(1, 100000) g")
            try db.exec("ANALYZE seat_holders")
            func tuplesRead() throws -> Int {
                let r = try flushedStatistics(db, "SELECT seq_tup_read + coalesce(idx_tup_fetch, 0) FROM pg_stat_user_tables WHERE relname = 'seat_holders'")
                return r.int(0, 0) ?? -1
            }
            let before = try tuplesRead()
            #expect(try db.exec("SELECT seatcast_prune_holders(10000)").int(0, 0) == 10_000)
            let read = try tuplesRead() - before
            #expect(read < 40_000, "\(read) rows of seat_holders read to forget 10,000 of 100,000")
            #expect(try db.exec("SELECT count(*) FROM seat_holders").int(0, 0) == 90_000)
        }
    }

    /// The writer's periodic prune (seatcast_prune) forgets holder rows too.
    @Test func thePeriodicPruneForgetsThem() throws {
        let db = try TestDatabase.shared.connect()
        let trip = try TestDatabase.shared.createTrip()
        let sub = newHolder("periodic"), hold = newHold()
        #expect(reservedUntil(try apply(db, .reserve(tripId: trip, seats: ["1A"], hold: hold), buyer(sub, max: 3))) != nil)
        #expect(try apply(db, .release(tripId: trip, seats: nil, hold: hold), buyer(sub, max: 3)) == .released(seats: ["1A"]))
        #expect(try holderRows(db, [sub]) == [sub])
        // Other suites' holders may be pruned first (at most 10,000 rows a call).
        for _ in 0..<20 where try holderRows(db, [sub]) == [sub] {
            _ = try db.exec("SELECT seatcast_prune(1000000000, interval '100 years')")
        }
        #expect(try holderRows(db, [sub]) == [])
    }

    /// One buyer, quota 1, 20 transactions on 20 connections reserving distinct seats at
    /// once, 30 rounds, while another connection prunes holder rows as fast as it can (the
    /// buyer holds nothing at the start of each round, so its row is always prunable then),
    /// holding the buyer's row locked 2 ms before deleting it, as a prune of a big table
    /// does: in every round exactly one reserve wins and the buyer never holds two seats.
    /// (With the row locked by `INSERT ... ON CONFLICT DO NOTHING` then `SELECT ... FOR
    /// UPDATE`, a reserve whose SELECT waited for the prune found no row, locked nothing,
    /// and a second reserve won beside it.)
    @Test func quotaStaysExactWhileRowsArePruned() throws {
        let racers = 20, rounds = 30
        let trip = try TestDatabase.shared.createTrip(rows: 10, cols: 4)
        let seats = seatNames(rows: 10, cols: 4)
        let sub = newHolder("pruned")
        let running = Shared<Bool>(true)
        let prunes = Shared<Int>(0)
        let stopped = DispatchSemaphore(value: 0)
        Thread {
            if let pruner = try? TestDatabase.shared.connect() {
                while running.value {
                    // The product's prune, then the same deletion of this buyer's row as a
                    // prune of a big table makes it: its rows locked first (SKIP LOCKED),
                    // deleted a while later in the same statement.
                    guard (try? pruner.exec("SELECT seatcast_prune_holders(1000)")) != nil,
                          (try? pruner.exec("""
                              WITH locked AS (
                                SELECT h.holder FROM seat_holders h
                                 WHERE h.holder = $1
                                   AND NOT EXISTS (SELECT 1 FROM seats s WHERE s.hold_owner = h.holder AND s.status = 'held')
                                   FOR UPDATE SKIP LOCKED),
                              slow AS (SELECT pg_sleep(0.002) FROM locked)
                              DELETE FROM seat_holders d USING locked, slow WHERE d.holder = locked.holder
                              """, [sub])) != nil
                    else { break }
                    prunes.update { $0 += 1 }
                }
            }
            stopped.signal()
        }.start()
        defer { running.update { $0 = false } }
        let connections = Connections(try (0..<racers).map { _ in try TestDatabase.shared.connect() })
        let db = try TestDatabase.shared.connect()
        for round in 0..<rounds {
            let outcomes = Shared<[CommandOutcome]>([])
            let errors = runTogether(racers) { i in
                let o = try applyRetrying(connections.all[i], .reserve(tripId: trip, seats: [seats[i]], hold: newHold()), buyer(sub, max: 1))
                outcomes.update { $0.append(o) }
            }
            #expect(errors == [], "round \(round)")
            let won = outcomes.value.filter { reservedUntil($0) != nil }.count
            #expect(won == 1, "round \(round): \(won) reserves won against a quota of 1")
            #expect(try heldBy(db, sub) == 1, "round \(round)")
            _ = try apply(db, .releaseSeats(tripId: trip, seats: Array(seats.prefix(racers))))
            if won != 1 { break }
        }
        running.update { $0 = false }
        #expect(stopped.wait(timeout: .now() + 10) == .success)
        #expect(prunes.value > rounds)
    }
}

/// Connections each of which one racer thread uses at a time (runTogether's threads).
private struct Connections: @unchecked Sendable {
    let all: [PGConnection]
    init(_ all: [PGConnection]) { self.all = all }
}
