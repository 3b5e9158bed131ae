import Foundation

/// The database schema: SQL files shipped as resources of this module, and the values
/// Swift and SQL share, defined here once.
///
/// - `SQL/migrations/NNNN_name.sql`: the tables, as numbered migrations. Each is applied
///   once, in version order, and recorded in `schema_migrations`. Never edited once
///   released; a change is a new file.
/// - `SQL/functions/<name>.sql`: the current definition of one function (and of the
///   trigger that runs it, if any), `CREATE OR REPLACE`, with a header saying what it
///   does, who calls it, its lock order and what it NOTIFYs. Applied again whenever its
///   text changes (checksums in `schema_functions`).
///
/// `Migrator` applies both; `SQL/README.md` has the rules for changing them. A file may
/// use `{{name}}` for a value of `placeholders`, substituted when it is loaded, so a value
/// both sides use (the NOTIFY channel, the bulk group codes) is spelled once, here.
///
/// Invariants the schema itself enforces, whoever writes (seatcast or psql):
/// - every status change of a seat appends one row to `seat_events`, in the same
///   transaction, with `seq` = the trip's `last_seq` + 1 taken under the trip row's
///   lock, so per trip `seq` order is commit order;
/// - each such transaction rings `NOTIFY seatcast_events, '<tripId>'` once per trip
///   (identical payloads in one transaction are delivered once): only a doorbell.
public enum Schema {
    /// The channel every change of a trip's seats is announced on, payload the trip id.
    public static let notifyChannel = "seatcast_events"

    /// The `grp` codes `SeatStore.bulkGroups` marks requests with, so that
    /// `seatcast_apply` runs them set-wise ahead of the rest of the batch.
    public enum BulkGroup {
        /// Single-seat reserves (run first).
        public static let singleSeatReserve = "r"
        /// Releases of listed seats (run second).
        public static let listedRelease = "x"
    }

    /// How long a hold may last from its start, extends included, unless configured
    /// (`--max-hold`): 900 s. `SeatStore.apply` sends the configured value with each extend;
    /// this is what `seatcast_apply` assumes for an extend that carries none.
    public static let defaultMaxHoldMs: Int64 = 900_000

    /// What `{{name}}` in a SQL file stands for. Each value is a plain word, so it can
    /// stand inside a SQL string literal or as an identifier without quoting.
    static let placeholders: [String: String] = [
        "notify_channel": notifyChannel,
        "grp_single_seat_reserve": BulkGroup.singleSeatReserve,
        "grp_listed_release": BulkGroup.listedRelease,
        "default_max_hold_ms": String(defaultMaxHoldMs),
    ]

    /// Advisory lock key that serialises concurrent migrators (old ones included).
    static let migrationLockKey = 7_246_001

    /// A numbered table migration.
    public struct Migration: Sendable {
        public let version: Int
        /// The file name without `.sql`, e.g. `0001_tables`.
        public let name: String
        public let sql: String
    }

    /// The current definition of one function (and its trigger).
    public struct Function: Sendable {
        /// The file name without `.sql`: the function's name.
        public let name: String
        public let sql: String
    }

    /// Every migration, in version order (1, 2, 3, ...: no gaps).
    public static var migrations: [Migration] { files.migrations }
    /// Every function file, in name order (the order they are applied in).
    public static var functions: [Function] { files.functions }

    private static let files: (migrations: [Migration], functions: [Function]) = {
        precondition(placeholders.values.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") } },
                     "Schema.placeholders: values must be plain words")
        guard let root = Bundle.module.url(forResource: "SQL", withExtension: nil) else {
            fatalError("SeatcastPostgres: no SQL folder in the resource bundle \(Bundle.module.bundlePath)")
        }
        let migrations = sqlFiles(root.appendingPathComponent("migrations")).map { name, sql in
            let digits = name.prefix { $0.isNumber }
            guard let version = Int(digits), name.dropFirst(digits.count).first == "_" else {
                preconditionFailure("SQL/migrations/\(name).sql: the name must be NNNN_what.sql")
            }
            return Migration(version: version, name: name, sql: sql)
        }
        precondition(migrations.map(\.version) == Array(1...migrations.count),
                     "SQL/migrations: versions must run 1, 2, 3, ... without gaps or repeats")
        let functions = sqlFiles(root.appendingPathComponent("functions")).map { Function(name: $0, sql: $1) }
        return (migrations, functions)
    }()

    /// The `.sql` files of a folder, sorted by name: (name without `.sql`, rendered text).
    private static func sqlFiles(_ folder: URL) -> [(String, String)] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        } catch {
            fatalError("SeatcastPostgres: cannot list \(folder.path): \(error)")
        }
        return names.filter { $0.hasSuffix(".sql") }.sorted().map { file in
            let path = folder.appendingPathComponent(file).path
            guard let data = FileManager.default.contents(atPath: path) else {
                fatalError("SeatcastPostgres: cannot read \(path)")
            }
            let name = String(file.dropLast(4))
            return (name, render(String(decoding: data, as: UTF8.self), file: folder.lastPathComponent + "/" + file))
        }
    }

    /// `text` with every `{{name}}` replaced by `placeholders[name]`. An unknown or
    /// unclosed placeholder is a mistake in the file, caught on first load.
    static func render(_ text: String, file: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                preconditionFailure("SQL/\(file): '{{' without '}}'")
            }
            let name = String(rest[open.upperBound..<close.lowerBound])
            guard let value = placeholders[name] else {
                preconditionFailure("SQL/\(file): unknown placeholder {{\(name)}}")
            }
            out += value
            rest = rest[close.upperBound...]
        }
        return out + rest
    }
}
