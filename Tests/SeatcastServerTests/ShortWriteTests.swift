import Foundation
import SeatcastCore
import SeatcastTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 8: the direct send path with short writes. The server's sockets get a tiny
/// SO_SNDBUF, so nearly every write of a snapshot or a batch comes back short and its rest
/// is handed to lws, while lws pings every second (its PING frames go into the same
/// stream) and clients with small receive buffers read in irregular bursts. Every byte
/// each client receives is checked (`StrictClient`): a frame split wrongly, bytes of two
/// frames interleaved, a lost or doubled piece of a write, all break the framing or the
/// JSON, a seq, a reply count or the byte-identity of one event across subscribers.
///
/// `WSClient` is not used here: it skips frames with unknown opcodes, ignores the RSV and
/// MASK bits, decodes invalid UTF-8 with replacement characters and takes continuation
/// frames the server never sends, so some corruptions would pass it unnoticed.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct ShortWriteTests {
    /// Several subscribers reading slowly and irregularly, random traffic (reserves and releases with ids of random length, pings, subscribes to trips whose snapshots range from under 1 KB to tens of KB), lws pings every second: every subscriber receives exactly its stream, and a final stop delivers 1001 after all queued data.
    /// Twice: with the loop writing alone, and with every pass of two or more sessions
    /// written by two threads (`SendPass`), whose short writes the loop carries out after.
    @Test(arguments: [nil, 2] as [Int?])
    func everySubscriberReceivesExactlyItsStream(parallelSendFrom: Int?) throws {
        let seed = UInt64.random(in: 0...UInt64.max)
        let db = TestDatabase.shared
        // 8, 24, 200 and 600 seats: snapshots from under 1 KB to over 30 KB.
        let trips = try [(2, 4), (6, 4), (20, 10), (30, 20)].map { try TripInfo(id: db.createTrip(rows: $0.0, cols: $0.1), db) }
        let server = try TestServer {
            $0.socketSendBuffer = 2048
            // Random traffic holds many seats per connection: no hold quota here.
            $0.maxHeld = 0
            $0.parallelSendFrom = parallelSendFrom
            $0.pingSeconds = 1
            $0.hangupSeconds = 30
            $0.limits.messagesPerSecond = 100_000
            $0.limits.messageBurst = 100_000
            // A client that falls behind is resynced (the checks allow that), never closed.
            $0.limits.maxResyncs = 1_000_000
        }
        var stopped = false
        defer { if !stopped { server.stop() } }
        let shared = Shared(trips: trips, activeClients: 4)
        // Four clients send traffic on their own connections; two only listen (lws pings them).
        let users = try (0..<6).map { i in
            try User(name: "c\(i)", active: i < 4, server: server, trips: trips, shared: shared, seed: seed &+ UInt64(i))
        }
        let context = "seed \(seed)"

        // 1. Traffic, each client reading in bursts with pauses, until its requests are all answered.
        let trafficErrors = parallel(users) { u in
            defer { if u.active { shared.activeFinished() } }
            try u.runTraffic(requests: 100)
        }
        try expectNoErrors(trafficErrors, context)

        // 2. Every map reaches the database's seq for each of its trips and equals the database.
        let targets = try Dictionary(uniqueKeysWithValues: trips.map { ($0.id, try db.snapshot($0.id).seq) })
        try expectNoErrors(parallel(users) { try $0.readUntil(targets, timeout: 30) }, context)
        for u in users {
            for (trip, map) in u.maps {
                let dbSnap = try db.snapshot(trip)
                #expect(map.seq == dbSnap.seq, "\(u.name) \(trip): \(context)")
                #expect(map.map.snapshot.seats == dbSnap.seats, "\(u.name) \(trip): map differs from the database; \(context)")
            }
            #expect(u.awaitingSnapshot.isEmpty, "\(u.name): no snapshot after subscribing to \(u.awaitingSnapshot); \(context)")
            #expect(u.outstanding.isEmpty, "\(u.name): unanswered \(u.outstanding.keys.sorted())")
        }

        // 3. Data queued at shutdown: each active client subscribes to the largest trip once more
        // and sends 150 pings without reading; once the server has taken every message, it is
        // stopped. Each client then gets the snapshot and all 150 pongs, then 1001, then EOF.
        let before = try server.metric("seatcast_messages_received_total")
        var sentAtEnd = 0
        for u in users where u.active {
            try u.subscribe(trips[3].id)
            for _ in 0..<150 { try u.ping() }
            sentAtEnd += 151
        }
        try waitFor("the server to take the last \(sentAtEnd) messages", timeout: 30) {
            try server.metric("seatcast_messages_received_total") >= before + Double(sentAtEnd)
        }
        let partialWrites = try server.metric("seatcast_partial_writes_total")
        let parallelPasses = try server.metric("seatcast_parallel_flushes_total")
        let metricsText = try server.http("GET", "/metrics").body
        let stopDone = DispatchSemaphore(value: 0)
        Thread {
            server.stop()
            stopDone.signal()
        }.start()
        stopped = true
        try expectNoErrors(parallel(users) { try $0.readUntilClose(timeout: 30) }, context)
        #expect(stopDone.wait(timeout: .now() + 30) == .success, "server.stop() did not return")
        for u in users {
            #expect(u.client.closeCode == 1001, "\(u.name): close code \(u.client.closeCode.map(String.init) ?? "none")")
            #expect(u.outstanding.isEmpty, "\(u.name): \(u.outstanding.count) requests unanswered at the close")
            #expect(u.awaitingSnapshot.isEmpty, "\(u.name): no snapshot of \(u.awaitingSnapshot) before the close")
        }
        // The short-write path ran (and was not just possible).
        #expect(partialWrites > 0, "seatcast_partial_writes_total is \(partialWrites)")
        if parallelSendFrom == nil {
            #expect(parallelPasses == 0)
        } else {
            #expect(parallelPasses > 0, "no pass was written by two threads")
        }
        // lws's own PING frames went into the streams while data flowed.
        let pings = users.reduce(0) { $0 + $1.client.pingsAnswered }
        #expect(pings > 0, "no client got a ping from lws")
        let summary = users.map { "\($0.name): \($0.client.bytesRead) B, \($0.eventsApplied) events, \($0.snapshotsApplied) snapshots, \($0.repliesReceived) replies, \($0.client.pingsAnswered) pings" }
        print("ShortWriteTests: partial writes \(Int(partialWrites)); " + summary.joined(separator: "; "))
        for name in ["seatcast_queue_overflows_total", "seatcast_coalesced_writes_total", "seatcast_socket_writes_total"] {
            if let line = metricsText.split(separator: "\n").first(where: { $0.hasPrefix(name + " ") }) { print("ShortWriteTests: \(line)") }
        }
    }

    /// A snapshot larger than the server's write scratch buffer (72 KiB) whose first send() is short: its rest, handed to lws, must arrive intact.
    @Test func snapshotLargerThanScratchBuffer() throws {
        let db = TestDatabase.shared
        let trip = try db.createTrip(rows: 40, cols: 40)
        let server = try TestServer { $0.socketSendBuffer = 2048 }
        defer { server.stop() }
        let size = try server.http("GET", "/api/trips/\(trip)").body.utf8.count
        #expect(size > 72 * 1024, "snapshot of \(size) bytes: too small for this test")
        let c = try StrictClient(port: server.port, path: "/ws/trips/\(trip)", receiveBuffer: 4096)
        for round in 0..<3 {
            if round > 0 { try c.send(#"{"type":"subscribe","tripId":"\#(trip)"}"#) }
            let deadline = Date().addingTimeInterval(20)
            var snapshot: JSON?
            while snapshot == nil {
                guard Date() < deadline else { throw TestFailure("no snapshot in round \(round)") }
                _ = try c.read(max: 4096, timeout: 1)
                for m in try c.frames() {
                    guard case let .text(_, j) = m else { continue }
                    snapshot = j
                }
            }
            let map = try ClientMap(snapshot: #require(snapshot))
            #expect(map.map.snapshot.seats == (try db.snapshot(trip)).seats, "round \(round)")
        }
        #expect(try server.metric("seatcast_partial_writes_total") > 0)
    }
}

// MARK: Helpers

/// Runs `body` for every user on a thread of its own; returns what any of them threw.
private func parallel(_ users: [User], _ body: @escaping @Sendable (User) throws -> Void) -> [String] {
    runTogether(users.count, stackSize: 4 << 20) { i in try body(users[i]) }
}

private func expectNoErrors(_ errors: [String], _ context: String) throws {
    for e in errors { Issue.record("\(e); \(context)") }
    if !errors.isEmpty { throw TestFailure("a client failed; \(context)") }
}
