import Foundation
import SeatcastCore
import SeatcastTesting
import Testing

/// The built `seatcast` executable next to the test bundle.
let seatcastBinary: String = {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("seatcast").path
}()

func runSeatcast(_ args: [String], env extra: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
    var env = ProcessInfo.processInfo.environment
    env["DATABASE_URL"] = TestDatabase.shared.url
    for (k, v) in extra { env[k] = v }
    return try Subprocess.run([seatcastBinary] + args, environment: env)
}

@Suite(.timeLimit(.minutes(2)))
struct ProcessTests {
    /// `seatcast migrate`, `trip create` and `trip list` work against the database and refuse bad input with a clear message.
    @Test func cli() throws {
        let m = try runSeatcast(["migrate"])
        #expect(m.status == 0)
        #expect(m.out.contains("schema up to date"))
        let id = TestDatabase.uniqueTripId("cli")
        let c = try runSeatcast(["trip", "create", id, "--name", "CLI trip", "--rows", "3", "--cols", "27"])
        #expect(c.status == 0, "\(c.err)")
        #expect(c.out.contains("81 seats"))
        let snap = try TestDatabase.shared.snapshot(id)
        #expect(snap.seats.first?.seatNo == "1-1")
        #expect(snap.seats.last?.seatNo == "3-27")
        let again = try runSeatcast(["trip", "create", id, "--name", "CLI trip", "--rows", "3", "--cols", "2"])
        #expect(again.status != 0)
        #expect(again.err.contains("already exists"))
        let bad = try runSeatcast(["trip", "create", "bad id!", "--name", "x", "--rows", "1", "--cols", "1"])
        #expect(bad.status != 0)
        #expect(bad.err.contains("trip id"))
        let list = try runSeatcast(["trip", "list"])
        #expect(list.status == 0)
        #expect(list.out.contains("\(id)\t81/81 available\tCLI trip"))
        let nodb = try runSeatcast(["trip", "list"], env: ["DATABASE_URL": ""])
        #expect(nodb.status != 0)
        #expect(nodb.err.contains("DATABASE_URL"))
    }

    /// `seatcast serve` serves a WebSocket, and on SIGTERM closes every client with 1001 and exits 0.
    @Test func serveAndGracefulStop() throws {
        let trip = try TestDatabase.shared.createTrip()
        var env = ProcessInfo.processInfo.environment
        env["DATABASE_URL"] = TestDatabase.shared.url
        let p = try Subprocess([seatcastBinary, "serve", "--port", "0", "--host", "127.0.0.1",
                                "--public-dir", TestDatabase.packageRoot + "/Public"], environment: env)
        // The "serving on" line carries the port.
        let line = p.readLine() ?? ""
        let port = line.range(of: "127.0.0.1:").flatMap { Int(line[$0.upperBound...].prefix { $0.isNumber }) }
        #expect(port != nil, "no port in \(line)")
        guard let port else { return }
        let c = try WSClient(port: port, path: "/ws/trips/\(trip)")
        _ = try c.next(type: "snapshot")
        try c.send("reserve \(trip) 1A")
        _ = try c.next(type: "reserved")
        p.signal(SIGTERM)
        #expect(try c.waitForClose(timeout: 10) == 1001)
        #expect(try p.wait(timeout: 20).status == 0)
    }

    /// docker-compose.yml parses (Debian's docker-compose, no engine needed) and declares both services with healthchecks.
    @Test func composeFileIsValid() throws {
        let root = TestDatabase.packageRoot
        let out = try TestDatabase.shell(["docker-compose", "-f", root + "/docker-compose.yml", "config"])
        #expect(out.contains("db:"))
        #expect(out.contains("seatcast:"))
        #expect(out.components(separatedBy: "healthcheck:").count == 3)
        #expect(out.contains("condition: service_healthy"))
        #expect(FileManager.default.fileExists(atPath: root + "/Dockerfile"))
    }
}
