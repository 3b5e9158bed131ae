/// Applies `Schema.migrations` that the database has not seen yet. Safe to run from
/// several processes at once: an advisory lock serialises them.
public enum Migrator {
    /// Returns the versions it applied.
    @discardableResult
    public static func migrate(_ db: PGConnection) throws(PGError) -> [Int] {
        try db.exec("SELECT pg_advisory_lock(\(Schema.migrationLockKey))")
        defer { _ = try? db.exec("SELECT pg_advisory_unlock(\(Schema.migrationLockKey))") }
        try db.exec("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
              version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())
            """)
        let have = try db.exec("SELECT version FROM schema_migrations")
        var applied = Set<Int>()
        for r in 0..<have.rowCount { if let v = have.int(r, 0) { applied.insert(v) } }
        var done: [Int] = []
        for m in Schema.migrations where !applied.contains(m.version) {
            try db.transaction { () throws(PGError) in
                try db.exec(m.sql)
                try db.exec("INSERT INTO schema_migrations (version) VALUES ($1)", [String(m.version)])
            }
            done.append(m.version)
        }
        return done
    }
}
