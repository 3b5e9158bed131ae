import Foundation
import SeatcastApp
import SeatcastCore
import SeatcastPostgres
import SeatcastTesting
import Testing

/// DESIGN.md "Slow clients": a client that stops reading never delays the others; its
/// queue is dropped and replaced by a fresh snapshot once it drains, and a client that
/// keeps falling behind is closed with 1013.
///
/// The kernel absorbs a lot before a paused reader pushes back on the server: on loopback
/// the server socket's send buffer grows to about 2.3 MB even when the client's receive
/// buffer is 2 KB, so 1,000 events (about 100 KB) never reach any queue cap. These tests
/// therefore make events in rounds of about 1,000, each round once the reading clients
/// have caught up, until /metrics shows what the test needs, then one round more.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct SlowClientTests {
    /// While one client stops reading as events flow, the others get every event promptly, and the paused one, reading again, gets an unasked snapshot and converges to the database.
    @Test func pausedClientIsResyncedOthersUnaffected() throws {
        let db = TestDatabase.shared
        try TestServer.withTrip(configure: { $0.limits.maxQueuedBytes = queueCap }) { server, trip in
            var (paused, pausedMap, producer) = try pausedAndProducer(server, trip, readers: 3)

            // `paused` reads nothing from here on.
            try producer.rounds { try server.metric("seatcast_queue_overflows_total") >= 1 }
            let target = producer.seq
            for r in producer.readers { try expectUndisturbed(r, until: target, trip: trip) }
            for (i, r) in producer.readers.enumerated() {
                // Promptly: every event reached this reader soon after its commit.
                let lag = r.maxLag(producer)
                #expect(lag < 3, "reader \(i): an event took \(lag) s from commit to arrival")
            }

            // Reading again: old events still in flight, then an unasked snapshot, then whatever followed.
            let (snapshots, events) = try catchUp(paused, &pausedMap, to: target)
            #expect(snapshots >= 1, "the paused client got all \(events) events and no snapshot: it never fell behind")
            #expect(events < producer.produced)
            // Nothing else is owed to it.
            for m in try paused.roundTrip(timeout: 10) {
                try pausedMap.apply(m, skippingStale: true)
            }
            let dbSnap = try db.snapshot(trip)
            #expect(pausedMap.seq == dbSnap.seq)
            #expect(pausedMap.map.snapshot.seats == dbSnap.seats)
            #expect(try server.metric("seatcast_queue_overflows_total") >= 1)
            #expect(try server.metric("seatcast_resync_snapshots_total") >= 1)
            #expect(try server.metric("seatcast_slow_clients_closed_total") == 0)
        }
    }

    /// A client that falls behind with `maxResyncs = 0` is closed with 1013, which it sees once it reads again.
    @Test func slowClientClosedWithoutResyncAllowance() throws {
        try TestServer.withTrip(configure: strict(maxResyncs: 0)) { server, trip in
            let (paused, _, producer) = try pausedAndProducer(server, trip, readers: 1)
            try producer.rounds { try server.metric("seatcast_slow_clients_closed_total") >= 1 }
            try expectUndisturbed(producer.readers[0], until: producer.seq, trip: trip)
            #expect(try server.metric("seatcast_queue_overflows_total") == 1)
            #expect(try server.metric("seatcast_resync_snapshots_total") == 0)
            // Everything queued before the close frame is read first.
            let code = try paused.waitForClose(timeout: 20)
            #expect(code == 1013, "close code \(code.map(String.init) ?? "none") after \(paused.transcript.count) messages")
        }
    }

    /// A client that falls behind, is resynced, and falls behind again with `maxResyncs = 1` is closed with 1013.
    @Test func clientThatKeepsFallingBehindIsClosed() throws {
        try TestServer.withTrip(configure: strict(maxResyncs: 1)) { server, trip in
            var (paused, pausedMap, producer) = try pausedAndProducer(server, trip, readers: 1)

            // First time behind: resynced with a snapshot once it reads. (No round after the
            // overflow here: the kernel may take the snapshot while the client is still paused,
            // and enough events after it would make this already the second time.)
            try producer.rounds(extraRound: false) { try server.metric("seatcast_queue_overflows_total") >= 1 }
            #expect(try server.metric("seatcast_slow_clients_closed_total") == 0)
            let (snapshots, _) = try catchUp(paused, &pausedMap, to: producer.seq)
            #expect(snapshots == 1)
            #expect(try server.metric("seatcast_resync_snapshots_total") == 1)
            #expect(try server.metric("seatcast_queue_overflows_total") == 1)

            // Second time behind within the window: closed.
            try producer.rounds { try server.metric("seatcast_slow_clients_closed_total") >= 1 }
            try expectUndisturbed(producer.readers[0], until: producer.seq, trip: trip)
            #expect(try server.metric("seatcast_queue_overflows_total") == 2)
            // Everything queued before the close frame is read first.
            let code = try paused.waitForClose(timeout: 20)
            #expect(code == 1013, "close code \(code.map(String.init) ?? "none") after \(paused.transcript.count) messages")
        }
    }

    /// A trip whose snapshot is larger than the queue cap can still be subscribed: the snapshot is delivered, not treated as falling behind.
    @Test func snapshotLargerThanQueueCapIsDelivered() throws {
        let db = TestDatabase.shared
        try TestServer.withTrip(rows: 100, cols: 4, configure: { $0.limits.maxQueuedBytes = 8192 }) { server, trip in
            let http = try server.http("GET", "/api/trips/\(trip)")
            #expect(http.status == 200)
            #expect(http.body.utf8.count > 8192, "the snapshot must exceed the cap for this test to mean anything")
            let c = try server.client("/ws/trips/\(trip)")
            let snap = try c.next(type: "snapshot", timeout: 10)
            #expect(try ClientMap(snapshot: snap).map.snapshot.seats == db.snapshot(trip).seats)
            #expect(try server.metric("seatcast_slow_clients_closed_total") == 0)
        }
    }
}

