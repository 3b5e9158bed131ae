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
    @Test func everySubscriberReceivesExactlyItsStream() throws {
        let seed = UInt64.random(in: 0...UInt64.max)
        let db = TestDatabase.shared
        // 8, 24, 200 and 600 seats: snapshots from under 1 KB to over 30 KB.
        let trips = try [(2, 4), (6, 4), (20, 10), (30, 20)].map { try TripInfo(id: db.createTrip(rows: $0.0, cols: $0.1), db) }
        let server = try TestServer {
            $0.socketSendBuffer = 2048
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

// MARK: A strict WebSocket client

/// A blocking client on a raw socket that checks every frame a server may send
/// (RFC 6455 section 5.2): FIN set (the server never fragments), RSV bits clear, no mask,
/// the shortest length encoding, opcode text, ping or close only, control frames of at
/// most 125 bytes, text that is valid UTF-8 holding one JSON object with a `type`, and
/// nothing at all after the close frame. Pings are answered. One thread uses it.
final class StrictClient: @unchecked Sendable {
    enum Message {
        case text(String, JSON)
        case close(UInt16)
    }

    /// Closed exactly once, when the client goes away (see `WSClient.sock`).
    private let sock: OwnedFD
    var fd: Int32 { sock.raw }
    private var buffer: [UInt8] = []
    private var head = 0
    /// Stream bytes consumed by complete frames (to place a failure in the stream).
    private var offset = 0
    private(set) var closeCode: UInt16?
    private(set) var pingsAnswered = 0
    private(set) var bytesRead = 0
    private(set) var framesRead = 0

    init(port: Int, path: String, receiveBuffer: Int) throws {
        sock = try OwnedFD.connectTCP(port: port, receiveBuffer: receiveBuffer, noDelay: true)
        let key = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let req = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n\r\n"
        try sock.writeAll(Array(req.utf8))
        let deadline = Date().addingTimeInterval(10)
        while true {
            if let end = httpHeadEnd(buffer[...]) {
                let head = String(decoding: buffer[0..<end], as: UTF8.self)
                guard head.hasPrefix("HTTP/1.1 101") else { throw TestFailure("upgrade refused: \(head.prefix(80))") }
                buffer.removeFirst(end + 4)
                bytesRead = buffer.count
                break
            }
            guard Date() < deadline else { throw TestFailure("no upgrade response") }
            _ = try read(max: 4096, timeout: 1, countBytes: false)
        }
    }

    func sendFrame(opcode: UInt8, _ payload: [UInt8]) throws { try sock.writeAll(WSClient.frame(opcode: opcode, payload)) }

    func send(_ text: String) throws { try sendFrame(opcode: 1, Array(text.utf8)) }

    /// Waits up to `timeout` for data, then reads at most `max` bytes. Returns how many
    /// (0: none arrived in time). Throws at end of stream.
    @discardableResult
    func read(max: Int, timeout: Double, countBytes: Bool = true) throws -> Int {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, Int32(timeout * 1000)) > 0 else { return 0 }
        if head > 65536 && head * 2 > buffer.count {
            buffer.removeFirst(head)
            head = 0
        }
        var chunk = [UInt8](repeating: 0, count: max)
        let r = Glibc.read(fd, &chunk, max)
        guard r > 0 else { throw TestFailure("end of stream after \(bytesRead) bytes (close code \(closeCode.map(String.init) ?? "none"))") }
        buffer += chunk[0..<r]
        if countBytes { bytesRead += r }
        return r
    }

    private func fail(_ what: String) -> TestFailure {
        TestFailure("stream byte \(offset) (frame \(framesRead + 1)): \(what)")
    }

    /// The complete frames in the buffer, each checked; pings are answered and not returned.
    func frames() throws -> [Message] {
        var out: [Message] = []
        while buffer.count - head >= 2 {
            if closeCode != nil { throw fail("\(buffer.count - head) bytes after the close frame") }
            let b0 = buffer[head], b1 = buffer[head + 1]
            guard b0 & 0x80 != 0 else { throw fail("FIN clear (the server never fragments): \(hex(b0, b1))") }
            guard b0 & 0x70 == 0 else { throw fail("RSV bits set: \(hex(b0, b1))") }
            guard b1 & 0x80 == 0 else { throw fail("masked frame from the server: \(hex(b0, b1))") }
            var len = Int(b1 & 0x7F)
            var headerLength = 2
            if len == 126 {
                guard buffer.count - head >= 4 else { break }
                len = Int(buffer[head + 2]) << 8 | Int(buffer[head + 3])
                headerLength = 4
                guard len >= 126 else { throw fail("16-bit length \(len) (must be >= 126)") }
            } else if len == 127 {
                guard buffer.count - head >= 10 else { break }
                guard buffer[head + 2] & 0x80 == 0 else { throw fail("64-bit length with the top bit set") }
                len = 0
                for i in 2..<10 { len = len << 8 | Int(buffer[head + i]) }
                headerLength = 10
                guard len >= 65536 else { throw fail("64-bit length \(len) (must be >= 65536)") }
                guard len <= 16 << 20 else { throw fail("implausible length \(len)") }
            }
            guard buffer.count - head >= headerLength + len else { break }
            let payload = Array(buffer[(head + headerLength)..<(head + headerLength + len)])
            let opcode = b0 & 0x0F
            switch opcode {
            case 0x1:
                guard let text = String(validating: payload, as: UTF8.self) else { throw fail("text frame of invalid UTF-8") }
                let j: JSON
                do { j = try JSON.parse(text) } catch { throw fail("text frame is not JSON (\(error)): \(text.prefix(200))") }
                guard j["type"]?.stringValue != nil else { throw fail("JSON without a type: \(text.prefix(200))") }
                out.append(.text(text, j))
            case 0x9:
                guard len <= 125 else { throw fail("ping of \(len) bytes") }
                try sendFrame(opcode: 0xA, payload)
                pingsAnswered += 1
            case 0x8:
                guard len <= 125, len != 1 else { throw fail("close frame of \(len) bytes") }
                if len >= 2, String(validating: payload[2...], as: UTF8.self) == nil { throw fail("close reason not UTF-8") }
                let code = len >= 2 ? UInt16(payload[0]) << 8 | UInt16(payload[1]) : 1005
                closeCode = code
                out.append(.close(code))
            default:
                throw fail("unexpected opcode \(opcode): \(hex(b0, b1))")
            }
            head += headerLength + len
            offset += headerLength + len
            framesRead += 1
        }
        if head == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            head = 0
        }
        return out
    }

    private func hex(_ b: UInt8...) -> String { b.map { String($0, radix: 16) }.joined(separator: " ") }

    /// After the close frame: answers it and reads until the server closes the TCP
    /// connection; any byte after the close frame fails.
    func finishClose(timeout: Double) throws {
        guard let code = closeCode else { throw TestFailure("no close frame") }
        try? sendFrame(opcode: 0x8, [UInt8(code >> 8), UInt8(code & 0xFF)])
        guard buffer.count == head else { throw fail("\(buffer.count - head) bytes after the close frame") }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 500) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let r = Glibc.read(fd, &chunk, chunk.count)
            if r <= 0 { return }
            throw fail("\(r) bytes after the close frame")
        }
        throw TestFailure("the server did not close the connection after its close frame")
    }
}

