import Foundation
import SeatcastCore
import SeatcastTesting
import Testing

/// docs/PROTOCOL.md "Compact snapshot" and ARCHITECTURE.md "Send path and slow clients" end to
/// end: the snapshot that resyncs a slow client has the form the client subscribed with.
/// Two subscribers of one trip, one compact and one not, stop reading until both queues
/// overflow (as in SlowClientTests), then read again: the compact one's resync snapshot is
/// compact, the other's is full, and each converges to the database.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct CompactResyncTests {
    @Test func resyncSnapshotKeepsTheSubscribedForm() throws {
        let db = TestDatabase.shared
        let rows = 12, cols = 4
        try TestServer.withTrip(rows: rows, cols: cols, configure: { $0.limits.maxQueuedBytes = 256 * 1024 }) { server, trip in
            // Both with a 2 KB receive buffer so they push back soon; neither reads from here on.
            let compact = try server.client(receiveBuffer: 2048)
            try compact.send(#"{"type":"subscribe","tripId":"\#(trip)","compact":true}"#)
            let compactFirst = try compact.next(type: "snapshot")
            #expect(isCompact(compactFirst, cells: rows * cols), "initial snapshot: \(compactFirst.text.prefix(200))")
            var compactMap = try ClientMap(snapshot: compactFirst)

            let full = try server.client("/ws/trips/\(trip)", receiveBuffer: 2048)
            let fullFirst = try full.next(type: "snapshot")
            #expect(isFull(fullFirst, seats: rows * cols))
            var fullMap = try ClientMap(snapshot: fullFirst)
            #expect(compactMap.seq == fullMap.seq)

            // Rounds of events until both queues have overflowed, then one round more.
            let producer = try EventProducer(trip, readers: [], start: fullMap.seq)
            try producer.rounds { try server.metric("seatcast_queue_overflows_total") >= 2 }
            let target = producer.seq

            // Reading again: every snapshot after the initial one is a resync, in the client's form.
            let compactResyncs = try readUntil(target, compact, &compactMap) { s in
                #expect(isCompact(s, cells: rows * cols), "compact client's resync snapshot: \(s.text.prefix(200))")
            }
            let fullResyncs = try readUntil(target, full, &fullMap) { s in
                #expect(isFull(s, seats: rows * cols), "full client's resync snapshot: \(s.text.prefix(200))")
            }
            #expect(compactResyncs >= 1, "the compact client was never resynced")
            #expect(fullResyncs >= 1, "the full client was never resynced")

            // Nothing else is owed to either; both maps equal the database.
            for m in try compact.roundTrip(timeout: 10) { try compactMap.apply(m, skippingStale: true) }
            for m in try full.roundTrip(timeout: 10) { try fullMap.apply(m, skippingStale: true) }
            let now = try db.snapshot(trip)
            #expect(now.seq == target)
            #expect(compactMap.differences(from: now).isEmpty, "compact: \(compactMap.differences(from: now).prefix(5))")
            #expect(fullMap.differences(from: now).isEmpty, "full: \(fullMap.differences(from: now).prefix(5))")
            #expect(try server.metric("seatcast_resync_snapshots_total") >= 2)
            #expect(try server.metric("seatcast_slow_clients_closed_total") == 0)
        }
    }
}

/// A compact snapshot: `"compact":true`, a status string of one character per cell, no seats array.
private func isCompact(_ j: JSON, cells: Int) -> Bool {
    j.type == "snapshot" && j["compact"] == .bool(true) && j["status"]?.stringValue?.count == cells && j["seats"] == nil
}

/// A full snapshot: a seats array, not marked compact.
private func isFull(_ j: JSON, seats: Int) -> Bool {
    j.type == "snapshot" && j["compact"] != .bool(true) && j["seats"]?.arrayValue?.count == seats
}

/// Reads `c` until its map reaches `target`: events still in flight, then the resync
/// snapshot (handed to `check`), then the events after it. A stale event is skipped, any
/// other gap throws. Returns how many snapshots arrived.
private func readUntil(_ target: Int64, _ c: WSClient, _ map: inout ClientMap, check: (JSON) -> Void) throws -> Int {
    var snapshots = 0
    while map.seq < target {
        let m = try c.next(timeout: 10)
        switch try map.receive(m) {
        case .snapshot:
            snapshots += 1
            check(m)
        case .applied, .stale, .ignored: continue
        case .gap, .unknownSeat: throw TestFailure("event seq \(m.seq ?? -1) does not follow the map at \(map.seq)")
        }
    }
    return snapshots
}
