import Foundation
import SeatcastApp
import SeatcastCore
import SeatcastPostgres

/// The PostgreSQL the tests use: `DATABASE_URL` when set (make test starts a private
/// cluster and sets it), otherwise a private cluster under `.build/test-pg` started on
/// first use. Migrated once. Tests isolate themselves by using fresh trip ids.
public final class TestDatabase: Sendable {
    public let url: String
    /// The cluster's data directory when the tests own the cluster (for restarts).
    public let dataDirectory: String?

    public static let shared: TestDatabase = {
        do {
            return try TestDatabase()
        } catch {
            fatalError("TestDatabase: \(error)")
        }
    }()

    /// A second database of the same cluster, migrated, that no server ever connects to,
    /// so no expiry sweep runs there. Every test server sweeps the shared database (up to
    /// ten times a second), so a hold a store test makes run out (`until` in the past)
    /// can be released by someone else's sweep before the test acts on it; here it stays
    /// expired-but-held until the test itself changes it.
    public static let quiet: TestDatabase = {
        do {
            let name = "seatcast_quiet"
            let admin = try shared.connect()
            if try admin.exec("SELECT 1 FROM pg_database WHERE datname = $1", [name]).rowCount == 0 {
                // Another test process on the same cluster may create it first.
                do { try admin.exec("CREATE DATABASE \(name)") } catch {
                    if try admin.exec("SELECT 1 FROM pg_database WHERE datname = $1", [name]).rowCount == 0 { throw error }
                }
            }
            return try TestDatabase(url: url(shared.url, database: name), dataDirectory: shared.dataDirectory)
        } catch {
            fatalError("TestDatabase.quiet: \(error)")
        }
    }()

    /// The connection URL of another database (`database`) of the cluster `base` points at.
    public static func url(_ base: String, database: String) -> String {
        if base.hasPrefix("postgres"), var c = URLComponents(string: base) {
            c.path = "/" + database
            if let s = c.string { return s }
        }
        // key=value form: a later keyword overrides an earlier one.
        return base + " dbname=" + database
    }

    /// The package root, found from this file's path.
    public static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    init() throws {
        let env = ProcessInfo.processInfo.environment
        if let u = env["DATABASE_URL"], !u.isEmpty {
            url = u
            dataDirectory = env["SEATCAST_TEST_PGDATA"]
        } else {
            let dir = Self.packageRoot + "/.build/test-pg"
            // `auto`: the port of the cluster already running there, else a free one.
            url = try Self.shell([Self.packageRoot + "/scripts/pg.sh", "start", dir, "auto"])
            dataDirectory = try Self.shell([Self.packageRoot + "/scripts/pg.sh", "pgdata", dir])
        }
        try Application.migrate(databaseURL: url)
    }

    init(url: String, dataDirectory: String?) throws {
        self.url = url
        self.dataDirectory = dataDirectory
        try Application.migrate(databaseURL: url)
    }

    /// Runs a command; returns its trimmed standard output, throws on a non-zero exit.
    @discardableResult
    public static func shell(_ args: [String], environment: [String: String]? = nil) throws -> String {
        let r = try Subprocess.run(args, environment: environment)
        guard r.status == 0 else {
            throw TestFailure("\(args.joined(separator: " ")) exited \(r.status): \(r.err)")
        }
        return r.out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public func connect() throws -> PGConnection { try PGConnection(url) }

    /// A trip id no other test uses.
    public static func uniqueTripId(_ prefix: String = "t") -> String {
        "\(prefix)-\(UInt32.random(in: 0...UInt32.max))-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// Creates a fresh trip and returns its id.
    public func createTrip(rows: Int = 12, cols: Int = 4, name: String = "Test trip") throws -> String {
        let id = Self.uniqueTripId()
        _ = try SeatStore(try connect()).createTrip(id: id, name: name, rows: rows, cols: cols)
        return id
    }

    /// The trip as the database has it now.
    public func snapshot(_ tripId: String) throws -> TripSnapshot {
        guard let s = try SeatStore(try connect()).snapshot(tripId: tripId) else { throw TestFailure("no trip \(tripId)") }
        return s
    }

    /// Runs SQL straight against the database, as an operator in psql would.
    @discardableResult
    public func sql(_ text: String, _ params: [String?] = []) throws -> PGResult {
        try connect().exec(text, params)
    }
}

public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}
