import Foundation
@testable import SeatcastPostgres
import SeatcastTesting

/// A connection URL for another database of the test cluster.
func databaseURL(_ base: String, database: String) -> String { TestDatabase.url(base, database: database) }

/// Creates an empty database, runs `body` with its URL, then drops it.
func withScratchDatabase<T>(_ body: (String) throws -> T) throws -> T {
    let name = "seatcast_mig_\(UInt32.random(in: 0...UInt32.max))"
    try TestDatabase.shared.sql("CREATE DATABASE \(name)")
    defer { _ = try? TestDatabase.shared.sql("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
    return try body(databaseURL(TestDatabase.shared.url, database: name))
}

/// Polls `condition` until it holds or `timeout` seconds pass; returns whether it held.
/// For conditions only another process can make true (a backend waiting on a lock).
func eventually(timeout: Double = 10, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while true {
        if try condition() { return true }
        if Date() >= deadline { return false }
        usleep(5_000)
    }
}

/// Everything that defines a database's schema, one line per object, sorted: columns
/// (type, NOT NULL, default), storage options, constraints, indexes, triggers, functions
/// (their full text).
func catalog(_ db: PGConnection) throws -> [String] {
    let r = try db.exec("""
        SELECT 'column ' || c.relname || ' ' || a.attnum || ' ' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
               || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
               || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
          FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
          LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
        UNION ALL
        SELECT 'table ' || relname || ' ' || coalesce(array_to_string(reloptions, ','), '')
          FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'
        UNION ALL
        SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
          FROM pg_constraint WHERE connamespace = 'public'::regnamespace
        UNION ALL
        SELECT 'index ' || pg_get_indexdef(i.indexrelid)
          FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relnamespace = 'public'::regnamespace
        UNION ALL
        SELECT 'trigger ' || pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal
        UNION ALL
        SELECT 'function ' || pg_get_functiondef(oid) FROM pg_proc WHERE pronamespace = 'public'::regnamespace
        ORDER BY 1
        """)
    return (0..<r.rowCount).map { r.string($0, 0) ?? "" }
}

/// Every row of `table` as text (`(a,b,c)`), sorted.
func tableRows(_ db: PGConnection, _ table: String) throws -> [String] {
    let r = try db.exec("SELECT x::text FROM \(table) x ORDER BY 1")
    return (0..<r.rowCount).map { r.string($0, 0) ?? "" }
}
