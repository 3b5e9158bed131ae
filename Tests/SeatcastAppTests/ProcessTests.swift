import Foundation
import SeatcastCore
import SeatcastTesting
import Testing

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

    /// `seatcast serve` on SIGTERM or SIGINT answers the requests it already took (no committed change goes unanswered), then closes every client with 1001 and exits 0.
    @Test(arguments: [SIGTERM, SIGINT])
    func serveAndGracefulStop(signal sig: Int32) throws {
        let trip = try TestDatabase.shared.createTrip()
        var env = ProcessInfo.processInfo.environment
        env["DATABASE_URL"] = TestDatabase.shared.url
        let p = try Subprocess([seatcastExecutable, "serve", "--port", "0", "--host", "127.0.0.1",
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
        // Requests in flight when the signal comes: 40 reserves, one seat each.
        let hold = "shutdown-hold-\(sig)-0000"
        let seats = (1...10).flatMap { r in ["A", "B", "C", "D"].map { "\(r)\($0)" } }.filter { $0 != "1A" }
        for (i, seat) in seats.enumerated() {
            try c.send(#"{"type":"reserve","tripId":"\#(trip)","seats":["\#(seat)"],"hold":"\#(hold)","id":"s\#(i)"}"#)
        }
        p.signal(sig)
        var answered: Set<String> = []
        while true {
            guard let text = try? c.nextText(timeout: 10) else { break }
            let j = try JSON.parse(text)
            if j["type"]?.stringValue == "reserved" { answered.formUnion(j["seats"]?.arrayValue?.compactMap(\.stringValue) ?? []) }
        }
        #expect(try c.waitForClose(timeout: 10) == 1001)
        #expect(try p.wait(timeout: 20).status == 0)
        // Every seat the database holds for this hold was answered `reserved` before the close.
        let held = try TestDatabase.shared.sql(
            "SELECT seat_no FROM seats WHERE trip_id = $1 AND hold_hash = sha256(convert_to($2, 'UTF8'))", [trip, hold])
        let inDB = Set((0..<held.rowCount).compactMap { held.string($0, 0) })
        #expect(inDB == answered, "held in the database but unanswered: \(inDB.subtracting(answered))")
    }

    /// `make run`'s script starts a private PostgreSQL, migrates, seeds the demo trip and serves; Ctrl-C (SIGINT to its process group) closes clients with 1001 and stops that PostgreSQL.
    @Test func runScriptCtrlC() throws {
        let home = "/tmp/seatcast-run-test-\(UInt32.random(in: 0...UInt32.max))"
        defer { _ = try? TestDatabase.shell([TestDatabase.packageRoot + "/scripts/pg.sh", "destroy", home + "/pg"]) }
        // A free port for the script's server (one picked at random may be in use).
        let port = try OwnedFD.boundTCP().port
        var env = ProcessInfo.processInfo.environment
        env["DATABASE_URL"] = nil
        env["PORT"] = String(port)
        env["SEATCAST_HOME"] = home
        env["SEATCAST_BIN"] = seatcastExecutable
        let run = try Subprocess([TestDatabase.packageRoot + "/scripts/run.sh"], environment: env, newProcessGroup: true)
        var out = ""
        while !out.contains("serving on") {
            guard let line = run.readLine(timeout: 60) else { break }
            out += line + "\n"
        }
        #expect(out.contains("websocat ws://127.0.0.1:\(port)/ws/trips/demo"), "\(out)")
        #expect(out.contains("serving on http://127.0.0.1:\(port)/"), "\(out)")
        let c = try WSClient(port: port, path: "/ws/trips/demo")
        let snap = try ClientMap(snapshot: try c.next(type: "snapshot"))
        #expect(snap.map.snapshot.seats.count == 48)
        #expect(snap.map.snapshot.seats.last?.seatNo == "12D")
        let data = try TestDatabase.shell([TestDatabase.packageRoot + "/scripts/pg.sh", "pgdata", home + "/pg"])
        #expect(FileManager.default.fileExists(atPath: data + "/postmaster.pid"))
        run.signalGroup(SIGINT)
        #expect(try c.waitForClose(timeout: 15) == 1001)
        let ended = try run.wait(timeout: 30)
        #expect(ended.err.contains("private PostgreSQL stopped"), "\(ended.err)")
        #expect(!FileManager.default.fileExists(atPath: data + "/postmaster.pid"), "the private PostgreSQL is still running")
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
