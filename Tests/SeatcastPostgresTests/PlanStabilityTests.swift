import Foundation
import SeatcastCore
@testable import SeatcastPostgres
import SeatcastTesting
import Testing

// Owns: the store's plans staying keyed lookups when ANALYZE ran with few seats held.
// Autovacuum analyzes `seats` whenever enough rows changed; analyzed at a moment with few
// holds, the statistics said held seats were all but absent, and a plan that scans every
// held seat (a whole partial index on held seats, estimated at one row) once per request
// looked as cheap as a lookup. Measured before the fix (migration 0008 and the key-only
// lookups of seatcast_apply_bulk_*): after a fan-out run's autoanalyze, reserves fell to
// 3,000-7,000/s from about 10,000/s, and a bulk release took 60-110 ms instead of ~9.

@Suite("Plans with stale statistics", .serialized, .timeLimit(.minutes(2)))
struct PlanStabilityTests {
    /// Tuples read from each of the seats table's indexes so far, by name.
    private func indexReads(_ db: PGConnection) throws -> [String: Int] {
        let r = try flushedStatistics(db, "SELECT indexrelname, idx_tup_read FROM pg_stat_user_indexes WHERE relname = 'seats'")
        var out: [String: Int] = [:]
        for i in 0..<r.rowCount { if let n = r.string(i, 0) { out[n] = r.int(i, 1) ?? 0 } }
        return out
    }

    /// A trip of 5,000 seats, analyzed with nothing held; then 4,000 seats held by one
    /// other hold. A batch of 200 single-seat reserves, the same batch again (retries),
    /// one of their 200 releases, and batches of 200 retries and 200 releases of the big
    /// hold's seats (the set-wise paths) read a few index tuples per request: never the
    /// 4,000 held seats, nor the big hold's seats once per request.
    @Test func batchesLookUpSeatsWhateverTheStatisticsSay() throws {
        try withScratchDatabase { url in
            let db = try PGConnection(url)
            _ = try Migrator.run(db)
            _ = try SeatStore(db).createTrip(id: "stale", name: "Stale statistics", rows: 100, cols: 50)
            try db.exec("ANALYZE seats")
            // One hold of 4,000 seats (a backend's, or a buyer's with the quota off).
            let crowdHold = "crowd-hold-0123456789"
            try db.exec("UPDATE seats SET status = 'held', hold_hash = sha256(convert_to($1, 'UTF8')), hold_owner = 'crowd', "
                + "until = now() + interval '1 hour' WHERE trip_id = 'stale' AND row_no > 20", [crowdHold])
            let seats = seatNames(rows: 100, cols: 50).prefix(200)
            let holds = seats.map { _ in newHold() }
            let store = SeatStore(db)
            let reserves = zip(seats, holds).map { Command.reserve(tripId: "stale", seats: [$0], hold: $1) }
            // Each request its own open-mode holder with a quota: the batch counts 200 holders' holds.
            let scopes = (0..<reserves.count).map { openConnection("~stale:\($0)", max: 10) }
            let before = try indexReads(db)
            let reserved = try db.transaction { () throws(PGError) in
                try store.apply(reserves, sessions: Array(0..<reserves.count), scopes: scopes, holdTTLms: defaultTTL)
            }
            #expect(reserved.allSatisfy { reservedUntil($0) != nil })
            // The same batch again: 200 retries, each finding its seat held by its hold.
            let retried = try db.transaction { () throws(PGError) in
                try store.apply(reserves, sessions: Array(0..<reserves.count), scopes: scopes, holdTTLms: defaultTTL)
            }
            #expect(retried == reserved)
            let releases = zip(seats, holds).map { Command.release(tripId: "stale", seats: [$0], hold: $1) }
            let released = try db.transaction { () throws(PGError) in
                try store.apply(releases, sessions: Array(0..<releases.count), scopes: scopes, holdTTLms: defaultTTL)
            }
            #expect(zip(released, seats).allSatisfy { $0 == .released(seats: [$1]) })
            // 200 seats of the big hold: retried one by one in a batch, then released one by
            // one in a batch (each lookup by the seat's key, not through the whole hold).
            let crowd = Array(seatNames(rows: 100, cols: 50).suffix(200))
            let crowdRetries = crowd.map { Command.reserve(tripId: "stale", seats: [$0], hold: crowdHold) }
            let crowdRetried = try db.transaction { () throws(PGError) in
                try store.apply(crowdRetries, sessions: Array(0..<crowd.count), holdTTLms: defaultTTL)
            }
            #expect(crowdRetried.allSatisfy { reservedUntil($0) != nil })
            let crowdReleases = crowd.map { Command.release(tripId: "stale", seats: [$0], hold: crowdHold) }
            let crowdReleased = try db.transaction { () throws(PGError) in
                try store.apply(crowdReleases, sessions: Array(0..<crowd.count), holdTTLms: defaultTTL)
            }
            #expect(zip(crowdReleased, crowd).allSatisfy { $0 == .released(seats: [$1]) })
            // The expiry sweep (none of the 4,000 holds has run out) and the holder prune.
            _ = try db.exec("SELECT seatcast_expire(1000)")
            _ = try db.exec("SELECT seatcast_prune_holders(10000)")
            let after = try indexReads(db)
            for (index, n) in after {
                let read = n - (before[index] ?? 0)
                #expect(read < 5_000, "\(index): \(read) tuples read for 1,000 requests, a sweep and a prune")
            }
        }
    }
}
