/// Brings a database to `Schema`: the migrations it has not seen, in version order, then
/// every function file whose text differs from the one last applied there (or every
/// function file, after any migration: a migration may drop or change what a function
/// relies on). All of it in one transaction, so other sessions see the old schema or the
/// new one, never a mix.
///
/// Safe to run from several processes at once: a session advisory lock
/// (`Schema.migrationLockKey`, the key migrators have always used) serialises them, and
/// the ones that come later find nothing to do.
///
/// A database that records a migration this binary does not know was migrated by a newer
/// binary: it is left alone entirely, so an older instance that starts during a rolling
/// upgrade never puts its older functions back.
public enum Migrator {
    /// What one run applied.
    public struct Report: Equatable, Sendable {
        /// Migration versions, in the order applied.
        public var migrations: [Int] = []
        /// Function file names, in the order applied.
        public var functions: [String] = []
    }

    /// Applies what is pending; returns the migration versions it applied.
    @discardableResult
    public static func migrate(_ db: PGConnection) throws(PGError) -> [Int] {
        try run(db).migrations
    }

    /// Applies what is pending; says which migrations and function files it applied.
    @discardableResult
    public static func run(_ db: PGConnection) throws(PGError) -> Report {
        try db.exec("SELECT pg_advisory_lock(\(Schema.migrationLockKey))")
        defer { _ = try? db.exec("SELECT pg_advisory_unlock(\(Schema.migrationLockKey))") }
        return try db.transaction { () throws(PGError) -> Report in
            try db.exec("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                  version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
                CREATE TABLE IF NOT EXISTS schema_functions (
                  name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());
                """)
            let have = try db.exec("SELECT version FROM schema_migrations")
            let applied = Set((0..<have.rowCount).compactMap { have.int($0, 0) })
            let known = Set(Schema.migrations.map(\.version))
            guard applied.isSubset(of: known) else { return Report() }

            var report = Report()
            for m in Schema.migrations where !applied.contains(m.version) {
                try db.exec(m.sql)
                try db.exec("INSERT INTO schema_migrations (version) VALUES ($1)", [String(m.version)])
                report.migrations.append(m.version)
            }
            let recorded = try checksums(db)
            for f in Schema.functions {
                let sum = try db.exec("SELECT encode(sha256(convert_to($1, 'UTF8')), 'hex')", [f.sql]).string(0, 0)
                if report.migrations.isEmpty, recorded[f.name] == sum { continue }
                try db.exec(f.sql)
                try db.exec("""
                    INSERT INTO schema_functions (name, checksum) VALUES ($1, $2)
                    ON CONFLICT (name) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = now()
                    """, [f.name, sum])
                report.functions.append(f.name)
            }
            return report
        }
    }

    /// The checksum recorded for each function file, by name.
    static func checksums(_ db: PGConnection) throws(PGError) -> [String: String] {
        let r = try db.exec("SELECT name, checksum FROM schema_functions")
        var out: [String: String] = [:]
        for i in 0..<r.rowCount {
            if let name = r.string(i, 0) { out[name] = r.string(i, 1) }
        }
        return out
    }
}
