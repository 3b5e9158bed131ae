import Foundation
import SeatcastCore
import SeatcastTesting
import Testing

/// docs/PROTOCOL.md semantics 4-6: `subscribe` with `since` replays exactly the missed events
/// (from the ring, the outbox, on any instance, across restarts), or answers with a
/// fresh `snapshot` when it cannot.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct ResumeTests {
    /// A resume to the same server while the trip's ring still holds the missed events gets `subscribed` at S, then exactly S+1...S+k, from the ring.
    @Test func resumeFromRing() throws {
        try TestServer.withTrip { server, trip in
            let (map, worker) = try mapThenMissedEvents(server, trip)
            _ = try worker.next(type: "seat_locked", timeout: 10) { $0.seq == map.seq + Int64(missed.count) }
            // Only the ring can serve this resume now: without the missed events in the outbox,
            // an outbox read finds the history gone and the answer is a snapshot.
            let dropped = try TestDatabase.shared.sql("DELETE FROM seat_events WHERE trip_id = $1 AND seq > $2", [trip, String(map.seq)])
            #expect(dropped.affectedRows == missed.count)

            try expectResume(on: server, from: map, trip: trip, count: missed.count, id: "res1", marker: worker)
        }
    }

    /// A resume to a second, fresh instance (empty ring) replays the missed events from the outbox with the same guarantee.
    @Test func resumeFromOutboxOnAnotherInstance() throws {
        try withMissedEventsAndSecondInstance { b, trip, map, worker in
            try expectResume(on: b, from: map, trip: trip, count: missed.count, id: "res2", marker: worker)
        }
    }

    /// A resume to a second instance that already serves the trip (its ring starts after the missed events) replays them from the outbox.
    @Test func resumeFromOutboxOnInstanceServingTheTrip() throws {
        try withMissedEventsAndSecondInstance { b, trip, map, worker in
            // Loads the trip on b at the current seq: b's ring holds none of the missed events.
            let (other, otherMap) = try b.subscriber(trip)
            _ = other
            #expect(otherMap.seq == map.seq + Int64(missed.count))
            try expectResume(on: b, from: map, trip: trip, count: missed.count, id: "res2b", marker: worker)
        }
    }

    /// After the server is stopped and a new one started, a resume replays the missed events (the epoch lives in the database).
    @Test func resumeAfterRestart() throws {
        let trip = try TestDatabase.shared.createTrip()
        let a = try TestServer()
        var aStopped = false
        defer { if !aStopped { a.stop() } }
        let (map, _) = try mapThenMissedEvents(a, trip)
        a.stop()
        aStopped = true

        let b = try TestServer()
        defer { b.stop() }
        let worker = try b.client()
        try expectResume(on: b, from: map, trip: trip, count: missed.count, id: "res3", marker: worker)
    }

    /// A resume with `since.seq` equal to the trip's current seq gets `subscribed` and no events until the next change.
    @Test func resumeAtCurrentSeq() throws {
        try TestServer.withTrip { server, trip in
            let (old, start) = try server.subscriber(trip)
            var map = start
            let (worker, _) = try server.subscriber(trip)
            try reserveEach(worker, trip, ["2A", "2B"])
            while map.seq < start.seq + 2 { try map.apply(try old.next(timeout: 10)) }
            old.close()

            try expectResume(on: server, from: map, trip: trip, count: 0, id: "res4", marker: worker)
        }
    }

    /// An unknown epoch, a stale epoch (history reset) or a seq from the future each get a fresh `snapshot`, never `subscribed`.
    @Test func unknownOrStaleEpochGetsSnapshot() throws {
        let db = TestDatabase.shared
        try TestServer.withTrip { a, trip in
            let (old, map) = try a.subscriber(trip)
            let (worker, _) = try a.subscriber(trip)
            old.close()
            try reserveEach(worker, trip, ["2A"])
            _ = try worker.next(type: "seat_locked", timeout: 10) { $0.seq == map.seq + 1 }

            // An epoch this trip never had.
            let c1 = try resuming(a, trip, epoch: "no-such-epoch", seq: map.seq, id: "e1")
            try expectFreshSnapshot(c1, trip: trip, epoch: map.map.epoch, seq: map.seq + 1)

            // The right epoch but a seq the trip has not reached.
            let c2 = try resuming(a, trip, epoch: map.map.epoch, seq: map.seq + 100, id: "e2")
            try expectFreshSnapshot(c2, trip: trip, epoch: map.map.epoch, seq: map.seq + 1)

            // History reset: the trip gets a new epoch; an instance that loads it now must not resume the old one.
            try db.sql("UPDATE trips SET epoch = seatcast_new_epoch() WHERE trip_id = $1", [trip])
            let newEpoch = try db.snapshot(trip).epoch
            #expect(newEpoch != map.map.epoch)
            let b = try TestServer()
            defer { b.stop() }
            let (warm, warmMap) = try b.subscriber(trip)
            _ = warm
            #expect(warmMap.map.epoch == newEpoch)
            let c3 = try resuming(b, trip, epoch: map.map.epoch, seq: map.seq, id: "e3")
            try expectFreshSnapshot(c3, trip: trip, epoch: newEpoch, seq: map.seq + 1)

            // None of them got a `subscribed` later either: a marker change arrives with nothing of the kind before it.
            try reserveEach(worker, trip, ["12D"])
            for c in [c1, c2, c3] {
                let got = try c.collect(until: "seat_locked", timeout: 10) { $0.seatNo == "12D" }
                #expect(!got.contains { $0.type == "subscribed" || $0.type == "snapshot" }, "\(got)")
            }
        }
    }

    /// After the outbox was pruned to the last event per trip, a resume from an older seq gets a fresh `snapshot` on a fresh instance.
    @Test func prunedHistoryGetsSnapshot() throws {
        let db = TestDatabase.shared
        try withMissedEventsAndSecondInstance { b, trip, map, _ in
            // What seatcast_prune(1, ...) does, for this trip only (other suites run in parallel).
            try db.sql("DELETE FROM seat_events WHERE trip_id = $1 AND seq < (SELECT last_seq FROM trips WHERE trip_id = $1)", [trip])
            let kept = try db.sql("SELECT min(seq), count(*) FROM seat_events WHERE trip_id = $1", [trip])
            #expect(kept.int(0, 0) == Int(map.seq) + 6)
            #expect(kept.int(0, 1) == 1)

            // First resume: the trip is not yet loaded on b.
            let c1 = try resuming(b, trip, epoch: map.map.epoch, seq: map.seq, id: "p1")
            try expectFreshSnapshot(c1, trip: trip, epoch: map.map.epoch, seq: map.seq + 6)
            // Second resume: the trip is loaded on b, so this one goes to the (pruned) outbox.
            let c2 = try resuming(b, trip, epoch: map.map.epoch, seq: map.seq, id: "p2")
            try expectFreshSnapshot(c2, trip: trip, epoch: map.map.epoch, seq: map.seq + 6)
            // Resuming from the one event still kept works.
            let c3 = try resuming(b, trip, epoch: map.map.epoch, seq: map.seq + 5, id: "p3")
            let first = try c3.next(timeout: 10)
            #expect(first.type == "subscribed", "\(first)")
            #expect(first.seq == map.seq + 5)
            let e = try c3.next(timeout: 10)
            #expect(e.type == "seat_locked" && e.seq == map.seq + 6 && e.seatNo == "3B", "\(e)")
        }
    }

    /// Live events that arrive while an outbox resume is in flight are neither lost nor duplicated: the resumed client sees S+1...N contiguously.
    @Test func liveEventsDuringOutboxResume() throws {
        try withMissedEventsAndSecondInstance { b, trip, leftAt, _ in
            var map = leftAt
            // The third client serves the trip on b (so the resume goes to the outbox, not a first load) and makes live changes.
            let (third, thirdMap) = try b.subscriber(trip)
            #expect(thirdMap.seq == map.seq + Int64(missed.count))
            let live = ["4A", "4B", "4C", "4D", "5A", "5B", "5C", "5D", "6A", "6B", "6C", "6D"]
            let resumed = try resuming(b, trip, epoch: map.map.epoch, seq: map.seq, id: "res7")
            // Right after the resume, without waiting for anything.
            for (i, seat) in live.enumerated() { try third.send(reserveJSON(trip, [seat], id: "live\(i)")) }
            for i in live.indices {
                let r = try third.reply(id: "live\(i)", timeout: 10)
                #expect(r.type == "reserved", "\(r)")
            }
            try reserveEach(third, trip, ["12D"])

            let start = map.seq
            let got = try resumed.collect(until: "seat_locked", timeout: 10) { $0.seatNo == "12D" }
            try #require(got.first?.type == "subscribed", "first answer: \(got.first.map { "\($0)" } ?? "none")")
            #expect(got.first?.seq == start)
            #expect(got.first?["id"]?.stringValue == "res7")
            let events = got.dropFirst()
            let total = missed.count + live.count + 1
            #expect(events.map { $0.seq ?? -1 } == (1...total).map { start + Int64($0) }, "\(events.map(\.compact))")
            #expect(!events.contains { $0.type == "snapshot" || $0.type == "subscribed" })
            for e in events { try map.apply(e) }
            let dbSnap = try TestDatabase.shared.snapshot(trip)
            #expect(map.seq == dbSnap.seq)
            #expect(map.map.snapshot.seats == dbSnap.seats)
        }
    }
}

