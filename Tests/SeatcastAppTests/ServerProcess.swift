import Foundation
import SeatcastCore
import SeatcastTesting
#if canImport(Glibc)
import Glibc
#endif

// Helpers for tests that run real `seatcast` processes: the executable, a served
// instance, and a background reserve/release load.

/// The `seatcast` executable built next to this test bundle.
let seatcastExecutable: String = {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("seatcast").path
}()

/// Runs a `seatcast` command against the test database (or what `env` says) to its end.
func runSeatcast(_ args: [String], env extra: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
    var env = ProcessInfo.processInfo.environment
    env["DATABASE_URL"] = TestDatabase.shared.url
    for (k, v) in extra { env[k] = v }
    return try Subprocess.run([seatcastExecutable] + args, environment: env, timeout: 60)
}

/// Runs a `seatcast` command against `databaseURL` and throws unless it exits 0.
@discardableResult
func seatcastCommand(_ args: [String], databaseURL: String) throws -> String {
    let r = try runSeatcast(args, env: ["DATABASE_URL": databaseURL])
    guard r.status == 0 else { throw TestFailure("seatcast \(args.joined(separator: " ")) exited \(r.status): \(r.err)") }
    return r.out
}

/// A `seatcast serve --port 0` child process. Its standard error goes to a log file
/// (so a chatty server never blocks on a full pipe); `log` reads it for failure messages.
final class ServerProcess: RunningServer {
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

    /// SIGTERM, then waits for the exit status.
    func terminate(timeout: Double = 30) throws -> Int32 {
        process.signal(SIGTERM)
        return try process.wait(timeout: timeout).status
    }
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
            guard request(reserveJSON(tripId, [seat], hold: hold, id: "lr\(n)"), id: "lr\(n)"),
                  request(releaseJSON(tripId, hold: hold, seats: [seat], id: "ll\(n)"), id: "ll\(n)") else { return }
            // Pacing, not synchronisation: two messages per round stay well under 50/s.
            usleep(40_000)
        }
    }

    /// False when the connection is gone.
    private func request(_ text: String, id: String) -> Bool {
        do {
            try client.send(text)
            let r = try client.reply(id: id, timeout: 5)
            var key = r.type ?? "?"
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