// MARK: Clients and shared checks

struct TripInfo: Sendable {
    let id: String
    let seats: [String]

    init(id: String, _ db: TestDatabase) throws {
        self.id = id
        seats = try db.snapshot(id).seats.map(\.seatNo)
    }
}

/// What the clients share: progress (to pause on), and the text of every event and
/// snapshot seen, so the same message is byte-identical for every subscriber.
final class Shared: @unchecked Sendable {
    private let cond = NSCondition()
    private var progress = 0
    private var done = false
    private var events: [String: [Int64: String]] = [:]
    private var snapshots: [String: [Int64: String]] = [:]

    /// Active clients still sending.
    private var activeLeft: Int

    init(trips: [TripInfo], activeClients: Int) {
        activeLeft = activeClients
        for t in trips { events[t.id] = [:]; snapshots[t.id] = [:] }
    }

    var isDone: Bool {
        cond.lock()
        defer { cond.unlock() }
        return done
    }

    func advance() {
        cond.lock()
        progress += 1
        cond.broadcast()
        cond.unlock()
    }

    /// An active client has sent everything and has every answer; the traffic ends with the last one.
    func activeFinished() {
        cond.lock()
        activeLeft -= 1
        if activeLeft <= 0 { done = true }
        cond.broadcast()
        cond.unlock()
    }

    /// A pause between reads: until the other clients have handled `steps` more messages
    /// (or the traffic has ended). The timeout only bounds the pause (load shaping).
    func pause(steps: Int, atMost timeout: Double) {
        cond.lock()
        defer { cond.unlock() }
        let target = progress + steps
        let deadline = Date().addingTimeInterval(timeout)
        while progress < target && !done {
            if !cond.wait(until: deadline) { return }
        }
    }

