import Foundation
import SeatcastCore
@testable import SeatcastPostgres
import SeatcastTesting
import Testing

@Suite("Migrator")
struct MigratorTests {
    /// Migrating an already migrated database applies nothing and returns an empty list.
    @Test func secondRunAppliesNothing() throws {
        let db = try TestDatabase.shared.connect()
        #expect(try Migrator.migrate(db) == [])
        #expect(try Migrator.migrate(db) == [])
        let r = try db.exec("SELECT version FROM schema_migrations ORDER BY version")
        #expect((0..<r.rowCount).map { r.int($0, 0) } == Schema.migrations.map(\.version))
    }

    /// Several migrators on separate connections at once against the migrated database all succeed with nothing to do.
    @Test func concurrentMigratorsOnMigratedDatabase() throws {
        _ = TestDatabase.shared
        let results = Shared<[[Int]]>([])
        let errors = runTogether(6) { _, db in
            let done = try Migrator.migrate(db)
            results.update { $0.append(done) }
        }
        #expect(errors == [])
        #expect(results.value == Array(repeating: [], count: 6))
    }

    /// On an empty database, concurrent migrators serialise on the advisory lock: exactly one applies every migration and function, the rest apply nothing.
    @Test func concurrentMigratorsOnEmptyDatabase() throws {
        try withScratchDatabase { scratch in
            let results = Shared<[Migrator.Report]>([])
            let errors = Shared<[String]>([])
            let ready = DispatchSemaphore(value: 0), go = DispatchSemaphore(value: 0)
            let done = DispatchGroup()
            let n = 6
            for i in 0..<n {
                done.enter()
                Thread {
                    let db = try? PGConnection(scratch)
                    ready.signal()
                    go.wait()
                    if let db {
                        do {
                            let applied = try Migrator.run(db)
                            results.update { $0.append(applied) }
                        } catch {
                            errors.update { $0.append("migrator \(i): \(error)") }
                        }
                    } else {
                        errors.update { $0.append("migrator \(i): cannot connect") }
                    }
                    done.leave()
                }.start()
            }
            for _ in 0..<n { ready.wait() }
            for _ in 0..<n { go.signal() }
            done.wait()

            #expect(errors.value == [])
            let all = Schema.migrations.map(\.version)
            let everything = Migrator.Report(migrations: all, functions: Schema.functions.map(\.name))
            #expect(results.value.filter { $0 == everything }.count == 1)
            #expect(results.value.filter { $0 == Migrator.Report() }.count == n - 1)

            let db = try PGConnection(scratch)
            let r = try db.exec("SELECT version FROM schema_migrations ORDER BY version")
            #expect((0..<r.rowCount).map { r.int($0, 0) } == all)
            #expect(try Migrator.migrate(db) == [])
            // The schema works: a trip can be created and reserved in the new database.
            #expect(try SeatStore(db).createTrip(id: "m1", name: "Migrated", rows: 1, cols: 2) == .created)
            #expect(reservedUntil(try apply(db, .reserve(tripId: "m1", seats: ["1A"], hold: newHold()))) != nil)
            #expect(try lastSeq(db, "m1") == 1)
        }
    }

    /// The migrator takes the advisory lock: while another session holds it, the migrator's backend waits for it and applies nothing; once it is released the migrator finishes, and it no longer holds the lock after it returns.
    @Test func waitsForAndReleasesTheAdvisoryLock() throws {
        try withScratchDatabase { scratch in
            let key = Schema.migrationLockKey
            let holder = try PGConnection(scratch)
            try holder.exec("SELECT pg_advisory_lock(\(key))")
            var holding = true
            defer { if holding { _ = try? holder.exec("SELECT pg_advisory_unlock(\(key))") } }

            let pid = Shared<String?>(nil)
            let report = Shared<String?>(nil)
            let connected = DispatchSemaphore(value: 0), finished = DispatchSemaphore(value: 0)
            let mayClose = DispatchSemaphore(value: 0)
            defer { mayClose.signal() }
            Thread {
                do {
                    let db = try PGConnection(scratch)
                    let own = try db.exec("SELECT pg_backend_pid()").string(0, 0)
                    pid.update { $0 = own }
                    connected.signal()
                    let r = try Migrator.run(db)
                    report.update { $0 = "\(r.migrations) \(r.functions.count)" }
                    finished.signal()
                    mayClose.wait() // keeps the session open while the test looks at its locks
                } catch {
                    report.update { $0 = "error: \(error)" }
                    connected.signal()
                    finished.signal()
                }
            }.start()
            #expect(connected.wait(timeout: .now() + 30) == .success)
            let migratorPid = try #require(pid.value)

            // Its backend shows up waiting for exactly that advisory lock.
            let waiting = try eventually {
                try holder.exec("""
                    SELECT count(*) FROM pg_locks
                     WHERE locktype = 'advisory' AND classid = 0 AND objid = $1 AND NOT granted AND pid = $2
                    """, [String(key), migratorPid]).int(0, 0) == 1
            }
            #expect(waiting, "the migrator never waited for the advisory lock")
            #expect(report.value == nil)
            #expect(try holder.exec("SELECT to_regclass('schema_migrations') IS NULL").string(0, 0) == "t")

            try holder.exec("SELECT pg_advisory_unlock(\(key))")
            holding = false
            #expect(finished.wait(timeout: .now() + 60) == .success)
            #expect(report.value == "\(Schema.migrations.map(\.version)) \(Schema.functions.count)")
            // Returned, session still open: the lock is free again.
            #expect(try holder.exec("SELECT pg_try_advisory_lock(\(key))").string(0, 0) == "t")
            try holder.exec("SELECT pg_advisory_unlock(\(key))")
        }
    }
}
