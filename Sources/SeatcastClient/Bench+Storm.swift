import Foundation
import SeatcastCore

extension Bench {
    /// What `storm` measured.
    public struct StormResult: CustomStringConvertible {
        public var clients = 0
        public var joined = 0
        public var connectFailures = 0
        /// From the first connect to the last client's snapshot, seconds.
        public var lastSnapshot = 0.0
        public var joinP50 = 0.0, joinP99 = 0.0, joinMax = 0.0
        public var snapshotBytes = 0
        public var fullSnapshots = 0
        public var actors = 0
        public var seconds = 0.0
        public var attempts = 0, reserved = 0, rejected = 0, released = 0, errors = 0
        public var events = 0
        public var gaps = 0
        public var resyncs = 0
        public var closed = 0
        public var serverPeakRSS: Int?
        public var databaseSeq: Int64 = -1
        public var mapsEqual = 0
        public var mapsDiffering = 0

        public var description: String {
            let mb = serverPeakRSS.map { String(format: "%.0f MB", Double($0) / 1_048_576) } ?? "?"
            return "storm: \(joined)/\(clients) clients joined (compact), last snapshot at \(String(format: "%.2f", lastSnapshot)) s, "
                + "join->snapshot p50 \(String(format: "%.0f", joinP50)) ms p99 \(String(format: "%.0f", joinP99)) ms "
                + "max \(String(format: "%.0f", joinMax)) ms, snapshot \(snapshotBytes) bytes"
                + (fullSnapshots > 0 ? " (\(fullSnapshots) full!)" : "")
                + "; \(actors) actors \(String(format: "%.1f", seconds)) s random seats: \(attempts) reserves, \(reserved) reserved, "
                + "\(rejected) rejected, \(released) released, \(errors) errors; \(events) events delivered, \(gaps) gaps, "
                + "\(resyncs) resync snapshots, \(closed) closed, \(connectFailures) connect failures; server RSS peak \(mb); "
                + "maps equal to the database at seq \(databaseSeq): \(mapsEqual)/\(joined)"
                + (mapsDiffering > 0 ? " (\(mapsDiffering) differ)" : "")
        }
    }