// MARK: Helpers

/// The queue cap of these tests. Its size hardly matters next to what the kernel holds for
/// a paused client (about 2.3 MB), but it must be well above one round of events (about
/// 100 KB): the server writes one frame per WRITEABLE callback and queues a whole
/// committed batch at once, so under load even a client that reads can have a round
/// queued (with 8 KiB, and even 64 KiB on a busy machine, reading clients were resynced).
private let queueCap = 256 * 1024

/// The configuration of a server with the queue cap of these tests where every overflow
/// counts, however briefly the client stalled, and a client is closed after `maxResyncs`
/// resyncs.
private func strict(maxResyncs: Int) -> (inout AppConfig) -> Void {
    { c in
        c.limits.maxQueuedBytes = queueCap
        c.limits.stalledSeconds = 0
        c.limits.maxResyncs = maxResyncs
    }
}

/// The scene of these tests on `trip`: `paused`, a subscriber with a 2 KB receive buffer (so
/// it pushes back soon) that the test stops reading, and its map from the snapshot; `count`
/// more subscribers read on their own threads from now on; the producer makes events for them.
private func pausedAndProducer(_ server: TestServer, _ trip: String,
                               readers count: Int) throws -> (paused: WSClient, map: ClientMap, producer: EventProducer) {
    let paused = try server.client("/ws/trips/\(trip)", receiveBuffer: 2048)
    let map = try ClientMap(snapshot: try paused.next(type: "snapshot"))
    let readers = try (0..<count).map { _ in StreamReader(try server.subscriber(trip)) }
    #expect(readers.allSatisfy { $0.map.seq == map.seq })
    readers.forEach { $0.start() }
    return (paused, map, try EventProducer(trip, readers: readers, start: map.seq))
}

/// The reader got every event up to `seq`, in order, without a resync, and its map equals the database.
private func expectUndisturbed(_ r: StreamReader, until seq: Int64, trip: String) throws {
    r.finish(at: seq)
    #expect(r.wait(timeout: 60), "reader did not finish")
    #expect(r.error == nil, "reader: \(r.error.map { "\($0)" } ?? "")")
    #expect(r.snapshots == 0, "a reading client was resynced")
    #expect(r.map.seq == seq)
    let dbSnap = try TestDatabase.shared.snapshot(trip)
    #expect(r.map.map.snapshot.seats == dbSnap.seats)
}

