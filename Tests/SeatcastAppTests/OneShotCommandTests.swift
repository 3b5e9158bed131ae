import Foundation
import SeatcastCore
import SeatcastTesting
import Testing

/// The one-shot `seatcast reserve --count` and `seatcast extend` commands against a served trip.
@Suite(.timeLimit(.minutes(2)))
struct OneShotCommandTests {
    private func reply(_ r: (status: Int32, out: String, err: String)) throws -> JSON {
        try JSON.parse(r.out.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// `seatcast reserve TRIP --count 2 --together` prints `reserved` with the best pair; `seatcast extend TRIP HOLD 120` prints `extended` and the database holds the seats until the new time; an unknown hold exits 1 with `not_held`; bad argument combinations are refused before connecting.
    @Test func bestAvailableReserveAndExtend() throws {
        try TestServer.withTrip { server, trip in
            let url = "ws://127.0.0.1:\(server.port)"
            let r = try runSeatcast(["reserve", trip, "--count", "2", "--together", "--url", url])
            #expect(r.status == 0, "\(r.out) \(r.err)")
            let reserved = try reply(r)
            #expect(reserved.type == "reserved", "\(reserved.compact)")
            #expect(reserved["seats"]?.strings == ["1B", "1C"], "\(reserved.compact)")
            let hold = try #require(reserved["hold"]?.stringValue)

            let single = try runSeatcast(["reserve", trip, "--count", "1", "--hold", hold, "--url", url])
            #expect(single.status == 0, "\(single.out) \(single.err)")
            #expect(try reply(single)["seats"]?.strings == ["1A"], "\(single.out)")

            let e = try runSeatcast(["extend", trip, hold, "120", "--url", url])
            #expect(e.status == 0, "\(e.out) \(e.err)")
            let extended = try reply(e)
            #expect(extended.type == "extended", "\(extended.compact)")
            #expect(extended["seats"]?.strings.sorted() == ["1A", "1B", "1C"], "\(extended.compact)")
            let until = try #require(extended["until"]?.stringValue.flatMap(ClientMap.parseMs), "\(extended.compact)")
            // The database holds every seat of the hold until the extended time.
            let row = try TestDatabase.shared.sql("""
                SELECT count(*), min(floor(extract(epoch FROM until) * 1000)::bigint)
                FROM seats WHERE trip_id = $1 AND status = 'held' AND hold_hash = sha256(convert_to($2, 'UTF8'))
                """, [trip, hold])
            #expect(row.int(0, 0) == 3)
            #expect(row.string(0, 1) == String(until), "database until \(row.string(0, 1) ?? "nil"), reply \(until)")

            let defaultLength = try runSeatcast(["extend", trip, hold, "--url", url])
            #expect(defaultLength.status == 0, "\(defaultLength.out) \(defaultLength.err)")
            #expect(try reply(defaultLength).type == "extended")

            let unknown = try runSeatcast(["extend", trip, String(repeating: "x", count: 24), "--url", url])
            #expect(unknown.status == 1, "\(unknown.out) \(unknown.err)")
            #expect(try reply(unknown)["reason"]?.stringValue == "not_held", "\(unknown.out)")

            for bad in [["reserve", trip], ["reserve", trip, "3A", "--count", "2"], ["reserve", trip, "3A", "--together"],
                        ["extend", trip, hold, "0"]] {
                let b = try runSeatcast(bad + ["--url", url])
                #expect(b.status != 0 && b.status != 1, "\(bad): exit \(b.status) \(b.out)")
                #expect(b.out.isEmpty, "\(bad) sent a request: \(b.out)")
            }
        }
    }
}
