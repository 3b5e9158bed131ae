import Foundation
import SeatcastCore
import SeatcastPostgres
import SeatcastTesting
import Synchronization
import Testing

/// The hold quota under a race (issue 10): one buyer on several connections of two real
/// `seatcast serve` processes fires many reserves at once; the database is watched while
/// they run.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct QuotaRaceProcessTests {
    /// The quota of both servers (MAX_HELD).
    static let limit = 7

    /// One `sub` (a returning buyer: it has held and released a seat before, so the store
    /// knows it) on 5 connections (3 to one server process, 2 to the other) fires 50
    /// reserves of 50 distinct seats at once (10 per connection, in one write each; all
    /// connections released together), three rounds, each with a fresh trip and sub. A
    /// thread on its own database connection polls how many seats the sub holds until every
    /// reply is in: it never sees more than MAX_HELD = 7. Exactly 7 reserves succeed, the
    /// other 43 are rejected with reason `quota` and limit 7, and the database ends holding
    /// exactly the 7 reserved seats under the sub. Another buyer then reserves 7 more seats
    /// of the trip (its quota is untouched by the racer) and is refused the 8th for quota.
    @Test func fiftyReservesOfOneBuyerOverTwoInstancesNeverPassTheQuota() throws {
        let start = Date()
        let db = TestDatabase.shared
        let env = ["SEATCAST_TOKEN_SECRET": TestTokens.secret, "MAX_HELD": String(Self.limit)]
        let a = try ServerProcess(databaseURL: db.url, environment: env)
        let b = try ServerProcess(databaseURL: db.url, environment: env)
        for round in 1...3 {
            try race(round: round, a, b)
        }
        for s in [a, b] {
            let status = try s.terminate()
            #expect(status == 0, "exit \(status): \(s.log)")
        }
        print("QuotaRaceProcessTests.fiftyReservesOfOneBuyerOverTwoInstancesNeverPassTheQuota: \(durationText(since: start))")
    }

    /// One reply to one reserve of the race.
    private struct Outcome: Sendable {
        let seat: String
        let type: String?
        let reason: String?
        let limit: Int64?
        let seats: [String]
        let text: String
    }

    private func race(round: Int, _ a: ServerProcess, _ b: ServerProcess) throws {
        let db = TestDatabase.shared
        let limit = Self.limit
        let trip = try db.createTrip(rows: 16, cols: 4)                  // 64 seats
        let seatNos = try db.snapshot(trip).seats.map(\.seatNo)
        try #require(seatNos.count == 64)
        let raced = Array(seatNos[0..<50])
        let sub = "racer-\(UInt64.random(in: 0...UInt64.max))"
        let token = TestTokens.token(sub: sub)

        // The buyer has held and released a seat before: the race starts from a store that
        // already knows the sub (its holder row exists), as for any returning buyer, so the
        // race's transactions are ordered by the holder lock alone.
        let warmUp = try a.client(token: token)
        try warmUp.send(reserveJSON(trip, [seatNos[63]], id: "w1"))
        let w = try warmUp.reply(id: "w1", timeout: 10)
        let warmHold = try #require(w["hold"]?.stringValue, "round \(round): warm-up reserve: \(w.compact)")
        try warmUp.send(releaseJSON(trip, hold: warmHold, id: "w2"))
        let wr = try warmUp.reply(id: "w2", timeout: 10)
        #expect(wr.type == "released", "round \(round): warm-up release: \(wr.compact)")
        warmUp.close()

        // Connections 0-2 go to A, 3-4 to B; each sends 10 reserves.
        let ports = [a.port, a.port, a.port, b.port, b.port]
        let perConnection = raced.count / ports.count

        // The checker: its own database connection, polling the sub's live holds.
        let watching = Atomic<Bool>(true)
        let maxSeen = Atomic<Int>(-1)
        let polls = Atomic<Int>(0)
        let checkerError = Mutex<String?>(nil)
        let firstPoll = DispatchSemaphore(value: 0)
        let checkerDone = DispatchSemaphore(value: 0)
        let checker = Thread {
            defer { checkerDone.signal() }
            var signalled = false
            defer { if !signalled { firstPoll.signal() } }
            do {
                let conn = try db.connect()
                repeat {
                    let r = try conn.exec("""
                        SELECT count(*) FROM seats WHERE hold_owner = $1 AND status = 'held' AND until > now()
                        """, [sub])
                    let n = r.int(0, 0) ?? -1
                    maxSeen.max(n, ordering: .relaxed)
                    polls.add(1, ordering: .relaxed)
                    if !signalled {
                        signalled = true
                        firstPoll.signal()
                    }
                } while watching.load(ordering: .acquiring)
            } catch {
                checkerError.withLock { $0 = "\(error)" }
            }
        }
        checker.start()
        // The race starts once the checker has a connection and has seen the sub hold nothing.
        #expect(firstPoll.wait(timeout: .now() + 30) == .success, "round \(round): the checker never polled")

        let outcomes = Mutex<[Outcome]>([])
        let errors = runTogether(ports.count, prepare: { i in
            try WSClient(port: ports[i], path: "/ws?token=\(token)")
        }) { i, client in
            let mine = Array(raced[(i * perConnection)..<((i + 1) * perConnection)])
            try client.send(texts: mine.enumerated().map { k, seat in reserveJSON(trip, [seat], id: "c\(i)r\(k)") })
            for (k, seat) in mine.enumerated() {
                let r = try client.reply(id: "c\(i)r\(k)", timeout: 30)
                let o = Outcome(seat: seat, type: r.type, reason: r["reason"]?.stringValue, limit: r["limit"]?.int64Value,
                                seats: r["seats"]?.strings ?? [], text: "connection \(i) (\(i < 3 ? "A" : "B")): \(r.compact)")
                outcomes.withLock { $0.append(o) }
            }
            client.close()
        }
        watching.store(false, ordering: .releasing)
        #expect(checkerDone.wait(timeout: .now() + 30) == .success, "round \(round): the checker did not stop")
        #expect(errors.isEmpty, "round \(round): \(errors)")
        #expect(checkerError.withLock { $0 } == nil, "round \(round): checker: \(checkerError.withLock { $0 } ?? "")")

        let all = outcomes.withLock { $0 }
        let reserved = all.filter { $0.type == "reserved" }
        let quota = all.filter { $0.type == "rejected" && $0.reason == "quota" }
        for o in all where !(o.type == "reserved" && o.seats == [o.seat])
            && !(o.type == "rejected" && o.reason == "quota" && o.limit == Int64(limit) && o.seats == [o.seat]) {
            Issue.record("round \(round), seat \(o.seat): unexpected reply \(o.text)")
        }
        let held = try db.sql("""
            SELECT seat_no FROM seats WHERE hold_owner = $1 AND status = 'held' AND until > now() ORDER BY seat_no
            """, [sub])
        let heldSeats = (0..<held.rowCount).compactMap { held.string($0, 0) }
        let max = maxSeen.load(ordering: .relaxed)
        print("QuotaRaceProcessTests round \(round): \(all.count) replies, \(reserved.count) reserved, \(quota.count) rejected for quota; "
            + "max held seen \(max) in \(polls.load(ordering: .relaxed)) polls; database holds \(heldSeats.count)")
        #expect(all.count == raced.count, "round \(round)")
        #expect(reserved.count == limit, "round \(round): \(reserved.count) reserved")
        #expect(quota.count == raced.count - limit, "round \(round): \(quota.count) rejected for quota")
        #expect(max <= limit, "round \(round): the checker saw \(sub) hold \(max) seats")
        #expect(heldSeats.count == limit, "round \(round): the database holds \(heldSeats.count) seats for \(sub)")
        #expect(Set(heldSeats) == Set(reserved.map(\.seat)),
                "round \(round): database \(heldSeats), replies \(reserved.map(\.seat).sorted())")

        // Another buyer, through the other process each round: 7 seats, then refused the 8th.
        let other = try (round % 2 == 0 ? a : b).client(token: TestTokens.token(sub: "bystander-\(UInt64.random(in: 0...UInt64.max))"))
        let free = Array(seatNos[50..<58])
        for (k, seat) in free.enumerated() {
            try other.send(reserveJSON(trip, [seat], id: "o\(k)"))
            let r = try other.reply(id: "o\(k)", timeout: 10)
            if k < limit {
                #expect(r.type == "reserved" && r["seats"]?.strings == [seat], "round \(round), bystander seat \(k + 1): \(r.compact)")
            } else {
                #expect(r.type == "rejected" && r["reason"]?.stringValue == "quota" && r["limit"]?.int64Value == Int64(limit)
                        && r["seats"]?.strings == [seat], "round \(round), bystander seat \(k + 1): \(r.compact)")
            }
        }
        other.close()
        let after = try db.sql("""
            SELECT count(*) FILTER (WHERE hold_owner = $2), count(*) FILTER (WHERE hold_owner <> $2)
              FROM seats WHERE trip_id = $1 AND status = 'held' AND until > now()
            """, [trip, sub])
        #expect(after.int(0, 0) == limit && after.int(0, 1) == limit,
                "round \(round): racer holds \(after.int(0, 0) ?? -1), bystander \(after.int(0, 1) ?? -1)")
    }
}