/// Reads a client that stopped reading for a while until its map reaches `target`: events
/// still in flight from before it fell behind, then (if it did) an unasked snapshot that
/// replaces its map, then the events after it. An event the current map already covers is
/// not applied; any other gap throws. Returns how many snapshots and events it applied.
private func catchUp(_ c: WSClient, _ map: inout ClientMap, to target: Int64) throws -> (snapshots: Int, events: Int) {
    var snapshots = 0, events = 0
    while map.seq < target {
        let m = try c.next(timeout: 10)
        switch try map.receive(m) {
        case .snapshot: snapshots += 1
        case .applied: events += 1
        case .stale: continue
        case .gap, .unknownSeat: throw TestFailure("event seq \(m.seq ?? -1) does not follow the map at \(map.seq)")
        case .ignored: Issue.record("unexpected message \(m.compact)")
        }
    }
    return (snapshots, events)
}

/// Reads one subscriber on its own thread, applying every message, until its map reaches
/// the seq given to `finish(at:)`; records when each event arrived. The test thread reads
/// `map`, `error`, `snapshots` and `arrivals` only after `wait`.
final class StreamReader: @unchecked Sendable {
    let client: WSClient
    var map: ClientMap
    var error: Error?
    var snapshots = 0
    /// Arrival time of each event by seq.
    var arrivals: [Int64: Date] = [:]
    private let done = DispatchSemaphore(value: 0)
    /// Guards `target`, `seen` and `stopped`, and signals progress.
    private let progress = NSCondition()
    private var target = Int64.max
    private var seen: Int64
    private var stopped = false

    init(_ subscriber: (WSClient, ClientMap)) {
        client = subscriber.0
        map = subscriber.1
        seen = subscriber.1.seq
    }

    func finish(at seq: Int64) { progress.withLock { target = seq } }

    /// Waits until the reader has applied the event `seq` (false at the timeout or if it stopped).
    func waitFor(seq: Int64, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        progress.lock()
        defer { progress.unlock() }
        while seen < seq && !stopped {
            if !progress.wait(until: deadline) { break }
        }
        return seen >= seq
    }

    func start() {
        Thread { [self] in
            do {
                let deadline = Date().addingTimeInterval(90)
                while map.seq < progress.withLock({ target }) {
                    guard Date() < deadline else { throw TestFailure("reader stuck at seq \(map.seq)") }
                    // A short receive timeout only to notice `finish(at:)`; no message is waited for by time.
                    guard let text = try client.nextText(timeout: 0.25) else { continue }
                    let m = try JSON.parse(text)
                    if m.type == "snapshot" { snapshots += 1 }
                    try map.apply(m)
                    if let seq = m.seq, m.type != "snapshot" { arrivals[seq] = Date() }
                    let seq = map.seq
                    progress.withLock {
                        seen = seq
                        progress.broadcast()
                    }
                }
            } catch {
                self.error = error
            }
            progress.withLock {
                stopped = true
                progress.broadcast()
            }
            done.signal()
        }.start()
    }

    func wait(timeout: Double) -> Bool { done.wait(timeout: .now() + timeout) == .success }

    /// Longest time, seconds, from an event's commit to its arrival here.
    func maxLag(_ producer: EventProducer) -> Double {
        var worst = 0.0
        for (seq, at) in arrivals {
            guard let committed = producer.commitTime(ofEvent: Int(seq - producer.start)) else { continue }
            worst = max(worst, at.timeIntervalSince(committed))
        }
        return worst
    }
}

/// Makes seat changes by SQL, as an operator would: each statement flips every seat of the
/// trip between available and booked, so it commits one event per seat. Before each round
/// it waits until `readers` have every event so far: a reading client is never a round behind.
final class EventProducer {
    let trip: String
    let perStatement: Int
    let readers: [StreamReader]
    let start: Int64
    private let conn: PGConnection
    /// Commit time of each statement.
    private(set) var commits: [Date] = []
    var produced: Int { commits.count * perStatement }
    /// The seq of the last event made.
    var seq: Int64 { start + Int64(produced) }

    init(_ trip: String, readers: [StreamReader], start: Int64) throws {
        self.trip = trip
        self.readers = readers
        self.start = start
        perStatement = try TestDatabase.shared.snapshot(trip).seats.count
        conn = try TestDatabase.shared.connect()
    }

    /// Commit time of the statement that made the `n`th event (1-based).
    func commitTime(ofEvent n: Int) -> Date? {
        let i = (n - 1) / perStatement
        return commits.indices.contains(i) ? commits[i] : nil
    }

