import Foundation
import SeatcastCore
@testable import SeatcastPostgres
import SeatcastTesting
import Testing

// Owns: the quota under real concurrency: one buyer's reserves through two
// PostgresBackend instances (two writers, two transactions at once).

@Suite("Hold quota races", .timeLimit(.minutes(3)))
struct QuotaRaceTests {
    /// One buyer, two instances, 50 reserves of distinct seats at once, quota 7: exactly 7 are reserved, 43 rejected:quota; the database never shows more than 7 seats held by the buyer (a checker polls the count while they run); another buyer reserving at the same time through the same instances gets all 7 of its own.
    @Test(arguments: [1, 2, 3])
    func oneBuyerTwoInstances(round: Int) throws {
        let limit = 7, racers = 50, others = 7
        let trip = try TestDatabase.shared.createTrip(rows: 10, cols: 6)
        let seats = seatNames(rows: 10, cols: 6)
        let sub = newHolder("racer"), other = newHolder("other")
        let instances = [SyncBackend(), SyncBackend()]
        defer { for b in instances { b.stop() } }

        let running = Shared<Bool>(true)
        let peak = Shared<(max: Int, polls: Int)>((0, 0))
        let polled = DispatchSemaphore(value: 0)
        Thread {
            if let checker = try? TestDatabase.shared.connect() {
                while running.value {
                    guard let n = try? heldBy(checker, sub) else { break }
                    peak.update { $0 = (max($0.max, n), $0.polls + 1) }
                }
            }
            polled.signal()
        }.start()

        let outcomes = Shared<[Int: CommandOutcome]>([:])
        let errors = runTogether(racers + others) { i in
            let scope = i < racers ? buyer(sub, max: limit) : buyer(other, max: limit)
            let o = try instances[i % 2].run(.reserve(tripId: trip, seats: [seats[i]], hold: newHold()), session: i, scope: scope)
            outcomes.update { $0[i] = o }
        }
        running.update { $0 = false }
        #expect(polled.wait(timeout: .now() + 10) == .success)
        #expect(errors == [])

        let all = outcomes.value
        let mine = (0..<racers).compactMap { all[$0] }
        #expect(mine.count == racers)
        #expect(mine.filter { reservedUntil($0) != nil }.count == limit)
        #expect(mine.filter { if case .overQuota(_, limit) = $0 { true } else { false } }.count == racers - limit)
        #expect((racers..<racers + others).allSatisfy { all[$0].flatMap(reservedUntil) != nil })

        let db = try TestDatabase.shared.connect()
        #expect(try heldBy(db, sub) == limit)
        #expect(try heldBy(db, other) == others)
        #expect(peak.value.max <= limit)
        #expect(peak.value.polls > 0)
        #expect(try db.exec("SELECT count(*) FROM seatcast_audit($1)", [trip]).int(0, 0) == 0)
    }
}
