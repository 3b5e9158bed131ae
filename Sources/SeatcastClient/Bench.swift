import Foundation
import SeatcastCore

/// The benchmarks `seatcast bench` runs against a live server (see BENCHMARKS.md).
/// Client work is kept small (no JSON parsing of events) because client and server
/// share the machine.
public enum Bench {
    /// CPU seconds (user + system) a process has used, from /proc.
    public static func cpuSeconds(pid: Int32) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state(0) ppid(1) ... utime(11) stime(12).
        guard fields.count > 12, let u = Double(fields[11]), let s = Double(fields[12]) else { return nil }
        return (u + s) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Resident memory of a process, bytes.
    public static func rssBytes(pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }.map { $0 * 1024 }
        }
        return nil
    }

    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }

    /// p50, p99 and the maximum of durations in seconds, in milliseconds (NaN when empty).
    static func millis(_ seconds: [Double]) -> (p50: Double, p99: Double, max: Double) {
        let sorted = seconds.map { $0 * 1000 }.sorted()
        return (percentile(sorted, 0.5), percentile(sorted, 0.99), sorted.last ?? .nan)
    }

    static func hold(_ i: Int) -> String { "bench-hold-\(String(format: "%012d", i))" }

    /// The seat numbers of a trip, from its snapshot (over `url`, with its token if it has one).
    public static func seats(url: WebSocketURL, trip: String) -> [String] {
        var seats: [String] = []
        WebSocketConnection(url: url.with(path: "/ws/trips/\(trip)")).run { c, event in
            guard case let .message(text) = event, let j = try? JSON.parse(text) else { return }
            if j["type"]?.stringValue == "snapshot" {
                seats = j["seats"]?.arrayValue?.compactMap { $0["seatNo"]?.stringValue } ?? []
            }
            c.close()
        }
        return seats
    }

    // MARK: Fan-out

    public struct FanoutResult: CustomStringConvertible {
        public var subscribers = 0, events = 0, deliveries = 0, expected = 0
        public var p50 = 0.0, p99 = 0.0, max = 0.0
        public var seconds = 0.0
        public var serverCPU: Double?
        public var serverRSS: Int?
        public var clientCPU = 0.0
        /// Snapshots subscribers got during the run (a server's resync of a slow client),
        /// subscribers that were closed, requests of the actor that did not succeed, and
        /// connections that never opened.
        public var resyncs = 0, closed = 0, actorFailures = 0, connectFailures = 0
        /// Means over the events, from the request: the actor's answer, and the first and
        /// the last subscriber's receipt (last - first: how long one event's fan-out took,
        /// as the load client saw it). Milliseconds.
        public var replyMs = 0.0, firstMs = 0.0, lastMs = 0.0
        public var description: String {
            var s = "fanout: \(subscribers) subscribers, \(events) events, \(deliveries)/\(expected) deliveries in "
            s += String(format: "%.2f s; latency request->subscriber p50 %.2f ms, p99 %.2f ms, max %.2f ms", seconds, p50, p99, max)
            if let c = serverCPU {
                s += String(format: "; server CPU %.2f s = %.2f us per delivered event", c, c * 1e6 / Double(Swift.max(deliveries, 1)))
            }
            if let rss = serverRSS { s += String(format: "; server RSS %.1f MB", Double(rss) / 1_048_576) }
            s += String(format: "; load client CPU %.2f s", clientCPU)
            s += String(format: "; per event (means): actor's answer %.2f ms, first delivery %.2f ms, last %.2f ms", replyMs, firstMs, lastMs)
            let trouble = [(resyncs, "resync snapshots"), (closed, "subscribers closed"),
                           (actorFailures, "actor requests failed"), (connectFailures, "connections failed")]
                .filter { $0.0 > 0 }.map { "\($0.0) \($0.1)" }
            if !trouble.isEmpty { s += "; " + trouble.joined(separator: ", ") }
            return s
        }
    }

    /// CPU seconds (user + system) this process has used.
    public static func ownCPUSeconds() -> Double {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6
            + Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) / 1e6
    }

    /// `subscribers` clients subscribe to `trip`; one unsubscribed actor changes seats at
    /// `rate` changes per second, each seat reserved and then released by the next change
    /// (so one hold never has more than one seat: no hold quota gets in the way). Each event
    /// is one `seq` after the subscribers' snapshot, so a subscriber's receipt of `seq` is
    /// timed from the request that caused it. Server CPU is the server process's own
    /// user+system time (/proc/PID/stat) from the first request to the end of the run;
    /// RSS is read at the end. The run ends when every delivery arrived, or 10 s after the
    /// last one.
    public static func fanout(url: WebSocketURL, trip: String, seats: [String], subscribers: Int, events: Int,
                              rate: Double, serverPid: Int32?, handshakes: Int = LoadClient.defaultHandshakes,
                              tokens: BenchTokens? = nil) -> FanoutResult {
        let lc = LoadClient(url: url, maxHandshakes: handshakes)
        var r = FanoutResult()
        r.events = events
        var snapshots = 0
        var baseSeq: Int64 = -1
        var running = false
        var sent = [Double](repeating: 0, count: events)
        var latencies: [Double] = []
        latencies.reserveCapacity(subscribers * events)
        var lastMessage = 0.0
        var actor = -1
        var replyAt = [Double](repeating: 0, count: events), firstAt = replyAt, lastAt = replyAt
        var replies = 0
        lc.onMessage = { i, b in
            if i == actor {
                if running && replies < events && sent[replies] > 0 {
                    replyAt[replies] = Timestamp.monotonicSeconds() - sent[replies]
                    replies += 1
                }
                // {"type":"reserved" / "released"; anything else ("rejected", "error") means lost events.
                if !(b.count > 12 && b[9] == UInt8(ascii: "r") && (b[11] == UInt8(ascii: "s") || b[11] == UInt8(ascii: "l"))) {
                    r.actorFailures += 1
                }
                lastMessage = Timestamp.monotonicSeconds()
                return
            }
            guard b.count > 14 else { return }
            // {"type":"seat_locked" / "seat_released" / "snapshot"
            if b[9] == UInt8(ascii: "s") && b[10] == UInt8(ascii: "e") && b[13] == UInt8(ascii: "_") {
                guard running, let seq = FrameScan.seq(in: b) else { return }
                let k = Int(seq - baseSeq) - 1
                if k >= 0 && k < events && sent[k] > 0 {
                    let now = Timestamp.monotonicSeconds()
                    latencies.append(now - sent[k])
                    if firstAt[k] == 0 { firstAt[k] = now - sent[k] }
                    lastAt[k] = now - sent[k]
                    lastMessage = now
                }
            } else if FrameScan.isSnapshot(b) {
                if running {
                    r.resyncs += 1
                } else {
                    snapshots += 1
                    baseSeq = Swift.max(baseSeq, FrameScan.seq(in: b) ?? -1)
                }
            }
        }
        // The actor first releases whatever its hold has left from an earlier run on this
        // trip (a reserve of a seat it already holds would change nothing: no event).
        let actorHold = hold(0)
        actor = connect(lc, 1, path: "/ws", tokens: tokens)
        _ = lc.run(timeout: 30) { lc.openCount == 1 || lc.failedCount > 0 }
        lc.send(actor, #"{"type":"release","tripId":"\#(trip)","hold":"\#(actorHold)"}"#)
        _ = lc.run(timeout: 30) { r.actorFailures > 0 || lastMessage > 0 }
        connect(lc, subscribers, path: "/ws/trips/\(trip)", tokens: tokens)
        _ = lc.run(timeout: Swift.max(120, Double(subscribers) / 50)) {
            (snapshots >= subscribers && lc.openCount >= subscribers + 1) || lc.connectingCount == 0 && lc.failedCount > 0
        }
        r.connectFailures = lc.failedCount
        r.subscribers = snapshots
        r.expected = events * snapshots
        let closed0 = lc.closedCount
        running = true
        let cpu0 = serverPid.flatMap(cpuSeconds)
        let own0 = ownCPUSeconds()
        let t0 = Timestamp.monotonicSeconds()
        lastMessage = t0
        var next = 0
        _ = lc.run(timeout: Double(events) / rate + 120) {
            let now = Timestamp.monotonicSeconds()
            while next < events && Double(next) / rate <= now - t0 {
                let seat = seats[(next / 2) % seats.count]
                sent[next] = Timestamp.monotonicSeconds()
                lc.send(actor, next % 2 == 0
                    ? #"{"type":"reserve","tripId":"\#(trip)","seats":["\#(seat)"],"hold":"\#(actorHold)"}"#
                    : #"{"type":"release","tripId":"\#(trip)","seats":["\#(seat)"],"hold":"\#(actorHold)"}"#)
                next += 1
            }
            // Done when every delivery arrived, or 10 s after the last one once all are sent.
            return next == events && (latencies.count >= r.expected || now - Swift.max(lastMessage, sent[events - 1]) > 10)
        }
        r.seconds = Swift.max(lastMessage, t0) - t0
        if let c0 = cpu0, let c1 = serverPid.flatMap(cpuSeconds) { r.serverCPU = c1 - c0 }
        r.serverRSS = serverPid.flatMap(rssBytes)
        r.clientCPU = ownCPUSeconds() - own0
        r.closed = lc.closedCount - closed0
        r.deliveries = latencies.count
        (r.p50, r.p99, r.max) = millis(latencies)
        func meanMs(_ v: [Double]) -> Double {
            let seen = v.filter { $0 > 0 }
            return seen.isEmpty ? .nan : seen.reduce(0, +) / Double(seen.count) * 1000
        }
        (r.replyMs, r.firstMs, r.lastMs) = (meanMs(replyAt), meanMs(firstAt), meanMs(lastAt))
        return r
    }

    // MARK: Reserves per second

    public struct ThroughputResult: CustomStringConvertible {
        public var connections = 0, reserves = 0, releases = 0, rejected = 0, errors = 0
        public var seconds = 0.0
        /// Milliseconds from a reserve's send to its answer (after the start of the run).
        public var p50 = 0.0, p99 = 0.0
        /// Each connection carried a buyer token of its own (--token-secret).
        public var tokens = false
        public var description: String {
            String(format: "reserves: %d connections, %d reserves + %d releases in %.2f s = %.0f reserves/s (%.0f writes/s), %d rejected, %d errors",
                   connections, reserves, releases, seconds, Double(reserves) / seconds, Double(reserves + releases) / seconds, rejected, errors)
                + String(format: "; reserve answered p50 %.2f ms, p99 %.2f ms", p50, p99) + (tokens ? " (buyer tokens)" : "")
        }
    }

    /// Each connection owns its own seats and keeps `inflight` of them cycling through
    /// reserve -> reserved -> release -> released -> reserve for `duration` seconds.
    public static func reserves(url: WebSocketURL, trip: String, seats: [String], connections: Int, inflight: Int,
                                duration: Double, handshakes: Int = LoadClient.defaultHandshakes,
                                tokens: BenchTokens? = nil) -> ThroughputResult {
        let lc = LoadClient(url: url, maxHandshakes: handshakes)
        let perConn = seats.count / connections
        precondition(perConn >= inflight, "not enough seats: \(seats.count) for \(connections) x \(inflight)")
        var r = ThroughputResult()
        r.connections = connections
        r.tokens = tokens != nil
        var stopping = false
        var started = false
        var outstanding = 0
        let seatIndex = Dictionary(seats.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        var sentAt = [Double](repeating: 0, count: seats.count)
        var latencies: [Double] = []
        func reserve(_ c: Int, _ seat: String) {
            outstanding += 1
            if let k = seatIndex[seat] { sentAt[k] = Timestamp.monotonicSeconds() }
            lc.send(c, #"{"type":"reserve","tripId":"\#(trip)","seats":["\#(seat)"],"hold":"\#(hold(c))"}"#)
        }
        lc.onMessage = { c, b in
            outstanding -= 1
            guard let type = FrameScan.string("type", in: b) else { return }
            let seat = FrameScan.firstString("seats", in: b).map(String.init) ?? ""
            if started, type == "reserved" || type == "rejected", let k = seatIndex[seat], sentAt[k] > 0 {
                latencies.append(Timestamp.monotonicSeconds() - sentAt[k])
            }
            switch type {
            case "reserved":
                r.reserves += 1
                outstanding += 1
                lc.send(c, #"{"type":"release","tripId":"\#(trip)","seats":["\#(seat)"],"hold":"\#(hold(c))"}"#)
            case "released":
                r.releases += 1
                if !stopping && !seat.isEmpty { reserve(c, seat) }
            case "rejected": r.rejected += 1
            default: r.errors += 1
            }
        }
        lc.onOpen = { c in
            for k in 0..<inflight { reserve(c, seats[c * perConn + k]) }
        }
        let t0 = Timestamp.monotonicSeconds()
        var tStart = t0
        connect(lc, connections, path: "/ws", tokens: tokens)
        _ = lc.run(timeout: duration + 60) {
            let now = Timestamp.monotonicSeconds()
            if !started && lc.openCount == connections {
                started = true
                tStart = now
                r.reserves = 0
                r.releases = 0
            }
            if started && now - tStart >= duration { stopping = true }
            return stopping && outstanding == 0
        }
        r.seconds = Timestamp.monotonicSeconds() - tStart
        (r.p50, r.p99, _) = millis(latencies)
        return r
    }

    // MARK: Best available

    public struct BestResult: CustomStringConvertible {
        public var connections = 0, count = 0, together = true
        public var reserves = 0, releases = 0, notEnough = 0, otherRejections = 0, errors = 0
        public var seconds = 0.0
        /// Milliseconds from a reserve's send to its answer (reserved or rejected).
        public var p50 = 0.0, p99 = 0.0
        public var description: String {
            String(format: "best: %d connections, count %d%@: %d reserved + %d released in %.2f s = %.0f best-available reserves/s, "
                       + "%d not_enough_seats, %d other rejections, %d errors; reserve answered p50 %.2f ms, p99 %.2f ms",
                   connections, count, together ? " together" : "", reserves, releases, seconds, Double(reserves) / seconds,
                   notEnough, otherRejections, errors, p50, p99)
        }
    }

    /// `connections` clients, each with a hold of its own, cycle best-available reserve ->
    /// reserved -> release (every seat of the hold) -> released -> reserve for `duration`
    /// seconds, all asking for the same best seats at once. A client answered
    /// `not_enough_seats` asks again at once. Holds are new for each run (and each load
    /// client), so several load clients can share a trip, one per server instance.
    public static func best(url: WebSocketURL, trip: String, connections: Int, count: Int, together: Bool,
                            duration: Double, handshakes: Int = LoadClient.defaultHandshakes,
                            tokens: BenchTokens? = nil) -> BestResult {
        let lc = LoadClient(url: url, maxHandshakes: handshakes)
        var r = BestResult()
        r.connections = connections
        r.count = count
        r.together = together
        var stopping = false
        var started = false
        var outstanding = 0
        var sentAt = [Double](repeating: 0, count: connections)
        var latencies: [Double] = []
        // Holds of this run only: two load clients (one per server instance) must not share one.
        let run = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        func holdOf(_ c: Int) -> String { "bench-best-\(run)-\(String(format: "%06d", c))" }
        func reserve(_ c: Int) {
            outstanding += 1
            sentAt[c] = Timestamp.monotonicSeconds()
            lc.send(c, #"{"type":"reserve","tripId":"\#(trip)","count":\#(count),"together":\#(together),"hold":"\#(holdOf(c))"}"#)
        }
        func release(_ c: Int) {
            outstanding += 1
            lc.send(c, #"{"type":"release","tripId":"\#(trip)","hold":"\#(holdOf(c))"}"#)
        }
        lc.onMessage = { c, b in
            outstanding -= 1
            let type = FrameScan.string("type", in: b)
            if type == "reserved" || type == "rejected", started {
                latencies.append(Timestamp.monotonicSeconds() - sentAt[c])
            }
            switch type {
            case "reserved":
                if started { r.reserves += 1 }
                release(c)
            case "released":
                if started { r.releases += 1 }
                if !stopping { reserve(c) }
            case "rejected":
                if FrameScan.string("reason", in: b) == "not_enough_seats" {
                    if started { r.notEnough += 1 }
                } else if started {
                    r.otherRejections += 1
                }
                if !stopping { reserve(c) }
            default:
                if started { r.errors += 1 }
            }
        }
        lc.onOpen = { c in reserve(c) }
        var tStart = Timestamp.monotonicSeconds()
        connect(lc, connections, path: "/ws", tokens: tokens)
        _ = lc.run(timeout: duration + 60) {
            let now = Timestamp.monotonicSeconds()
            if !started && lc.openCount == connections {
                started = true
                tStart = now
            }
            if started && now - tStart >= duration { stopping = true }
            return stopping && outstanding == 0 || (lc.connectingCount == 0 && lc.failedCount > 0 && !started)
        }
        r.seconds = Timestamp.monotonicSeconds() - tStart
        (r.p50, r.p99, _) = millis(latencies)
        return r
    }
}