    /// Throws when another subscriber got different bytes for the same event or snapshot.
    func check(_ kind: String, trip: String, seq: Int64, _ text: String) throws {
        cond.lock()
        defer { cond.unlock() }
        if kind == "snapshot" {
            if let seen = snapshots[trip]?[seq], seen != text { throw TestFailure("snapshot \(trip)@\(seq) differs between subscribers") }
            snapshots[trip, default: [:]][seq] = text
        } else {
            if let seen = events[trip]?[seq], seen != text {
                throw TestFailure("event \(trip)@\(seq) differs between subscribers:\n\(seen)\n\(text)")
            }
            events[trip, default: [:]][seq] = text
        }
    }
}

/// One connection and everything it must receive.
final class User: @unchecked Sendable {
    let name: String
    let active: Bool
    let client: StrictClient
    let trips: [TripInfo]
    let shared: Shared
    var rng: SplitMix64
    let hold: String
    /// The trips subscribed to (a snapshot of each is owed or was received).
    var subscribed: Set<String> = []
    var maps: [String: ClientMap] = [:]
    /// Subscribed and no snapshot received since.
    var awaitingSnapshot: Set<String> = []
    /// Requests sent and not answered: id -> the reply types that may answer it.
    var outstanding: [String: Set<String>] = [:]
    var answered: Set<String> = []
    private var nextId = 0
    var eventsApplied = 0
    var snapshotsApplied = 0
    var repliesReceived = 0

    init(name: String, active: Bool, server: TestServer, trips: [TripInfo], shared: Shared, seed: UInt64) throws {
        self.name = name
        self.active = active
        self.trips = trips
        self.shared = shared
        rng = SplitMix64(seed: seed)
        hold = "hold_" + String((0..<20).map { _ in Character(UnicodeScalar(UInt8(ascii: "a") + UInt8(Int.random(in: 0..<26)))) })
        // Half start subscribed by URL (the snapshot is the first frame), half on /ws.
        let first = trips[Int(seed % UInt64(trips.count))].id
        if Int(seed % 2) == 0 {
            client = try StrictClient(port: server.port, path: "/ws/trips/\(first)", receiveBuffer: 4096)
            subscribed.insert(first)
            awaitingSnapshot.insert(first)
        } else {
            client = try StrictClient(port: server.port, path: "/ws", receiveBuffer: 4096)
            try subscribe(first)
        }
        // Listeners take two more trips now and then only read.
        if !active {
            for t in trips where t.id != first && subscribed.count < 3 { try subscribe(t.id) }
        }
    }

    // MARK: Requests

    /// A request id of random length (1 to 64 bytes), unique on this connection, with
    /// characters JSON must escape and multi-byte UTF-8 in it now and then.
    func newId() -> String {
        nextId += 1
        let prefix = String(nextId, radix: 36) + ":"
        let alphabet: [String] = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.").map(String.init)
            + ["\"", "\\", "/", "é", "✓", "🚌", " "]
        let want = rng.int(1...64)
        var id = prefix
        while true {
            let c = alphabet[rng.int(0...(alphabet.count - 1))]
            if id.utf8.count + c.utf8.count > want { break }
            id += c
        }
        return id
    }

    private func send(_ members: [(String, JSON)], expecting replies: Set<String>) throws {
        let id = newId()
        outstanding[id] = replies
        try client.send(JSON.object(members + [("id", .string(id))]).text)
    }

    func subscribe(_ trip: String) throws {
        subscribed.insert(trip)
        awaitingSnapshot.insert(trip)
        try client.send(JSON.object([("type", .string("subscribe")), ("tripId", .string(trip))]).text)
    }

    func ping() throws { try send([("type", .string("ping"))], expecting: ["pong"]) }

    func randomRequest() throws {
        let roll = rng.int(0...99)
        let trip = trips[rng.int(0...(trips.count - 1))]
        switch roll {
        case 0..<50:
            let seats = (0..<rng.int(1...3)).map { _ in trip.seats[rng.int(0...(trip.seats.count - 1))] }
            try send([("type", .string("reserve")), ("tripId", .string(trip.id)), ("seats", .array(Array(Set(seats)).map { .string($0) })),
                      ("hold", .string(hold))], expecting: ["reserved", "rejected"])
        case 50..<75:
            try send([("type", .string("release")), ("tripId", .string(trip.id)), ("hold", .string(hold))], expecting: ["released"])
        case 75..<90:
            try ping()
        default:
            try subscribe(trip.id)
        }
    }