    /// The on-sale storm: `clients` open the trip (`?compact=1`), spread evenly over
    /// `joinWindow` seconds; then the first `actors` of them, for `duration` seconds, each
    /// reserve a random seat their own map shows available (one request in flight each) and
    /// release it when they get it. Best-available (`count`) is not used: this server does
    /// not have it. Every client keeps its map as one status byte per seat (the compact
    /// snapshot, then each event applied in `seq` order). At the end, when the run is quiet,
    /// `database()` gives the trip's status string and `seq` as the database has it, and
    /// every client's map is compared with it. Server RSS peak: VmHWM of `serverPid`.
    public static func storm(url: WebSocketURL, trip: String, clients: Int, actors: Int, joinWindow: Double,
                             duration: Double, serverPid: Int32?, handshakes: Int = LoadClient.defaultHandshakes,
                             tokens: BenchTokens? = nil, database: () -> (seq: Int64, status: [UInt8])?) -> StormResult {
        let lc = LoadClient(url: url, maxHandshakes: handshakes)
        var r = StormResult()
        r.clients = clients
        r.actors = min(actors, clients)
        var maps = [[UInt8]](repeating: [], count: clients)
        var seqs = [Int64](repeating: -1, count: clients)
        var joinStart = [Double](repeating: 0, count: clients)
        var joinTimes: [Double] = []
        joinTimes.reserveCapacity(clients)
        var cols = 0
        var running = false
        var stopping = false
        var outstanding = 0
        var rng = SystemRandomNumberGenerator()
        var pending = [String?](repeating: nil, count: clients)
        var lastMessage = 0.0
        let statusNeedle = Array("\"status\":\"".utf8)

        func attempt(_ i: Int) {
            guard !stopping, !maps[i].isEmpty else { return }
            var k = Int.random(in: 0..<maps[i].count, using: &rng)
            var tries = 0
            while maps[i][k] != UInt8(ascii: "a") && tries < 64 {
                k = Int.random(in: 0..<maps[i].count, using: &rng)
                tries += 1
            }
            let seat = SeatNumbering.seatNo(row: k / cols + 1, col: k % cols + 1, cols: cols)
            pending[i] = seat
            outstanding += 1
            r.attempts += 1
            lc.send(i, #"{"type":"reserve","tripId":"\#(trip)","seats":["\#(seat)"],"hold":"\#(hold(i))"}"#)
        }

        let t0 = Timestamp.monotonicSeconds()
        lc.onMessage = { i, b in
            guard b.count > 14 else { return }
            let now = Timestamp.monotonicSeconds()
            lastMessage = now
            if b[9] == UInt8(ascii: "s") && b[10] == UInt8(ascii: "e") && b[13] == UInt8(ascii: "_") {
                // An event: apply it in seq order.
                guard let seq = FrameScan.seq(in: b), !maps[i].isEmpty else { return }
                if seq <= seqs[i] { return }
                if seq != seqs[i] + 1 {
                    r.gaps += 1
                    seqs[i] = Int64.max  // this map can no longer be trusted; counted as differing
                    return
                }
                guard let no = FrameScan.string("seatNo", in: b), let p = SeatNumbering.position(of: String(no), cols: cols) else {
                    r.errors += 1
                    return
                }
                // {"type":"seat_locked / seat_released / seat_booked: byte 14 tells them apart.
                let code: UInt8 = b[14] == UInt8(ascii: "l") ? UInt8(ascii: "h") : b[14] == UInt8(ascii: "r") ? UInt8(ascii: "a")
                    : UInt8(ascii: "b")
                maps[i][(p.row - 1) * cols + (p.col - 1)] = code
                seqs[i] = seq
                r.events += 1
            } else if FrameScan.isSnapshot(b) {
                guard b.count > 30, FrameScan.find(Array("\"compact\":true".utf8), in: b) != nil,
                      let s = FrameScan.find(statusNeedle, in: b), let c = FrameScan.int("cols", in: b),
                      let rows = FrameScan.int("rows", in: b), let seq = FrameScan.seq(in: b) else {
                    r.fullSnapshots += 1
                    return
                }
                cols = Int(c)
                let n = Int(rows) * cols
                guard s + n <= b.count else { r.errors += 1; return }
                let first = maps[i].isEmpty
                maps[i] = Array(UnsafeRawBufferPointer(rebasing: b[s..<(s + n)]))
                seqs[i] = seq
                if first {
                    joinTimes.append(now - joinStart[i])
                    r.lastSnapshot = now - t0
                    r.snapshotBytes = b.count
                    if running && i < r.actors { attempt(i) }
                } else {
                    r.resyncs += 1
                }
            } else if b[9] == UInt8(ascii: "r") {
                // reserved / released / rejected: the actor's own answers.
                outstanding -= 1
                switch b[11] {
                case UInt8(ascii: "s"):
                    r.reserved += 1
                    outstanding += 1
                    lc.send(i, #"{"type":"release","tripId":"\#(trip)","seats":["\#(pending[i] ?? "")"],"hold":"\#(hold(i))"}"#)
                case UInt8(ascii: "l"):
                    r.released += 1
                    attempt(i)
                default:
                    r.rejected += 1
                    attempt(i)
                }
            } else if b[9] == UInt8(ascii: "e") {
                outstanding -= 1
                r.errors += 1
                attempt(i)
            }
        }

        // Join: clients connect spread evenly over the window.
        var started = 0
        let path = "/ws/trips/\(trip)?compact=1"
        _ = lc.run(timeout: joinWindow + 120) {
            let now = Timestamp.monotonicSeconds()
            let due = joinWindow <= 0 ? clients : min(clients, Int(Double(clients) * (now - t0) / joinWindow) + 1)
            if due > started {
                let first = connect(lc, due - started, path: path, tokens: tokens)
                for k in first..<(first + due - started) { joinStart[k] = now }
                started = due
            }
            return started == clients && (joinTimes.count + lc.failedCount >= clients || lc.connectingCount == 0 && joinTimes.count + lc.closedCount >= clients)
        }
        r.joined = joinTimes.count
        r.connectFailures = lc.failedCount
        (r.joinP50, r.joinP99, r.joinMax) = millis(joinTimes)

        // The sale: actors reserve and release for `duration`.
        running = true
        let tSale = Timestamp.monotonicSeconds()
        for i in 0..<r.actors { attempt(i) }
        _ = lc.run(timeout: duration + 60) {
            if Timestamp.monotonicSeconds() - tSale >= duration { stopping = true }
            return stopping && outstanding <= 0
        }
        r.seconds = Timestamp.monotonicSeconds() - tSale

        // Quiet: every client has the database's last seq (or 10 s pass without a message).
        let db = database()
        r.databaseSeq = db?.seq ?? -1
        if let db {
            lastMessage = Timestamp.monotonicSeconds()
            _ = lc.run(timeout: 120) {
                var behind = false
                for i in 0..<clients where !maps[i].isEmpty && seqs[i] < db.seq { behind = true; break }
                return !behind || Timestamp.monotonicSeconds() - lastMessage > 10
            }
            for i in 0..<clients where !maps[i].isEmpty {
                if seqs[i] == db.seq && maps[i] == db.status { r.mapsEqual += 1 } else { r.mapsDiffering += 1 }
            }
        }
        r.closed = lc.closedCount
        r.serverPeakRSS = serverPid.flatMap(peakRSSBytes)
        return r
    }

    /// Peak resident memory of a process (VmHWM), bytes.
    public static func peakRSSBytes(pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }.map { $0 * 1024 }
        }
        return nil
    }
}
