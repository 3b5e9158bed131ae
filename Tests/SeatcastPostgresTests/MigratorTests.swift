import Foundation
import SeatcastCore
@testable import SeatcastPostgres
import SeatcastTesting
import Testing

/// A connection URL for another database of the test cluster.
private func url(_ base: String, database: String) -> String {
    if base.hasPrefix("postgres"), var c = URLComponents(string: base) {
        c.path = "/" + database
        if let s = c.string { return s }
    }
    // key=value form: a later keyword overrides an earlier one.
    return base + " dbname=" + database
}

/// Creates an empty database, runs `body` with its URL, then drops it.
private func withScratchDatabase(_ body: (String) throws -> Void) throws {
    let name = "seatcast_mig_\(UInt32.random(in: 0...UInt32.max))"
    try TestDatabase.shared.sql("CREATE DATABASE \(name)")
    defer { _ = try? TestDatabase.shared.sql("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
    try body(url(TestDatabase.shared.url, database: name))
}

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

    /// On an empty database, concurrent migrators serialise on the advisory lock: exactly one applies every migration, the rest apply nothing.
    @Test func concurrentMigratorsOnEmptyDatabase() throws {
        try withScratchDatabase { scratch in
            let results = Shared<[[Int]]>([])
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
                            let applied = try Migrator.migrate(db)
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
            #expect(results.value.filter { $0 == all }.count == 1)
            #expect(results.value.filter { $0 == [] }.count == n - 1)

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

    /// The migrator releases its advisory lock when it returns.
    @Test func releasesAdvisoryLock() throws {
        let db = try TestDatabase.shared.connect()
        try Migrator.migrate(db)
        let r = try db.exec("""
            SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
            """)
        #expect(r.int(0, 0) == 0)
    }
}
