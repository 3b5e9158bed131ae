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

    static func hold(_ i: Int) -> String { "bench-hold-\(String(format: "%012d", i))" }

    /// The seat numbers of a trip, from its snapshot.
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
        public var description: String {
            var s = "fanout: \(subscribers) subscribers, \(events) events, \(deliveries)/\(expected) deliveries in "
            s += String(format: "%.2f s; latency request->subscriber p50 %.2f ms, p99 %.2f ms, max %.2f ms", seconds, p50, p99, max)
            if let c = serverCPU {
                s += String(format: "; server CPU %.2f s = %.2f us per delivered event", c, c * 1e6 / Double(Swift.max(deliveries, 1)))
            }
            return s
        }
    }

    /// `subscribers` clients subscribe to `trip`; one actor changes seats at `rate` changes
    /// per second (reserve every seat in turn, then release them); every subscriber's
    /// receipt of each event is timed from the actor's request.
    public static func fanout(url: WebSocketURL, trip: String, seats: [String], subscribers: Int, events: Int,
                              rate: Double, serverPid: Int32?) -> FanoutResult {
        let lc = LoadClient(url: url)
        var snapshots = 0
        var sent: [String: Double] = [:]
        var latencies: [Double] = []
        latencies.reserveCapacity(subscribers * events)
        var actor = -1
        lc.onMessage = { i, b in
            if i == actor { return }
            guard b.count > 9 else { return }
            // {"type":"seat_locked" / "seat_released" / "snapshot"
            switch b[14] {
            case UInt8(ascii: "l"), UInt8(ascii: "r"):
                guard let seat = FrameScan.string("seatNo", in: b) else { return }
                let key = (b[14] == UInt8(ascii: "l") ? "L" : "R") + seat
                if let t = sent[key] { latencies.append(Timestamp.monotonicSeconds() - t) }
            default:
                if FrameScan.isSnapshot(b) { snapshots += 1 }
            }
        }
        lc.connect(subscribers, path: "/ws/trips/\(trip)")
        actor = lc.connect(1, path: "/ws")
        _ = lc.run(timeout: 120) { snapshots >= subscribers && lc.openCount >= subscribers + 1 }
        var r = FanoutResult()
        r.subscribers = snapshots
        r.events = events
        r.expected = events * snapshots
        let cpu0 = serverPid.flatMap(cpuSeconds)
        let t0 = Timestamp.monotonicSeconds()
        var next = 0
        _ = lc.run(timeout: Double(events) / rate + 60) {
            let now = Timestamp.monotonicSeconds()
            while next < events && Double(next) / rate <= now - t0 {
                let seat = seats[next % seats.count]
                let reserving = (next / seats.count) % 2 == 0
                sent[(reserving ? "L" : "R") + seat] = Timestamp.monotonicSeconds()
                lc.send(actor, reserving
                    ? #"{"type":"reserve","tripId":"\#(trip)","seats":["\#(seat)"],"hold":"\#(hold(0))"}"#
                    : #"{"type":"release","tripId":"\#(trip)","seats":["\#(seat)"],"hold":"\#(hold(0))"}"#)
                next += 1
            }
            return next == events && latencies.count >= r.expected
        }
        r.seconds = Timestamp.monotonicSeconds() - t0
        if let c0 = cpu0, let c1 = serverPid.flatMap(cpuSeconds) { r.serverCPU = c1 - c0 }
        r.deliveries = latencies.count
        let sorted = latencies.map { $0 * 1000 }.sorted()
        r.p50 = percentile(sorted, 0.5)
        r.p99 = percentile(sorted, 0.99)
        r.max = sorted.last ?? .nan
        return r
    }

    // MARK: Reserves per second

    public struct ThroughputResult: CustomStringConvertible {
        public var connections = 0, reserves = 0, releases = 0, rejected = 0, errors = 0
        public var seconds = 0.0
        public var description: String {
            String(format: "reserves: %d connections, %d reserves + %d releases in %.2f s = %.0f reserves/s (%.0f writes/s), %d rejected, %d errors",
                   connections, reserves, releases, seconds, Double(reserves) / seconds, Double(reserves + releases) / seconds, rejected, errors)
        }
    }

    /// Each connection owns its own seats and keeps `inflight` of them cycling through
    /// reserve -> reserved -> release -> released -> reserve for `duration` seconds.
    public static func reserves(url: WebSocketURL, trip: String, seats: [String], connections: Int, inflight: Int,
                                duration: Double) -> ThroughputResult {
        let lc = LoadClient(url: url)
        let perConn = seats.count / connections
        precondition(perConn >= inflight, "not enough seats: \(seats.count) for \(connections) x \(inflight)")
        var r = ThroughputResult()
        r.connections = connections
        var stopping = false
        var outstanding = 0
        func reserve(_ c: Int, _ seat: String) {
            outstanding += 1
            lc.send(c, #"{"type":"reserve","tripId":"\#(trip)","seats":["\#(seat)"],"hold":"\#(hold(c))"}"#)
        }
        lc.onMessage = { c, b in
            outstanding -= 1
            guard let type = FrameScan.string("type", in: b) else { return }
            let seat = FrameScan.firstString("seats", in: b).map(String.init) ?? ""
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
        var started = false
        var tStart = t0
        lc.connect(connections, path: "/ws")
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
        return r
    }

    // MARK: Stampede

    public struct StampedeResult: CustomStringConvertible {
        public var clients = 0, seats = 0, replies = 0, reserved = 0, rejected = 0, errors = 0
        public var milliseconds = 0.0
        public var description: String {
            String(format: "stampede: %d clients on %d seats: all %d replies within %.1f ms of the first request (%d reserved, %d rejected, %d errors)",
                   clients, seats, replies, milliseconds, reserved, rejected, errors)
        }
    }

    /// `clients` connections, all open, each reserving one of `seats` at the same moment.
    public static func stampede(url: WebSocketURL, trip: String, seats: [String], clients: Int) -> StampedeResult {
        let lc = LoadClient(url: url)
        var r = StampedeResult()
        r.clients = clients
        r.seats = seats.count
        var last = 0.0
        lc.onMessage = { _, b in
            r.replies += 1
            last = Timestamp.monotonicSeconds()
            switch FrameScan.string("type", in: b) {
            case "reserved": r.reserved += 1
            case "rejected": r.rejected += 1
            default: r.errors += 1
            }
        }
        lc.connect(clients, path: "/ws")
        _ = lc.run(timeout: 60) { lc.openCount >= clients }
        let t0 = Timestamp.monotonicSeconds()
        for c in 0..<clients {
            lc.send(c, #"{"type":"reserve","tripId":"\#(trip)","seats":["\#(seats[c % seats.count])"],"hold":"\#(hold(c))"}"#)
        }
        _ = lc.run(timeout: 30) { r.replies >= clients }
        r.milliseconds = (last - t0) * 1000
        return r
    }

    // MARK: Idle memory

    public struct IdleResult: CustomStringConvertible {
        public var connections = 0
        public var bytesPerConnection = 0.0
        public var description: String {
            String(format: "idle: %d subscribed idle connections cost %.0f bytes each (server RSS delta / connections)",
                   connections, bytesPerConnection)
        }
    }

    /// Server RSS growth per idle, subscribed connection.
    public static func idle(url: WebSocketURL, trip: String, connections: Int, serverPid: Int32) -> IdleResult {
        let lc = LoadClient(url: url)
        var snapshots = 0
        lc.onMessage = { _, b in if FrameScan.isSnapshot(b) { snapshots += 1 } }
        // Warm up allocator and trip state with a small batch first.
        lc.connect(100, path: "/ws/trips/\(trip)")
        _ = lc.run(timeout: 30) { snapshots >= 100 }
        let before = rssBytes(pid: serverPid) ?? 0
        lc.connect(connections, path: "/ws/trips/\(trip)")
        _ = lc.run(timeout: 120) { snapshots >= connections + 100 }
        // Let the server settle: nothing is in flight once every snapshot arrived.
        _ = lc.run(timeout: 0.5) { false }
        let after = rssBytes(pid: serverPid) ?? 0
        var r = IdleResult()
        r.connections = snapshots - 100
        r.bytesPerConnection = Double(after - before) / Double(max(r.connections, 1))
        return r
    }
}