    // MARK: Receiving

    /// Reads what is there (at most `max` bytes, waiting up to `timeout`) and checks every message.
    @discardableResult
    func readSome(max: Int, timeout: Double) throws -> Int {
        let n = try client.read(max: max, timeout: timeout)
        for m in try client.frames() {
            guard case let .text(text, j) = m else { continue }
            try handle(text, j)
            shared.advance()
        }
        return n
    }

    func handle(_ text: String, _ j: JSON) throws {
        let type = j["type"]!.stringValue!
        switch type {
        case "snapshot":
            guard let trip = j["tripId"]?.stringValue, subscribed.contains(trip) else { throw TestFailure("\(name): snapshot of a trip not subscribed: \(text.prefix(120))") }
            let map = try ClientMap(snapshot: j)
            try shared.check("snapshot", trip: trip, seq: map.seq, text)
            maps[trip] = map
            awaitingSnapshot.remove(trip)
            snapshotsApplied += 1
        case "seat_locked", "seat_released", "seat_booked":
            guard let trip = j["tripId"]?.stringValue, var map = maps[trip] else { throw TestFailure("\(name): event before any snapshot: \(text)") }
            do { try map.apply(j) } catch { throw TestFailure("\(name): \(error): \(text)") }
            try shared.check("event", trip: trip, seq: map.seq, text)
            maps[trip] = map
            eventsApplied += 1
        case "reserved", "rejected", "released", "pong":
            guard let id = j["id"]?.stringValue else { throw TestFailure("\(name): reply without id: \(text)") }
            guard !answered.contains(id) else { throw TestFailure("\(name): second reply to \(id): \(text)") }
            guard let allowed = outstanding.removeValue(forKey: id) else { throw TestFailure("\(name): reply to an id never sent: \(text)") }
            guard allowed.contains(type) else { throw TestFailure("\(name): \(type) answers a request expecting \(allowed): \(text)") }
            if type == "rejected", j["reason"]?.stringValue != "seat_taken" { throw TestFailure("\(name): unexpected rejection: \(text)") }
            answered.insert(id)
            repliesReceived += 1
        default:
            throw TestFailure("\(name): unexpected message: \(text.prefix(200))")
        }
    }

    // MARK: Phases

    /// Active: sends `requests` requests a few at a time; every client reads in bursts of
    /// random size and pauses in between, until its requests are answered and the traffic
    /// of the others has ended.
    func runTraffic(requests: Int) throws {
        var sent = 0
        let deadline = Date().addingTimeInterval(60)
        while active ? (sent < requests || !outstanding.isEmpty) : !shared.isDone {
            guard Date() < deadline else { throw TestFailure("\(name): traffic did not finish; \(outstanding.count) unanswered") }
            if active && sent < requests && outstanding.count < 16 {
                for _ in 0..<rng.int(1...4) where sent < requests {
                    try randomRequest()
                    sent += 1
                }
            }
            // A burst: as much as `budget` bytes of what has arrived.
            let budget = rng.int(256...12_000)
            var got = 0
            while got < budget {
                let n = try readSome(max: min(4096, budget - got), timeout: 0.05)
                if n == 0 { break }
                got += n
            }
            shared.pause(steps: rng.int(1...12), atMost: 0.15)
        }
    }

    /// Reads until each subscribed trip's map has reached the target seq, every snapshot
    /// owed has come and every request is answered.
    func readUntil(_ targets: [String: Int64], timeout: Double) throws {
        let deadline = Date().addingTimeInterval(timeout)
        func reached() -> Bool {
            awaitingSnapshot.isEmpty && outstanding.isEmpty
                && subscribed.allSatisfy { t in (maps[t]?.seq ?? -1) >= targets[t]! }
        }
        while !reached() {
            guard Date() < deadline else {
                throw TestFailure("\(name): maps at \(maps.mapValues(\.seq)), targets \(targets), awaiting \(awaitingSnapshot), \(outstanding.count) unanswered")
            }
            try readSome(max: 4096, timeout: 0.5)
        }
    }

    /// Reads everything until the close frame, then expects the end of the stream.
    func readUntilClose(timeout: Double) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while client.closeCode == nil {
            guard Date() < deadline else { throw TestFailure("\(name): no close frame; \(outstanding.count) unanswered") }
            try readSome(max: 4096, timeout: 0.5)
        }
        try client.finishClose(timeout: 10)
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
