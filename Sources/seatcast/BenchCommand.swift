import ArgumentParser
import Foundation
import SeatcastClient
import SeatcastCore
import SeatcastPostgres

/// `seatcast bench SCENARIO`: load against a running server; scripts/bench.sh runs them all.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks against a running server: fanout, reserves, best, stampede, idle, storm (see BENCHMARKS.md).")

    @OptionGroup var server: ServerOptions
    @Argument(help: "fanout | reserves | best | stampede | idle | storm") var scenario: String
    @Option(help: "Trip to use (a fresh one per run).") var trip: String
    @Option(name: .customLong("server-pid"), help: "Server process id, for CPU and memory readings.") var serverPid: Int32?
    @Option(help: "fanout: subscribers.") var subscribers = 2000
    @Option(help: "fanout: seat changes.") var events = 1000
    @Option(help: "fanout: seat changes per second.") var rate: Double = 200
    @Option(help: "fanout: run this many seconds (events = rate x seconds) instead of --events.") var seconds: Double?
    @Option(help: "reserves/best/stampede/idle: connections.") var connections = 64
    @Option(help: "reserves: requests in flight per connection.") var inflight = 8
    @Option(help: "reserves/best: seconds.") var duration: Double = 10
    @Option(help: "best: seats per best-available reserve.") var count = 2
    @Flag(inversion: .prefixedNo, help: "best: seats side by side (--no-together: anywhere).") var together = true
    @Option(help: "stampede: seats contended.") var seatCount = 10
    @Option(help: "stampede: runs over the same connections; with more than one, a summary line follows.")
    var `repeat` = 1
    @Option(help: "Connection handshakes in flight at once (the rest wait their turn).")
    var handshakes = LoadClient.defaultHandshakes
    @Option(name: .customLong("target-ms"), help: "stampede: the summary counts runs within this many ms.")
    var targetMs: Double = 50
    @Option(help: "storm: clients that open the trip (compact).") var clients = 10_000
    @Option(help: "storm: clients that then reserve random seats.") var actors = 2000
    @Option(name: .customLong("join-window"), help: "storm: seconds over which the clients connect.") var joinWindow: Double = 5
    @Option(name: .customLong("sale-seconds"), help: "storm: seconds the actors reserve and release.") var saleSeconds: Double = 30
    @Option(name: .customLong("database-url"), help: "storm: the server's database, to check every client's map against it (default: $DATABASE_URL).")
    var databaseURL: String?
    @Option(name: .customLong("token-secret"),
            help: "The server's token secret: each load client then connects with a buyer token of its own (sub bench-N), as against a server run with --token-secret.")
    var tokenSecret: String?

    func validate() throws {
        if let tokenSecret, tokenSecret.isEmpty { throw ValidationError("--token-secret must not be empty") }
    }

    func run() throws {
        let tokens = tokenSecret.map { BenchTokens(secret: $0) }
        let url = try server.resolved()
        if scenario == "storm" {
            guard let db = databaseURL ?? ProcessInfo.processInfo.environment["DATABASE_URL"] else {
                throw ValidationError("storm needs --database-url (or DATABASE_URL) to check the clients' maps")
            }
            let trip = self.trip
            print(Bench.storm(url: url, trip: trip, clients: clients, actors: actors, joinWindow: joinWindow,
                              duration: saleSeconds, serverPid: serverPid, handshakes: handshakes, tokens: tokens) {
                guard let conn = try? PGConnection(db), let snap = try? SeatStore(conn).snapshot(tripId: trip),
                      CompactSnapshot.isGrid(snap) else { return nil }
                let status = snap.seats.map { s -> UInt8 in
                    switch s.status {
                    case .available: return UInt8(ascii: "a")
                    case .held: return UInt8(ascii: "h")
                    case .booked: return UInt8(ascii: "b")
                    }
                }
                return (snap.seq, status)
            })
            return
        }
        let seats = Bench.seats(url: url.with(token: tokens?.token(0)), trip: trip)
        guard !seats.isEmpty else { throw ValidationError("trip \(trip) has no seats (does it exist?)") }
        switch scenario {
        case "fanout":
            let n = seconds.map { Int(($0 * rate).rounded()) } ?? events
            guard n >= 1, rate > 0, subscribers >= 1 else { throw ValidationError("fanout needs events, rate and subscribers > 0") }
            print(Bench.fanout(url: url, trip: trip, seats: seats, subscribers: subscribers, events: n, rate: rate,
                               serverPid: serverPid, handshakes: handshakes, tokens: tokens))
        case "reserves":
            print(Bench.reserves(url: url, trip: trip, seats: seats, connections: connections, inflight: inflight,
                                 duration: duration, handshakes: handshakes, tokens: tokens))
        case "best":
            guard (1...Limits().maxSeatsPerRequest).contains(count) else {
                throw ValidationError("--count must be 1...\(Limits().maxSeatsPerRequest)")
            }
            print(Bench.best(url: url, trip: trip, connections: connections, count: count, together: together,
                             duration: duration, handshakes: handshakes, tokens: tokens))
        case "stampede":
            guard `repeat` >= 1 else { throw ValidationError("--repeat must be at least 1") }
            let runs = Bench.stampede(url: url, trip: trip, seats: Array(seats.prefix(seatCount)), clients: connections,
                                      runs: `repeat`, handshakes: handshakes, tokens: tokens) { print($0); fflush(nil) }
            if runs.count > 1 { print(Bench.StampedeSummary(runs: runs, targetMilliseconds: targetMs)) }
        case "idle":
            guard let serverPid else { throw ValidationError("idle needs --server-pid") }
            print(Bench.idle(url: url, trip: trip, connections: connections, serverPid: serverPid,
                             handshakes: handshakes, tokens: tokens))
        default:
            throw ValidationError("unknown scenario \(scenario)")
        }
    }
}