    private func statement() throws {
        let r = try conn.exec("""
            UPDATE seats SET status = CASE WHEN status = 'available' THEN 'booked' ELSE 'available' END
            WHERE trip_id = $1
            """, [trip])
        guard r.affectedRows == perStatement else { throw TestFailure("a statement changed \(r.affectedRows) seats") }
        commits.append(Date())
    }

    private func waitForReaders() throws {
        for (i, r) in readers.enumerated() where !r.waitFor(seq: seq, timeout: 30) {
            throw TestFailure("reader \(i) did not reach seq \(seq): \(r.error.map { "\($0)" } ?? "stuck")")
        }
    }

    private func round() throws {
        try waitForReaders()
        for _ in 0..<((1000 + perStatement - 1) / perStatement) { try statement() }
    }

    /// Rounds until `reached()` holds after a round, then one round more so events keep
    /// flowing past that point. At most `maxEvents`.
    func rounds(maxEvents: Int = 60_000, extraRound: Bool = true, until reached: () throws -> Bool) throws {
        let first = produced
        while true {
            try round()
            if try reached() { break }
            guard produced - first < maxEvents else { throw TestFailure("condition not reached after \(produced - first) events") }
        }
        if extraRound { try round() }
        // Every event made is fanned out: the readers have them all.
        try waitForReaders()
    }
}

@Suite(.timeLimit(.minutes(1)))
struct LargeCommitTests {
    /// Commits of 1,500 seat changes each (about twice the queue cap in bytes), three in a row, never get a client that keeps reading closed, and it converges each time.
    @Test func largeCommitsDoNotCountAsSlowness() throws {
        let db = TestDatabase.shared
        try TestServer.withTrip(rows: 30, cols: 50, configure: {
            $0.limits.maxQueuedBytes = 64 * 1024
            $0.limits.maxResyncs = 1
        }) { server, trip in
            let (sub, map0) = try server.subscriber(trip)
            var map = map0
            for round in 1...3 {
                try db.sql("""
                    UPDATE seats SET status = CASE WHEN status = 'available' THEN 'booked' ELSE 'available' END,
                                     hold_hash = CASE WHEN status = 'available' THEN '\\x02'::bytea END
                    WHERE trip_id = $1
                    """, [trip])
                let target = map0.seq + Int64(round * 1500)
                while map.seq < target {
                    let j = try sub.next(timeout: 10)
                    // A snapshot may replace a burst; events it already covers are skipped.
                    try map.apply(j, skippingStale: true)
                }
                #expect(map.map.snapshot.seats == (try db.snapshot(trip)).seats, "round \(round)")
            }
            #expect(!sub.isClosed)
            let metrics = try server.http("GET", "/metrics").body
            #expect(metrics.contains("seatcast_slow_clients_closed_total 0"))
        }
    }
}

@Suite(.timeLimit(.minutes(1)))
struct ResyncTests {
    /// Several snapshots that together exceed the queue cap (subscribes sent at once) all arrive, one at a time, and events then flow for every trip.
    @Test func snapshotsBeyondTheCapAllArrive() throws {
        let db = TestDatabase.shared
        let trips = try (0..<3).map { _ in try db.createTrip(rows: 20, cols: 20) }
        let server = try TestServer { $0.limits.maxQueuedBytes = 8192 }
        defer { server.stop() }
        let c = try server.client()
        for t in trips { try c.send(#"{"type":"subscribe","tripId":"\#(t)"}"#) }
        var maps: [String: ClientMap] = [:]
        while maps.count < trips.count {
            guard let j = try? c.next(type: "snapshot", timeout: 10) else {
                Issue.record("snapshots for \(maps.count) of \(trips.count) trips; metrics:\n\((try? server.http("GET", "/metrics").body) ?? "")")
                return
            }
            maps[j["tripId"]?.stringValue ?? ""] = try ClientMap(snapshot: j)
        }
        for t in trips {
            try db.sql("UPDATE seats SET status = 'booked', hold_hash = '\\x04'::bytea WHERE trip_id = $1 AND seat_no = '3C'", [t])
        }
        var seen = Set<String>()
        while seen.count < trips.count {
            let j = try c.next(timeout: 10)
            guard let t = j["tripId"]?.stringValue, var m = maps[t] else { continue }
            try m.apply(j, skippingStale: true)
            maps[t] = m
            if m.map.seat("3C")?.status == .booked { seen.insert(t) }
        }
        #expect(!c.isClosed)
    }
}
