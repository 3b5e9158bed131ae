import Foundation
import SeatcastCore
import SeatcastTesting
import Testing

@Suite(.serialized, .timeLimit(.minutes(2)))
struct TerminalTests {
    /// websocat subscribed by URL prints the snapshot; typing `reserve TRIP 3A` prints the reply and the event, and other subscribers see seat_locked.
    @Test func websocat() throws {
        try TestServer.withTrip { server, trip in
            let (other, map) = try server.subscriber(trip)
            let ws = try Subprocess(["websocat", "-t", "ws://127.0.0.1:\(server.port)/ws/trips/\(trip)"], stdin: true)
            defer { ws.signal(SIGTERM) }
            guard let firstLine = ws.readLine() else {
                ws.signal(SIGTERM)
                Issue.record("websocat printed nothing: \((try? ws.wait(timeout: 5))?.err ?? "")")
                return
            }
            let first = try JSON.parse(firstLine)
            #expect(first["type"]?.stringValue == "snapshot")
            #expect(first["seq"]?.int64Value == map.seq)
            try ws.write("reserve \(trip) 3A\n")
            var types: [String] = []
            while types.count < 2, let line = ws.readLine() {
                let j = try JSON.parse(line)
                types.append(j["type"]?.stringValue ?? "")
                if j["type"]?.stringValue == "seat_locked" { #expect(j["seatNo"]?.stringValue == "3A") }
            }
            #expect(types.sorted() == ["reserved", "seat_locked"])
            let e = try other.next(type: "seat_locked")
            #expect(e["seatNo"]?.stringValue == "3A")
            try ws.write("bogus\n")
            let err = try JSON.parse(ws.readLine() ?? "")
            #expect(err["code"]?.stringValue == "unknown_type")
            ws.closeStdin()
        }
    }

    /// `seatcast watch` draws the live map in a real terminal (tmux) and redraws on events; `seatcast reserve` and `confirm` print their replies.
    @Test func watchInTmux() throws {
        try TestServer.withTrip { server, trip in
            let tmux = try startWatch(trip: trip, url: "ws://127.0.0.1:\(server.port)")
            defer { _ = try? TestDatabase.shell(tmux + ["kill-server"]) }
            func screenShows(_ text: String) throws -> String { try waitForScreen(tmux, text) }
            let start = try screenShows("48 available, 0 held, 0 booked")
            #expect(start.contains("  3A    3B       3C    3D"))
            #expect(start.contains("live"))

            let url = "ws://127.0.0.1:\(server.port)"
            let r = try runSeatcast(["reserve", trip, "3A", "3B", "--url", url])
            #expect(r.status == 0)
            let hold = try JSON.parse(r.out.trimmingCharacters(in: .whitespacesAndNewlines))["hold"]?.stringValue ?? ""
            let held = try screenShows("46 available, 2 held, 0 booked")
            #expect(held.contains("  3A*   3B*"))
            let c = try runSeatcast(["confirm", trip, hold, "3A", "--url", url])
            #expect(c.status == 0)
            #expect(try JSON.parse(c.out.trimmingCharacters(in: .whitespacesAndNewlines))["type"]?.stringValue == "confirmed")
            let booked = try screenShows("46 available, 1 held, 1 booked")
            #expect(booked.contains("  3A#   3B*"))
            let taken = try runSeatcast(["reserve", trip, "3A", "--url", url])
            #expect(taken.status == 1)
            #expect(taken.out.contains("seat_taken"))
        }
    }

    /// `seatcast watch` survives a server restart: it shows it is reconnecting, resumes, and then shows changes made while the server was away and after.
    @Test func watchReconnectsAndResumes() throws {
        let trip = try TestDatabase.shared.createTrip()
        // The first server takes a free port and the second listens on the same one (a port
        // picked at random could be a client connection's: EADDRINUSE).
        var server: TestServer? = try TestServer()
        let port = try #require(server?.port)
        defer { server?.stop() }
        let tmux = try startWatch(trip: trip, url: "ws://127.0.0.1:\(port)")
        defer { _ = try? TestDatabase.shell(tmux + ["kill-server"]) }
        func screenShows(_ text: String) throws -> String { try waitForScreen(tmux, text) }
        _ = try screenShows("48 available, 0 held, 0 booked    seq 0 ")
        server?.stop()
        server = nil
        _ = try screenShows("reconnecting")
        try TestDatabase.shared.sql("UPDATE seats SET status = 'booked', hold_hash = '\\x03'::bytea WHERE trip_id = $1 AND seat_no = '6B'", [trip])
        let restarted = try TestServer { $0.port = port }
        server = restarted
        // Row 6 as the renderer draws it: six columns a seat, the aisle after the second.
        let resumed = try screenShows("47 available, 0 held, 1 booked    seq 1 ")
        #expect(resumed.contains("  6A    6B#      6C    6D"), "6B booked while the server was away:\n\(resumed)")
        // Resumed, not resynced: the new server replayed the missed event and sent no snapshot.
        #expect(try restarted.metric("seatcast_snapshots_sent_total") == 0)
        try TestDatabase.shared.sql("UPDATE seats SET status = 'booked', hold_hash = '\\x03'::bytea WHERE trip_id = $1 AND seat_no = '6C'", [trip])
        let after = try screenShows("46 available, 0 held, 2 booked    seq 2 ")
        #expect(after.contains("  6A    6B#      6C#   6D"), "6B booked while away and 6C after:\n\(after)")
        #expect(after.contains("live"))
    }
}

/// Polls a tmux pane until it shows `text` (the terminal is redrawn asynchronously).
func waitForScreen(_ tmux: [String], _ text: String, timeout: Double = 15) throws -> String {
    let deadline = Date().addingTimeInterval(timeout)
    var screen = ""
    while Date() < deadline {
        screen = try TestDatabase.shell(tmux + ["capture-pane", "-p", "-t", "w"])
        if screen.contains(text) { return screen }
        usleep(20_000)
    }
    throw TestFailure("the terminal never showed \(text):\n\(screen)")
}

/// Runs `seatcast watch` in a detached tmux session "w" on a private tmux server; returns
/// the tmux command prefix for that server.
func startWatch(trip: String, url: String) throws -> [String] {
    let tmux = ["tmux", "-L", "seatcast-test-\(UInt32.random(in: 0...UInt32.max))"]
    try TestDatabase.shell(tmux + ["new-session", "-d", "-s", "w", "-x", "120", "-y", "40",
                                   "\(seatcastExecutable) watch \(trip) --url \(url)"])
    return tmux
}