// MARK: Helpers

/// The seats a client misses while it is away.
private let missed = ["2A", "2B", "2C", "2D", "3A", "3B"]

/// Subscribes to `trip` on `server` and leaves; meanwhile a second subscriber (returned),
/// which keeps the trip and its ring loaded on `server`, reserves `missed` one by one. The
/// map is where a resume starts.
private func mapThenMissedEvents(_ server: TestServer, _ trip: String) throws -> (map: ClientMap, worker: WSClient) {
    let (old, map) = try server.subscriber(trip)
    let (worker, _) = try server.subscriber(trip)
    old.close()
    try reserveEach(worker, trip, missed)
    return (map, worker)
}

/// Where the outbox resume tests start: on a first instance a subscriber left a fresh trip
/// at `map` and `worker` reserved the `missed` seats (`mapThenMissedEvents`); then a second
/// instance `b` starts, which has not loaded the trip. Both are stopped however `body` ends.
private func withMissedEventsAndSecondInstance(
    _ body: (_ b: TestServer, _ trip: String, _ map: ClientMap, _ worker: WSClient) throws -> Void
) throws {
    try TestServer.withTrip { a, trip in
        let (map, worker) = try mapThenMissedEvents(a, trip)
        let b = try TestServer { $0.maxHeld = 0 }  // one client makes a dozen live changes
        defer { b.stop() }
        try body(b, trip, map, worker)
    }
}

