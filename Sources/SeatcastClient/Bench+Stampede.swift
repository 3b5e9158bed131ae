import Foundation
import SeatcastCore

// Owns: the stampede (many clients reserve the same seats at one moment) and idle-memory
// benchmarks of `seatcast bench` (split from Bench.swift by size).
extension Bench {
    // MARK: Stampede

    public struct StampedeResult: CustomStringConvertible {
        public var clients = 0, seats = 0, replies = 0, reserved = 0, rejected = 0, errors = 0
        public var milliseconds = 0.0
        public var description: String {
            String(format: "stampede: %d clients on %d seats: all %d replies within %.1f ms of the first request (%d reserved, %d rejected, %d errors)",
                   clients, seats, replies, milliseconds, reserved, rejected, errors)
        }
    }

    public struct StampedeSummary: CustomStringConvertible {
        public var runs: [StampedeResult]
        public var targetMilliseconds: Double
        public init(runs: [StampedeResult], targetMilliseconds: Double = 50) {
            self.runs = runs
            self.targetMilliseconds = targetMilliseconds
        }
        public var description: String {
            let ms = runs.map(\.milliseconds).sorted()
            guard !ms.isEmpty else { return "stampede: no runs" }
            let median = ms.count % 2 == 1 ? ms[ms.count / 2] : (ms[ms.count / 2 - 1] + ms[ms.count / 2]) / 2
            let within = ms.filter { $0 <= targetMilliseconds }.count
            let clean = runs.filter { $0.replies == $0.clients && $0.reserved == $0.seats && $0.errors == 0 }.count
            return String(format: "stampede x%d: median %.1f ms, min %.1f ms, max %.1f ms; %d of %d runs within %.0f ms; %d of %d runs fully answered (%d reserved each, no errors)",
                          ms.count, median, ms.first!, ms.last!, within, ms.count, targetMilliseconds, clean, ms.count, runs.first?.seats ?? 0)
        }
    }

    /// `clients` connections, all open, each reserving one of `seats` at the same moment;
    /// `runs` times over the same connections. After each run the winners release their
    /// seats (and the next run waits for that), so every run starts from free seats.
    /// `report` sees each run as it ends.
    public static func stampede(url: WebSocketURL, trip: String, seats: [String], clients: Int, runs: Int = 1,
                                handshakes: Int = LoadClient.defaultHandshakes, tokens: BenchTokens? = nil,
                                report: (StampedeResult) -> Void = { _ in }) -> [StampedeResult] {
        let lc = LoadClient(url: url, maxHandshakes: handshakes)
        var r = StampedeResult()
        var releasing = false
        var released = 0
        var winners: [Int] = []
        var last = 0.0
        lc.onMessage = { c, b in
            if releasing {
                released += 1
                return
            }
            r.replies += 1
            last = Timestamp.monotonicSeconds()
            switch FrameScan.string("type", in: b) {
            case "reserved":
                r.reserved += 1
                winners.append(c)
            case "rejected": r.rejected += 1
            default: r.errors += 1
            }
        }
        connect(lc, clients, path: "/ws", tokens: tokens)
        _ = lc.run(timeout: Swift.max(60, Double(clients) / 50)) {
            lc.openCount >= clients || (lc.connectingCount == 0 && lc.failedCount > 0)
        }
        var results: [StampedeResult] = []
        for _ in 0..<runs {
            r = StampedeResult()
            r.clients = clients
            r.seats = seats.count
            winners = []
            let t0 = Timestamp.monotonicSeconds()
            for c in 0..<clients {
                lc.send(c, #"{"type":"reserve","tripId":"\#(trip)","seats":["\#(seats[c % seats.count])"],"hold":"\#(hold(c))"}"#)
            }
            _ = lc.run(timeout: 30) { r.replies >= clients }
            r.milliseconds = (last - t0) * 1000
            results.append(r)
            report(r)
            // Free the seats for the next run, then let the server settle.
            releasing = true
            released = 0
            for c in winners {
                lc.send(c, #"{"type":"release","tripId":"\#(trip)","seats":["\#(seats[c % seats.count])"],"hold":"\#(hold(c))"}"#)
            }
            _ = lc.run(timeout: 30) { released >= winners.count }
            _ = lc.run(timeout: 0.2) { false }
            releasing = false
        }
        return results
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
    public static func idle(url: WebSocketURL, trip: String, connections: Int, serverPid: Int32,
                            handshakes: Int = LoadClient.defaultHandshakes, tokens: BenchTokens? = nil) -> IdleResult {
        let lc = LoadClient(url: url, maxHandshakes: handshakes)
        var snapshots = 0
        lc.onMessage = { _, b in if FrameScan.isSnapshot(b) { snapshots += 1 } }
        // Warm up allocator and trip state with a small batch first.
        connect(lc, 100, path: "/ws/trips/\(trip)", tokens: tokens)
        _ = lc.run(timeout: 30) { snapshots >= 100 }
        let before = rssBytes(pid: serverPid) ?? 0
        connect(lc, connections, path: "/ws/trips/\(trip)", tokens: tokens)
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
