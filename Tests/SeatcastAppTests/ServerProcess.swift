import Foundation
import SeatcastCore
import SeatcastTesting
#if canImport(Glibc)
import Glibc
#endif

// Helpers for tests that run real `seatcast` processes: a served instance, a subscriber
// that keeps a client-side map the way PROTOCOL.md tells clients to, simultaneous
// senders, and a background reserve/release load.

/// The `seatcast` executable built next to this test bundle.
let seatcastExecutable: String = {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("seatcast").path
}()

/// Runs a `seatcast` command against `databaseURL` and throws unless it exits 0.
@discardableResult
func seatcastCommand(_ args: [String], databaseURL: String) throws -> String {
    var env = ProcessInfo.processInfo.environment
    env["DATABASE_URL"] = databaseURL
    let r = try Subprocess.run([seatcastExecutable] + args, environment: env, timeout: 60)
    guard r.status == 0 else { throw TestFailure("seatcast \(args.joined(separator: " ")) exited \(r.status): \(r.err)") }
    return r.out
}

/// A `seatcast serve --port 0` child process. Its standard error goes to a log file
/// (so a chatty server never blocks on a full pipe); `log` reads it for failure messages.
final class ServerProcess {
    let process: Subprocess
    let port: Int
    let logPath: String

    init(databaseURL: String, environment extra: [String: String] = [:]) throws {
        var env = ProcessInfo.processInfo.environment
        env["DATABASE_URL"] = databaseURL
        for (k, v) in extra { env[k] = v }
        logPath = "/tmp/seatcast-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).log"
        let serve = [seatcastExecutable, "serve", "--port", "0", "--host", "127.0.0.1",
                     "--public-dir", TestDatabase.packageRoot + "/Public"]
        // `exec` keeps the pid: signals go to seatcast itself.
        process = try Subprocess(["sh", "-c", #"log=$1; shift; exec "$@" 2>>"$log""#, "sh", logPath] + serve, environment: env)
        let line = process.readLine(timeout: 30) ?? ""
        guard let r = line.range(of: "127.0.0.1:"), let p = Int(line[r.upperBound...].prefix { $0.isNumber }) else {
            let status = process.poll()
            process.signal(SIGKILL)
            let stderr = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            unlink(logPath)
            throw TestFailure("seatcast serve did not report a port (line \"\(line)\", exit \(status.map(String.init) ?? "none")): "
                + String(stderr.suffix(2000)))
        }
        port = p
    }

    deinit {
        if process.poll() == nil { process.signal(SIGKILL) }
        _ = try? process.wait(timeout: 10)
        unlink(logPath)
    }

    /// The end of what the server wrote to standard error.
    var log: String { String(((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").suffix(3000)) }

    var isRunning: Bool { process.poll() == nil }

    func client(_ path: String = "/ws") throws -> WSClient { try WSClient(port: port, path: path) }

    func follower(_ tripId: String, name: String) throws -> SeatFollower {
        try SeatFollower(port: port, tripId: tripId, name: name)
    }

    func http(_ method: String, _ path: String, body: String? = nil) throws -> (status: Int, body: String) {
        try HTTPClient.request(port: port, method: method, path: path, body: body)
    }

    /// SIGTERM, then waits for the exit status.
    func terminate(timeout: Double = 30) throws -> Int32 {
        process.signal(SIGTERM)
        return try process.wait(timeout: timeout).status
    }
}

extension JSON {
    var msgType: String? { self["type"]?.stringValue }
    var msgSeat: String? { self["seatNo"]?.stringValue }
    var msgSeq: Int64? { self["seq"]?.int64Value }
    var msgId: String? { self["id"]?.stringValue }
    var msgStrings: [String] { arrayValue?.compactMap(\.stringValue) ?? [] }
    var compact: String { String(self.text.prefix(200)) }
}


func reserveMessage(_ trip: String, _ seats: [String], hold: String? = nil, id: String? = nil) -> String {
    var s = #"{"type":"reserve","tripId":"\#(trip)","seats":[\#(seats.map { "\"\($0)\"" }.joined(separator: ","))]"#
    if let hold { s += #","hold":"\#(hold)""# }
    if let id { s += #","id":"\#(id)""# }
    return s + "}"
}

func releaseMessage(_ trip: String, hold: String, seats: [String]? = nil, id: String) -> String {
    var s = #"{"type":"release","tripId":"\#(trip)","hold":"\#(hold)","id":"\#(id)""#
    if let seats { s += #","seats":[\#(seats.map { "\"\($0)\"" }.joined(separator: ","))]"# }
    return s + "}"
}

/// A subscriber that keeps its map the way PROTOCOL.md tells clients to: snapshot, then
/// events in seq order; a new snapshot replaces the map; on a seq gap it resubscribes
/// with `since` (counted: the server is meant to heal gaps itself). Every trip event
/// received is kept in `received`, in order.
final class SeatFollower {
    let client: WSClient
    let tripId: String
    let name: String
    private(set) var map: ClientMap
    /// The seq of the first snapshot.
    let initialSeq: Int64
    /// Every seat_* event received, in arrival order (including any dropped during a resubscribe).
    private(set) var received: [JSON] = []
    /// Events whose seq was at or below the map's (a broadcast delivered twice).
    private(set) var duplicates: [JSON] = []
    /// Times this client saw a gap and resubscribed with `since`.
    private(set) var resubscribes = 0
    /// Gaps seen: (map seq, event seq).
    private(set) var gaps: [(Int64, Int64)] = []
    /// Snapshots that arrived without being asked for.
    private(set) var unaskedSnapshots = 0
    /// `error` messages received.
    private(set) var errors: [JSON] = []
    private var resubscribing = false

    init(port: Int, tripId: String, name: String) throws {
        self.tripId = tripId
        self.name = name
        client = try WSClient(port: port, path: "/ws/trips/\(tripId)")
        let deadline = Date().addingTimeInterval(10)
        while true {
            let left = deadline.timeIntervalSinceNow
            guard left > 0, let text = try client.nextText(timeout: left) else { throw TestFailure("\(name): no snapshot") }
            let j = try JSON.parse(text)
            if j.msgType == "snapshot" {
                map = try ClientMap(snapshot: j)
                initialSeq = map.seq
                return
            }
        }
    }

    /// Applies one message.
    func handle(_ j: JSON) throws {
        switch j.msgType {
        case "snapshot":
            guard j["tripId"]?.stringValue == tripId else { return }
            map = try ClientMap(snapshot: j)
            if resubscribing { resubscribing = false } else { unaskedSnapshots += 1 }
        case "subscribed":
            resubscribing = false
        case "seat_locked", "seat_released", "seat_booked":
            guard j["tripId"]?.stringValue == tripId else { return }
            received.append(j)
            // While a resubscribe is under way, the replay after `subscribed` covers these.
            if resubscribing { return }
            let seq = j.msgSeq ?? -1
            if seq <= map.seq {
                duplicates.append(j)
            } else if seq > map.seq + 1 {
                gaps.append((map.seq, seq))
                resubscribes += 1
                resubscribing = true
                try client.send(#"{"type":"subscribe","tripId":"\#(tripId)","since":{"epoch":"\#(map.map.epoch)","seq":\#(map.seq)}}"#)
            } else {
                try map.apply(j)
            }
        case "error":
            errors.append(j)
        default:
            return
        }
    }

    /// Handles whatever has already arrived, without waiting.
    func drain() throws {
        while let text = try client.nextText(timeout: 0) { try handle(try JSON.parse(text)) }
    }

    /// Handles messages until `done` holds; throws at the timeout.
    func pump(timeout: Double, _ what: String, until done: (SeatFollower) -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !done(self) {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else {
                throw TestFailure("\(name): \(what) not within \(timeout)s (map at seq \(map.seq); last received "
                    + "\(received.suffix(3).map(\.compact)))")
            }
            if let text = try client.nextText(timeout: min(left, 0.5)) { try handle(try JSON.parse(text)) }
        }
    }

    /// Waits for an event of `type` on `seat` (optionally also matching `match`).
    @discardableResult
    func waitForEvent(_ type: String, seat: String, timeout: Double = 10,
                      where match: (JSON) -> Bool = { _ in true }) throws -> JSON {
        var found: JSON?
        try pump(timeout: timeout, "\(type) \(seat)") { f in
            found = f.received.first { $0.msgType == type && $0.msgSeat == seat && match($0) }
            return found != nil
        }
        return found!
    }

    /// Events received of `type` on `seat`.
    func events(_ type: String, seat: String) -> [JSON] {
        received.filter { $0.msgType == type && $0.msgSeat == seat }
    }

    /// Pumps until the map has caught up with `snapshot.seq` (no resubscribe pending).
    func catchUp(to seq: Int64, timeout: Double = 10) throws {
        try pump(timeout: timeout, "catching up to seq \(seq)") { $0.map.seq >= seq && !$0.resubscribing }
    }

    /// Seats whose state differs from `snapshot` (empty when the maps agree), for messages.
    func differences(from snapshot: TripSnapshot) -> [String] {
        var out: [String] = []
        let mine = map.map.snapshot
        if mine.seq != snapshot.seq { out.append("seq \(mine.seq) vs database \(snapshot.seq)") }
        if mine.epoch != snapshot.epoch { out.append("epoch \(mine.epoch) vs database \(snapshot.epoch)") }
        let db = Dictionary(uniqueKeysWithValues: snapshot.seats.map { ($0.seatNo, $0) })
        for s in mine.seats where db[s.seatNo] != s {
            out.append("\(s.seatNo): \(s.status.name)/\(s.untilMs.map(String.init) ?? "-") vs database "
                + "\(db[s.seatNo].map { "\($0.status.name)/\($0.untilMs.map(String.init) ?? "-")" } ?? "missing")")
        }
        if mine.seats.count != snapshot.seats.count { out.append("\(mine.seats.count) seats vs database \(snapshot.seats.count)") }
        return out
    }
}

/// Lets a value that one thread at a time uses cross into a thread.
final class Handoff<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// Sends `text(i)` from `clients[i]`, one thread per client, all released together by a
/// start barrier once every thread is ready. Returns when every send has been made.
func sendSimultaneously(_ clients: [WSClient], _ text: @escaping @Sendable (Int) -> String) {
    let ready = DispatchSemaphore(value: 0), go = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
    for i in clients.indices {
        let c = Handoff(clients[i])
        let t = Thread {
            ready.signal()
            go.wait()
            try? c.value.send(text(i))
            done.signal()
        }
        t.start()
    }
    for _ in clients.indices { ready.wait() }
    for _ in clients.indices { go.signal() }
    for _ in clients.indices { done.wait() }
}

/// A client on its own thread that reserves and releases seats one after another, with
/// one hold, until stopped; it tallies the replies. Paced to stay under the rate limit.
final class ReserveReleaseLoad: @unchecked Sendable {
    private let client: WSClient
    private let tripId: String
    private let seats: [String]
    let hold = "load-\(UInt64.random(in: 0...UInt64.max))-hold"
    private let lock = NSLock()
    private var stopping = false
    private var tally: [String: Int] = [:]
    private var trouble: [String] = []
    private let finished = DispatchSemaphore(value: 0)

    init(port: Int, tripId: String, seats: [String]) throws {
        client = try WSClient(port: port, path: "/ws")
        self.tripId = tripId
        self.seats = seats
    }

    func start() {
        let t = Thread { [self] in
            self.run()
            self.finished.signal()
        }
        t.start()
    }

    /// Stops after the request under way and waits for the thread.
    func stop() {
        lock.withLock { stopping = true }
        finished.wait()
    }

    /// Replies so far by kind: `reserved`, `released`, `error:unavailable`, `timeout`, ...
    var counts: [String: Int] { lock.withLock { tally } }
    /// Anything a correct server would not answer.
    var problems: [String] { lock.withLock { trouble } }

    private func run() {
        var n = 0
        while !lock.withLock({ stopping }) {
            let seat = seats[n % seats.count]
            n += 1
            guard request(reserveMessage(tripId, [seat], hold: hold, id: "lr\(n)"), id: "lr\(n)"),
                  request(releaseMessage(tripId, hold: hold, seats: [seat], id: "ll\(n)"), id: "ll\(n)") else { return }
            // Pacing, not synchronisation: two messages per round stay well under 50/s.
            usleep(40_000)
        }
    }

    /// False when the connection is gone.
    private func request(_ text: String, id: String) -> Bool {
        do {
            try client.send(text)
            let r = try client.reply(id: id, timeout: 5)
            var key = r.msgType ?? "?"
            if key == "error" || key == "rejected" {
                key += ":" + (r["code"]?.stringValue ?? r["reason"]?.stringValue ?? "?")
            }
            lock.withLock {
                tally[key, default: 0] += 1
                if !["reserved", "released", "error:unavailable"].contains(key) { trouble.append(r.compact) }
            }
            return true
        } catch {
            lock.withLock {
                let closed = client.isClosed
                tally[closed ? "closed" : "timeout", default: 0] += 1
                trouble.append("\(id): \(error)")
            }
            return !client.isClosed
        }
    }
}

/// Seconds since `start`, for timing lines.
func durationText(since start: Date) -> String { String(format: "%.2fs", Date().timeIntervalSince(start)) }