/// A new client of `server` that has asked to resume `trip` from (`epoch`, `seq`).
private func resuming(_ server: TestServer, _ trip: String, epoch: String, seq: Int64, id: String) throws -> WSClient {
    let c = try server.client()
    try c.send(resumeJSON(trip, epoch: epoch, seq: seq, id: id))
    return c
}

/// Reserves each seat with its own request, waiting for each `reserved`.
private func reserveEach(_ c: WSClient, _ trip: String, _ seats: [String]) throws {
    for seat in seats {
        let id = "rsv-\(seat)-\(UInt32.random(in: 0...UInt32.max))"
        try c.send(reserveJSON(trip, [seat], id: id))
        let r = try c.reply(id: id, timeout: 10)
        guard r.type == "reserved" else { throw TestFailure("reserve \(seat): \(r)") }
    }
}

/// A new client of `server` resumes from `old` and gets first `subscribed` at the old map's
/// seq, then exactly `count` events in order, then, once `marker` reserves seat 12D, that
/// event next and nothing between. The old map with everything applied equals the database.
private func expectResume(on server: TestServer, from old: ClientMap, trip: String, count: Int, id: String,
                          marker: WSClient) throws {
    let c = try resuming(server, trip, epoch: old.map.epoch, seq: old.seq, id: id)
    var map = old
    let since = old.seq
    let first = try c.next(timeout: 10)
    try #require(first.type == "subscribed", "first answer to a resume: \(first.compact)")
    #expect(first["tripId"]?.stringValue == trip)
    #expect(first["epoch"]?.stringValue == old.map.epoch)
    #expect(first.seq == since)
    #expect(first["id"]?.stringValue == id)
    var replay: [JSON] = []
    for _ in 0..<count { replay.append(try c.next(timeout: 10)) }
    #expect(replay.map { $0.seq ?? -1 } == (0..<count).map { since + 1 + Int64($0) }, "\(replay.map(\.compact))")
    try reserveEach(marker, trip, ["12D"])
    let tail = try c.collect(until: "seat_locked", timeout: 10) { $0.seatNo == "12D" }
    #expect(tail.count == 1, "messages between the replay and the marker: \(tail.dropLast().map(\.compact))")
    #expect(tail.last?.seq == since + Int64(count) + 1)
    for m in replay + tail { try map.apply(m) }
    let dbSnap = try TestDatabase.shared.snapshot(trip)
    #expect(map.seq == dbSnap.seq)
    #expect(map.map.snapshot.seats == dbSnap.seats)
}

