import Foundation
import SeatcastCore
import SeatcastTesting
import Testing

/// Best-available reserves (`count`, `together`) stampeding one trip through two real
/// `seatcast serve` processes on one database (issue 11).
@Suite(.serialized, .timeLimit(.minutes(3)))
struct BestAvailableMultiInstanceTests {
    /// Row and column of a seat of a trip with at most 26 columns ("12B" is row 12, column 2).
    private func position(_ seat: String) -> (row: Int, col: Int)? {
        guard let letter = seat.last?.asciiValue, letter >= 65, letter <= 90, let row = Int(seat.dropLast()) else { return nil }
        return (row, Int(letter) - 64)
    }

    /// 200 requests for two seats together (100 through each instance) and a few single-seat
    /// reserves (by count and by name), all sent at once on a 20x4 trip: every pair is two
    /// adjacent seats of one row, no seat is given twice, the database holds each seat under
    /// the hold that got it and nothing else, and no row is left with two adjacent available
    /// seats while pair requests were refused.
    @Test func pairStampedeOverTwoInstances() throws {
        let start = Date()
        let db = TestDatabase.shared
        let trip = try db.createTrip(rows: 20, cols: 4)
        let a = try ServerProcess(databaseURL: db.url)
        let b = try ServerProcess(databaseURL: db.url)
        let followers = [try a.follower(trip, name: "A"), try b.follower(trip, name: "B")]

        let pairs = 200
        // The single-seat requests: by count, and by name (seats pairs would want).
        let singles: [String?] = [nil, nil, nil, "5B", "9C", "14B"]
        var clients: [WSClient] = []
        for i in 0..<(pairs + singles.count) { clients.append(try (i % 2 == 0 ? a : b).client()) }
        let failed = sendTogether(clients) { i in
            if i < pairs { return #"{"type":"reserve","tripId":"\#(trip)","count":2,"together":true,"id":"p\#(i)"}"# }
            if let seat = singles[i - pairs] { return reserveJSON(trip, [seat], id: "p\(i)") }
            return #"{"type":"reserve","tripId":"\#(trip)","count":1,"id":"p\#(i)"}"#
        }
        #expect(failed.isEmpty, "\(failed)")

        var given: [String: Int] = [:]          // seat -> the request that got it
        var holds: [(hold: String, seats: [String])] = []
        var pairsReserved = 0, pairsRefused = 0, singlesReserved = 0
        for (i, c) in clients.enumerated() {
            let r = try c.reply(id: "p\(i)", timeout: 60)
            let seats = r["seats"]?.strings ?? []
            let isPair = i < pairs
            switch (r.type, r["reason"]?.stringValue) {
            case ("reserved", _):
                if isPair {
                    pairsReserved += 1
                    let p = seats.compactMap(position)
                    #expect(p.count == 2 && p[0].row == p[1].row && p[1].col == p[0].col + 1,
                            "request \(i): not two adjacent seats of one row: \(r.compact)")
                } else {
                    singlesReserved += 1
                    #expect(seats.count == 1, "request \(i): \(r.compact)")
                    if let named = singles[i - pairs] { #expect(seats == [named], "request \(i): \(r.compact)") }
                }
                for s in seats {
                    if let other = given[s] { Issue.record("\(s) given to requests \(other) and \(i)") }
                    given[s] = i
                }
                let hold = try #require(r["hold"]?.stringValue, "request \(i): no hold in \(r.compact)")
                holds.append((hold, seats))
            case ("rejected", "not_enough_seats") where isPair || singles[i - pairs] == nil:
                #expect(seats.isEmpty, "request \(i): \(r.compact)")
                if isPair { pairsRefused += 1 }
            case ("rejected", "seat_taken") where !isPair && singles[i - pairs] != nil:
                break
            default:
                Issue.record("request \(i) (instance \(i % 2 == 0 ? "A" : "B")): unexpected reply \(r.compact)")
            }
        }
        #expect(pairsReserved + pairsRefused == pairs)
        #expect(pairsRefused > 0, "80 seats cannot hold 200 pairs")
        print("BestAvailableMultiInstanceTests: \(pairsReserved) pairs and \(singlesReserved) single seats reserved, \(pairsRefused) pairs refused")

        // The database agrees: each reserved seat is held by the hold that got it, and no other seat is held.
        for h in holds {
            let rows = try db.sql("""
                SELECT seat_no FROM seats
                WHERE trip_id = $1 AND status = 'held' AND hold_hash = sha256(convert_to($2, 'UTF8')) ORDER BY seat_no
                """, [trip, h.hold])
            let held = (0..<rows.rowCount).compactMap { rows.string($0, 0) }
            #expect(held == h.seats.sorted(), "hold of \(h.seats): database holds \(held)")
        }
        let snap = try db.snapshot(trip)
        let notAvailable = Set(snap.seats.filter { $0.status != .available }.map(\.seatNo))
        #expect(notAvailable == Set(given.keys), "database: \(notAvailable.sorted()), replies: \(given.keys.sorted())")

        // Pairs were refused, so no row may still have two adjacent available seats.
        let available = Set(snap.seats.filter { $0.status == .available }.map { "\($0.row)-\($0.col)" })
        for seat in snap.seats where seat.status == .available && available.contains("\(seat.row)-\(seat.col + 1)") {
            Issue.record("\(seat.seatNo) and the seat to its right are both still available after \(pairsRefused) refused pairs")
        }

        // Both instances' subscribers hold the database's map.
        for f in followers {
            try f.catchUp(to: snap.seq, timeout: 30)
            #expect(f.differences(from: snap).isEmpty, "\(f.name): \(f.differences(from: snap).prefix(6))")
            #expect(f.duplicates.isEmpty && f.errors.isEmpty, "\(f.name): \(f.duplicates.map(\.compact)) \(f.errors.map(\.compact))")
        }
        for c in clients { c.close() }
        for s in [a, b] {
            let status = try s.terminate()
            #expect(status == 0, "exit \(status): \(s.log)")
        }
        print("BestAvailableMultiInstanceTests.pairStampedeOverTwoInstances: \(durationText(since: start))")
    }
}
