import Foundation
import SeatcastCore
import SeatcastPostgres
import SeatcastTesting
import Testing

/// A `seatcast serve` process whose PostgreSQL (a private cluster, never the shared test
/// database) is stopped and started again under load: the server stays up, answers
/// `unavailable` and 503 meanwhile, then recovers, and every subscriber converges on the
/// database, including a change made straight in SQL while the listener was away.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct DatabaseRestartTests {
    /// Reserves with a fresh id until one gets an answer for which `accept` holds, or the deadline passes.
    private func pollReserve(_ c: WSClient, _ trip: String, seat: String, hold: String, within timeout: Double,
                             followers: [SeatFollower], until accept: (JSON) -> Bool) throws -> (JSON, Int) {
        let deadline = Date().addingTimeInterval(timeout)
        var n = 0
        var last: JSON?
        while Date() < deadline {
            n += 1
            let id = "probe-\(UInt32.random(in: 0...UInt32.max))"
            try c.send(reserveJSON(trip, [seat], hold: hold, id: id))
            let r = try c.reply(id: id, timeout: 5)
            last = r
            if accept(r) { return (r, n) }
            for f in followers { try f.drain() }
            usleep(50_000) // poll interval: stays well under the per-connection rate limit
        }
        throw TestFailure("no acceptable reserve reply within \(timeout)s after \(n) tries; last \(last?.compact ?? "none")")
    }

    /// GETs /healthz until it answers `status`, or the deadline passes; returns the number of tries.
    private func pollHealth(_ server: ServerProcess, _ status: Int, within timeout: Double,
                            followers: [SeatFollower]) throws -> Int {
        let deadline = Date().addingTimeInterval(timeout)
        var n = 0
        var last = "none"
        while Date() < deadline {
            n += 1
            do {
                let r = try server.http("GET", "/healthz")
                if r.status == status { return n }
                last = "\(r.status) \(r.body)"
            } catch {
                last = "\(error)"
            }
            for f in followers { try f.drain() }
            usleep(50_000) // poll interval
        }
        throw TestFailure("/healthz did not answer \(status) within \(timeout)s after \(n) tries; last \(last)")
    }

    /// PostgreSQL stopped and restarted under load: the server stays up, answers unavailable and 503 while it is down, recovers, and every subscriber converges on the database.
    @Test func serverSurvivesDatabaseRestartAndSubscribersConverge() throws {
        let start = Date()
        let root = TestDatabase.packageRoot
        let pg = root + "/scripts/pg.sh"
        let dir = "/tmp/sc-restart-\(UInt32.random(in: 0...UInt32.max))"
        let port = String(5460 + Int.random(in: 0..<400))
        defer {
            _ = try? TestDatabase.shell([pg, "destroy", dir])
            try? FileManager.default.removeItem(atPath: dir)
        }
        let url = try TestDatabase.shell([pg, "start", dir, port])
        try seatcastCommand(["migrate"], databaseURL: url)
        let trip = TestDatabase.uniqueTripId("restart")
        try seatcastCommand(["trip", "create", trip, "--name", "Restart trip", "--rows", "12", "--cols", "4"], databaseURL: url)
        // A second trip that gets no writes through the server around the restart, only SQL:
        // no doorbell rings for it after the listener is back, so only the listener's
        // reconnect catch-up from the outbox can bring its subscribers those changes.
        let quiet = TestDatabase.uniqueTripId("quiet")
        try seatcastCommand(["trip", "create", quiet, "--name", "Quiet trip", "--rows", "12", "--cols", "4"], databaseURL: url)
        func databaseSnapshot(_ id: String) throws -> TripSnapshot {
            guard let s = try SeatStore(try PGConnection(url)).snapshot(tripId: id) else { throw TestFailure("no trip \(id)") }
            return s
        }

        let server = try ServerProcess(databaseURL: url)
        let followers = try (0..<5).map { try server.follower(trip, name: "F\($0)") }
        let quietFollowers = try (0..<3).map { try server.follower(quiet, name: "Q\($0)") }
        let base = try databaseSnapshot(trip).seq
        for f in followers { #expect(f.initialSeq == base, "\(f.name)") }

        // Load on rows 1-10; the probe uses row 11; the SQL changes row 12.
        let load = try ReserveReleaseLoad(port: server.port, tripId: trip,
                                          seats: (1...10).flatMap { r in ["A", "B", "C", "D"].map { "\(r)\($0)" } })
        load.start()
        var loadStopped = false
        defer { if !loadStopped { load.stop() } }
        // Wait until the load is visibly running: every follower has seen some of its events.
        for f in followers { try f.pump(timeout: 15, "load events") { $0.received.count >= 6 } }

        let probe = try server.client()
        let probeHold = "probe-hold-\(UInt64.random(in: 0...UInt64.max))"
        try probe.send(reserveJSON(quiet, ["1A"], hold: probeHold, id: "quiet1"))
        #expect(try probe.reply(id: "quiet1", timeout: 10).type == "reserved")
        for f in quietFollowers { try f.waitForEvent("seat_locked", seat: "1A") }

        // Stop PostgreSQL.
        let downAt = Date()
        try TestDatabase.shell([pg, "stop", dir])
        let (unavailable, tries) = try pollReserve(probe, trip, seat: "11A", hold: probeHold, within: 15, followers: followers) {
            $0.type == "error" && $0["code"]?.stringValue == "unavailable"
        }
        #expect(unavailable["id"]?.stringValue?.hasPrefix("probe-") == true)
        let healthTries = try pollHealth(server, 503, within: 15, followers: followers)
        // Keep it down until the load has met the outage many times.
        let unavailableBefore = load.counts["error:unavailable", default: 0]
        for f in followers {
            try f.pump(timeout: 20, "the load meeting the outage") { _ in load.counts["error:unavailable", default: 0] >= unavailableBefore + 20 }
        }
        #expect(server.isRunning, "the server exited while the database was down: \(server.log)")
        // A client joining now gets the instance's in-memory snapshot (no database round trip needed).
        let lateJoiner = try server.follower(trip, name: "late")
        let during = load.counts
        print("DatabaseRestartTests: database down; unavailable after \(tries) probe(s), 503 after \(healthTries) try(ies); load so far \(during)")
        let reconnectsBefore = try server.metric("seatcast_listener_reconnects_total")

        // Bring the cluster up on another port for a moment, out of the server's reach, and
        // change seats in SQL: those commits certainly happen while the listener is away.
        let altURL = try TestDatabase.shell([pg, "start", dir, String(Int(port)! + 1)])
        do {
            let sql = try PGConnection(altURL)
            let changed = try sql.exec("UPDATE seats SET status = 'booked' WHERE trip_id IN ($1, $2) AND seat_no IN ('12A', '12B')",
                                       [trip, quiet])
            #expect(changed.affectedRows == 4)
            try sql.exec("UPDATE seats SET status = 'available' WHERE trip_id IN ($1, $2) AND seat_no = '12A'", [trip, quiet])
        }
        try TestDatabase.shell([pg, "stop", dir])
        #expect(try server.metric("seatcast_listener_reconnects_total") == reconnectsBefore)

        // Start it again on its own port and, while the server reconnects, change one more seat.
        try TestDatabase.shell([pg, "start", dir, port])
        let upAt = Date()
        let sql = try PGConnection(url)
        #expect(try sql.exec("UPDATE seats SET status = 'booked' WHERE trip_id IN ($1, $2) AND seat_no = '12C'", [trip, quiet]).affectedRows == 2)
        // No reconnect yet after that commit means its notification was missed too.
        let listenerAwayAtRestartChange = try server.metric("seatcast_listener_reconnects_total") == reconnectsBefore

        // Recovery: reserves succeed and /healthz is 200 again.
        let (reserved, _) = try pollReserve(probe, trip, seat: "11B", hold: probeHold, within: 20, followers: followers) {
            $0.type == "reserved"
        }
        #expect(reserved["seats"]?.strings == ["11B"])
        _ = try pollHealth(server, 200, within: 20, followers: followers)
        let recovered = Date().timeIntervalSince(upAt)
        #expect(server.isRunning)
        try waitFor("the listener to reconnect", timeout: 20) {
            try server.metric("seatcast_listener_reconnects_total") > reconnectsBefore
        }

        // Let the load run on the recovered database until its replies are successes again.
        let okBefore = load.counts["reserved", default: 0]
        for f in followers { try f.pump(timeout: 20, "load events after recovery") { _ in load.counts["reserved", default: 0] >= okBefore + 5 } }
        load.stop()
        loadStopped = true
        let counts = load.counts
        #expect(load.problems.isEmpty, "load got \(load.problems.prefix(10))")
        #expect(counts["error:unavailable", default: 0] > 0, "the load never saw the outage: \(counts)")

        // Every subscriber converges on the database, the SQL change included.
        let final = try databaseSnapshot(trip), quietFinal = try databaseSnapshot(quiet)
        for snap in [final, quietFinal] {
            #expect(snap.seats.filter { ["12A", "12B", "12C"].contains($0.seatNo) }.map(\.status) == [.available, .booked, .booked])
        }
        for f in followers + [lateJoiner] + quietFollowers {
            let final = f.tripId == quiet ? quietFinal : final
            try f.catchUp(to: final.seq, timeout: 20)
            let diff = f.differences(from: final)
            #expect(diff.isEmpty, "\(f.name) differs from the database: \(diff.prefix(6))")
            #expect(f.map.map.snapshot == final, "\(f.name)")
            #expect(f.duplicates.isEmpty, "\(f.name) got duplicates \(f.duplicates.prefix(5).map(\.compact))")
            for (type, seat) in [("seat_booked", "12A"), ("seat_released", "12A"), ("seat_booked", "12B"), ("seat_booked", "12C")]
                where f.unaskedSnapshots == 0 {
                #expect(f.events(type, seat: seat).count == 1, "\(f.name): \(type) \(seat) from SQL missed or repeated")
            }
            #expect(f.errors.isEmpty, "\(f.name): \(f.errors.map(\.compact))")
        }
        let everyone = followers + [lateJoiner] + quietFollowers
        let resubscribes = everyone.map(\.resubscribes)
        let unasked = everyone.map(\.unaskedSnapshots)
        print("DatabaseRestartTests: down for \(String(format: "%.2f", upAt.timeIntervalSince(downAt)))s, recovered "
            + "\(String(format: "%.2f", recovered))s after restart; final seq \(final.seq); load \(counts); "
            + "client resubscribes \(resubscribes) gaps \(everyone.map(\.gaps)); unasked snapshots \(unasked); "
            + "listener still away after the restart-time SQL change: \(listenerAwayAtRestartChange)")
        if resubscribes.contains(where: { $0 > 0 }) {
            print("DatabaseRestartTests: NOTE clients had to resubscribe after seq gaps: \(everyone.map(\.gaps))")
        }

        // SIGTERM: every client gets 1001 and the process exits 0.
        server.process.signal(SIGTERM)
        for f in everyone {
            #expect(try f.client.waitForClose(timeout: 15) == 1001, "\(f.name)")
        }
        #expect(try probe.waitForClose(timeout: 15) == 1001)
        let status = try server.process.wait(timeout: 30).status
        #expect(status == 0, "exit \(status): \(server.log)")
        print("DatabaseRestartTests.serverSurvivesDatabaseRestartAndSubscribersConverge: \(durationText(since: start))")
    }

    /// Right after PostgreSQL restarts, the very first /healthz answers 200, the very first subscribe to a trip no one has loaded gets its snapshot and the very first reserve is reserved: each instance finds its dead idle connections before using them.
    @Test func firstRequestsAfterARestartSucceed() throws {
        let pg = TestDatabase.packageRoot + "/scripts/pg.sh"
        let dir = "/tmp/sc-restart-first-\(UInt32.random(in: 0...UInt32.max))"
        defer {
            _ = try? TestDatabase.shell([pg, "destroy", dir])
            try? FileManager.default.removeItem(atPath: dir)
        }
        let url = try TestDatabase.shell([pg, "start", dir, "auto"])
        try seatcastCommand(["migrate"], databaseURL: url)
        let trips = try (0..<2).map { i in
            let id = TestDatabase.uniqueTripId("first")
            try seatcastCommand(["trip", "create", id, "--name", "First \(i)", "--rows", "4", "--cols", "4"], databaseURL: url)
            return id
        }
        // One instance per request, so that each request is its instance's first one after the
        // restart. No expiry sweeps: one could find the writer's dead connection before the
        // reserve does.
        let servers = try (0..<3).map { _ in
            try TestServer { $0.databaseURL = url; $0.sweepInterval = 3600 }
        }
        defer { for s in servers { s.stop() } }
        // Each instance's reader has answered once: its connection is idle, not fresh.
        for s in servers { #expect(try s.http("GET", "/healthz").status == 200) }

        try TestDatabase.shell([pg, "restart", dir])
        // The database answers again (pg_ctl waited for that; this checks it from here).
        let deadline = Date().addingTimeInterval(30)
        while true {
            do {
                try PGConnection(url).exec("SELECT 1")
                break
            } catch {
                guard Date() < deadline else { throw TestFailure("PostgreSQL did not answer after its restart: \(error)") }
                usleep(50_000) // poll interval
            }
        }

        let health = try servers[0].http("GET", "/healthz")
        #expect(health.status == 200, "the first /healthz after the restart: \(health.status) \(health.body)")
        let subscriber = try servers[1].client("/ws/trips/\(trips[0])")
        let first = try subscriber.next(timeout: 20)
        #expect(first.type == "snapshot", "the first subscribe after the restart got \(first.compact)")
        let actor = try servers[2].client()
        try actor.send(reserveJSON(trips[1], ["1A"], hold: "first-hold-\(UInt64.random(in: 0...UInt64.max))", id: "first"))
        let reply = try actor.reply(id: "first", timeout: 20)
        #expect(reply.type == "reserved", "the first reserve after the restart got \(reply.compact)")
    }
}