/// A resume that cannot be served: the first answer is a `snapshot` of the trip as the database has it.
private func expectFreshSnapshot(_ c: WSClient, trip: String, epoch: String, seq: Int64) throws {
    let first = try c.next(timeout: 10)
    try #require(first.type == "snapshot", "first answer: \(first.compact)")
    #expect(first["tripId"]?.stringValue == trip)
    #expect(first["epoch"]?.stringValue == epoch)
    #expect(first.seq == seq)
    let map = try ClientMap(snapshot: first)
    let dbSnap = try TestDatabase.shared.snapshot(trip)
    #expect(map.map.snapshot.seats == dbSnap.seats)
    #expect(map.map.snapshot.epoch == dbSnap.epoch)
}

@Suite(.timeLimit(.minutes(1)))
struct SupersededResumeTests {
    /// A subscribe sent while an outbox resume of the same trip is in flight supersedes it: the client gets one snapshot, then the next event, and never the stale replay.
    @Test func newerSubscribeSupersedesResume() throws {
        let db = TestDatabase.shared
        try TestServer.withTrip(rows: 30, cols: 40) { server, trip in
            var (watcher, map) = try server.subscriber(trip)
            let start = map.seq
            // 1,100 events in one commit: more than the ring keeps, so a resume from `start`
            // must be read from the outbox.
            try db.sql("""
                UPDATE seats SET status = 'booked', hold_hash = '\\x05'::bytea
                WHERE trip_id = $1 AND (row_no - 1) * 40 + col_no <= 1100
                """, [trip])
            while map.seq < start + 1100 { try map.apply(try watcher.next(timeout: 10)) }

            let c = try server.client()
            // Both in one write: sent separately, the outbox read could finish between the
            // two (on a loaded machine), and the resume would rightly be answered first.
            try c.send(texts: [resumeJSON(trip, epoch: map.map.epoch, seq: start), #"{"type":"subscribe","tripId":"\#(trip)"}"#])
            let snap = try c.next(type: "snapshot", timeout: 10)
            #expect(snap["seq"]?.int64Value == start + 1100)
            try db.sql("UPDATE seats SET status = 'booked', hold_hash = '\\x05'::bytea WHERE trip_id = $1 AND seat_no = '30-40'", [trip])
            let rest = try c.collect(until: "seat_booked", timeout: 10) { $0["seatNo"]?.stringValue == "30-40" }
            let stale = rest.filter { $0["type"]?.stringValue == "subscribed" }
            #expect(stale.isEmpty, "a stale resume answer arrived")
            #expect(rest.count == 1, "\(rest.count - 1) stale messages before the next event")
            let next = rest.last.flatMap { $0["seq"]?.int64Value }
            #expect(next == start + 1101)
        }
    }
}
