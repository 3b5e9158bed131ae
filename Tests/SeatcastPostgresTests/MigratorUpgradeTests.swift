import Foundation
import SeatcastCore
@testable import SeatcastPostgres
import SeatcastTesting
import Testing

/// Databases the migrator before the SQL files migrated (`LegacySchema`), taken over by
/// today's migrator; and the function checksums that decide what it applies again.
@Suite("Migrator upgrades")
struct MigratorUpgradeTests {
    /// A database migrated by the old migrator, with holds, bookings, expired holds and history, upgrades cleanly: migrations 4 onwards and every function file are applied, every row is kept, the schema then equals a fresh database's, and seats, the outbox and the doorbell carry on from where they were.
    @Test func legacyDatabaseUpgrades() throws {
        try withScratchDatabase { legacyURL in
            try withScratchDatabase { freshURL in
                let db = try PGConnection(legacyURL)
                try LegacySchema.migrate(db)
                let trip = "up1"
                #expect(try SeatStore(db).createTrip(id: trip, name: "Legacy", rows: 3, cols: 4) == .created)
                let a = newHold("a"), b = newHold("b"), c = newHold("c"), d = newHold("d")
                _ = try apply(db, [
                    .reserve(tripId: trip, seats: ["1A", "1B"], hold: a),
                    .reserve(tripId: trip, seats: ["2A"], hold: b),
                    .reserve(tripId: trip, seats: ["3A"], hold: c),
                    .confirm(tripId: trip, seats: nil, hold: a),
                ])
                // c's hold runs out (by hand, through the statement trigger), d takes 3A over.
                try expireHold(db, trip, "3A")
                #expect(reservedUntil(try apply(db, .reserve(tripId: trip, seats: ["3A"], hold: d))) != nil)
                _ = try apply(db, .release(tripId: trip, seats: nil, hold: b))
                // seats as the old schema has it (migration 5 adds held_at, empty for these rows).
                // (and expired_holds as well: migration 7 adds hold_owner).
                let tables = ["trips", "(SELECT trip_id, seat_no, row_no, col_no, status, hold_hash, until, version FROM seats)",
                              "seat_events", "bookings", "(SELECT trip_id, hold_hash, at FROM expired_holds)"]
                let before = try tables.map { try tableRows(db, $0) }
                #expect(try tableRows(db, "expired_holds").count == 1)
                #expect(try tableRows(db, "bookings").count == 2)
                let last = try lastSeq(db, trip)
                let legacyCatalog = try catalog(db)

                let report = try Migrator.run(db)
                #expect(report.migrations == Array(4...Schema.migrations.count))
                #expect(report.functions == Schema.functions.map(\.name))
                #expect(try tables.map { try tableRows(db, $0) } == before)

                let fresh = try PGConnection(freshURL)
                #expect(try Migrator.run(fresh).migrations == Schema.migrations.map(\.version))
                let freshCatalog = try catalog(fresh)
                #expect(try catalog(db) == freshCatalog)
                // The new migrations build the old tables (plus seats.held_at, migration 5), and the
                // functions really changed (p_ names).
                func tablesOnly(_ c: [String]) -> [String] {
                    c.filter { !$0.hasPrefix("function ") && !$0.contains("schema_functions") }
                }
                // ... apart from what 0005 (seats.held_at), 0006 (stadium sizes, indexes on held
                // seats) and 0007 (hold owners, holder rows) changed on purpose.
                func before0005(_ c: [String]) -> [String] {
                    c.filter { !$0.contains("trips_row_count_check") && !$0.contains("trips_col_count_check")
                        && !$0.contains("trips_seat_count_check") && !$0.contains("seats_held_")
                        && !($0.hasPrefix("column seats ") && $0.contains(" held_at "))
                        && !$0.contains("hold_owner") && !$0.contains("seat_holders") }
                }
                #expect(before0005(tablesOnly(legacyCatalog)) == before0005(tablesOnly(freshCatalog)))
                #expect(tablesOnly(freshCatalog).filter { $0.contains(" held_at ") } == ["column seats 9 held_at timestamp with time zone"])
                #expect(tablesOnly(freshCatalog).filter { $0.contains("hold_owner") || $0.contains("seat_holders") } == [
                    "column expired_holds 4 hold_owner text",
                    "column seat_holders 1 holder text not null",
                    "column seats 10 hold_owner text",
                    "constraint seat_holders seat_holders_pkey PRIMARY KEY (holder)",
                    "constraint seats seats_available_no_owner CHECK (((status <> 'available'::text) OR (hold_owner IS NULL)))",
                    "index CREATE INDEX seats_held_by_owner ON public.seats USING btree (hold_owner, until) WHERE (status = 'held'::text)",
                    "index CREATE UNIQUE INDEX seat_holders_pkey ON public.seat_holders USING btree (holder)",
                    "table seat_holders ",
                ])
                #expect(legacyCatalog.filter { $0.hasPrefix("function ") } != freshCatalog.filter { $0.hasPrefix("function ") })
                #expect(try functionNames(db) == Schema.functions.map(\.name))
                let checksums = try Migrator.checksums(db)
                #expect(checksums == (try Migrator.checksums(fresh)))
                #expect(checksums.keys.sorted() == Schema.functions.map(\.name))
                #expect(try Migrator.run(db) == Migrator.Report())

                // Carrying on: the upgraded functions append to the same outbox, ring the same doorbell.
                let listener = try PGConnection(legacyURL)
                try listener.exec("LISTEN \(Schema.notifyChannel)")
                let e = newHold("e")
                let until = try #require(reservedUntil(try apply(db, .reserve(tripId: trip, seats: ["2B"], hold: e))))
                #expect(try collectNotifications(listener, until: trip) == [trip])
                #expect(try apply(db, .confirm(tripId: trip, seats: ["3A"], hold: c)) == .rejected(.holdExpired, seats: ["3A"]))
                try db.exec("UPDATE seats SET status = 'booked' WHERE trip_id = $1 AND seat_no = '3D'", [trip])
                #expect(try collectNotifications(listener, until: trip) == [trip])
                #expect(try SeatStore(db).events(tripId: trip, afterSeq: last) == [
                    TripEvent(tripId: trip, seq: last + 1, seatNo: "2B", kind: .locked, untilMs: until),
                    TripEvent(tripId: trip, seq: last + 2, seatNo: "3D", kind: .booked),
                ])
                // Holds from before migration 7 belong to nobody: a buyer cannot use them, the
                // backend and open mode can (version 1).
                #expect(try holdOwner(db, trip, "3A") == nil)
                #expect(try apply(db, .confirm(tripId: trip, seats: nil, hold: d), buyer(newHolder())) == .rejected(.notHeld, seats: []))
                #expect(try apply(db, .confirm(tripId: trip, seats: nil, hold: d), openConnection("~up:1")) == .confirmed(seats: ["3A"]))
                #expect(try db.exec("SELECT count(*) FROM seatcast_audit($1)", [trip]).int(0, 0) == 0)
            }
        }
    }

    /// The functions of today's files answer every request exactly as the old migrator's functions did: the same random batches (set-wise and one by one, with holds running out by hand, the expiry sweep and pruning) give the same outcomes, events, seats and audits in a database of each.
    @Test(arguments: [11, 12, 13])
    func legacyAndCurrentFunctionsAgree(seed: Int) throws {
        try withScratchDatabase { legacyURL in
            try withScratchDatabase { currentURL in
                let legacy = try PGConnection(legacyURL), current = try PGConnection(currentURL)
                try LegacySchema.migrate(legacy)
                try Migrator.run(current)
                let trip = "agree"
                for db in [legacy, current] {
                    #expect(try SeatStore(db).createTrip(id: trip, name: "Agree", rows: 6, cols: 4) == .created)
                }
                var rng = SplitMix64(seed: UInt64(seed))
                let names = seatNames(rows: 6, cols: 4)
                var seen = Set<String>()
                for chunk in 0..<12 {
                    var commands: [Command] = [], sessions: [Int] = []
                    for _ in 0..<40 {
                        let session = Int(rng.next() % 6)
                        let hold = "agree-hold-\(session)-\(seed)-\(rng.next() % 2)"
                        let seats = Array(Set((0..<Int(rng.next() % 3 + 1)).map { _ in names[Int(rng.next() % UInt64(names.count))] })).sorted()
                        // Now and then an unknown trip, or a seat the trip does not have.
                        let t = rng.next() % 25 == 0 ? "no-such-trip" : trip
                        let odd = rng.next() % 10 == 0
                        let listed = odd ? seats + ["99Z"] : seats
                        switch rng.next() % 8 {
                        case 0, 1, 2: commands.append(.reserve(tripId: t, seats: [odd ? "99Z" : seats[0]], hold: hold))
                        case 3: commands.append(.reserve(tripId: t, seats: .listed(listed), hold: hold))
                        case 4: commands.append(.release(tripId: t, seats: listed, hold: hold))
                        case 5: commands.append(.release(tripId: t, seats: nil, hold: hold))
                        default: commands.append(.confirm(tripId: t, seats: rng.next() % 2 == 0 ? nil : [listed[0], listed[listed.count - 1]], hold: hold))
                        }
                        sessions.append(session)
                    }
                    let expire = names.filter { _ in rng.next() % 6 == 0 }
                    let bulk = chunk % 2 == 0
                    let answers = try [legacy, current].map { db in
                        let store = SeatStore(db)
                        let out = try db.transaction { () throws(PGError) in
                            try store.apply(commands, sessions: bulk ? sessions : nil, holdTTLms: 60_000)
                        }
                        // Some holds run out (by hand), and every third round the sweep runs.
                        let arr = "{" + expire.joined(separator: ",") + "}"
                        try db.exec("""
                            UPDATE seats SET until = now() - interval '1 second'
                             WHERE trip_id = $1 AND status = 'held' AND seat_no = ANY ($2::text[])
                            """, [trip, arr])
                        let swept = chunk % 3 == 2 ? try db.exec("SELECT seatcast_expire(1000)").string(0, 0) : nil
                        return (out.map(BulkApplyTests.normalized), swept)
                    }
                    #expect(answers[0].0 == answers[1].0, "round \(chunk)")
                    for o in answers[1].0 { seen.insert(String(o.prefix { $0 != "(" && $0 != " " })) }
                    for o in answers[1].0 {
                        for word in ["seat_taken", "not_held", "hold_expired", "unknown_trip", "unknown_seat"] where o.contains(word) {
                            seen.insert(word)
                        }
                    }
                    #expect(answers[0].1 == answers[1].1, "round \(chunk): sweep")
                }
                let pruned = try [legacy, current].map { try $0.exec("SELECT seatcast_prune(200, interval '1 hour')").string(0, 0) }
                #expect(pruned[0] == pruned[1])
                func state(_ db: PGConnection) throws -> [[String]] {
                    [
                        try SeatStore(db).events(tripId: trip, afterSeq: 0).map { "\($0.seq) \($0.seatNo) \($0.kind) \($0.reason ?? "-")" },
                        try tableRows(db, "(SELECT seat_no, status, encode(hold_hash, 'hex'), version FROM seats)"),
                        try tableRows(db, "(SELECT seat_no, encode(hold_hash, 'hex') FROM bookings)"),
                        try tableRows(db, "(SELECT encode(hold_hash, 'hex') FROM expired_holds)"),
                        try tableRows(db, "(SELECT * FROM seatcast_audit('\(trip)'))"),
                        [String(try lastSeq(db, trip))],
                    ]
                }
                let a = try state(legacy), b = try state(current)
                #expect(a == b)
                #expect(a[0].count > 100)
                #expect(a[3].count > 0)
                #expect(a[4].isEmpty)
                // The workload reached every answer.
                #expect(seen.isSuperset(of: ["reserved", "confirmed", "released", "seat_taken", "not_held", "hold_expired",
                                             "unknown_trip", "unknown_seat"]), "\(seen)")
            }
        }
    }

    /// A function file whose text differs from the one recorded in the database is applied again, alone; the rest are left as they are.
    @Test func changedFunctionIsAppliedAgain() throws {
        try withScratchDatabase { url in
            let db = try PGConnection(url)
            try Migrator.run(db)
            let expected = try catalog(db)
            // As if seatcast_prune's file had changed since it was applied.
            try db.exec("""
                CREATE OR REPLACE FUNCTION seatcast_prune(p_keep_events bigint, p_keep_age interval)
                RETURNS bigint LANGUAGE sql AS $$ SELECT 0::bigint $$;
                UPDATE schema_functions SET checksum = 'older' WHERE name = 'seatcast_prune';
                """)
            #expect(try Migrator.run(db) == Migrator.Report(functions: ["seatcast_prune"]))
            #expect(try catalog(db) == expected)
            #expect(try Migrator.run(db) == Migrator.Report())
        }
    }

    /// A database that records a migration this binary does not know (a newer binary migrated it) is left alone: no function is put back, even one whose checksum differs.
    @Test func newerDatabaseIsLeftAlone() throws {
        try withScratchDatabase { url in
            let db = try PGConnection(url)
            try Migrator.run(db)
            try db.exec("""
                CREATE OR REPLACE FUNCTION seatcast_prune(p_keep_events bigint, p_keep_age interval)
                RETURNS bigint LANGUAGE sql AS $$ SELECT 7::bigint $$;
                UPDATE schema_functions SET checksum = 'newer' WHERE name = 'seatcast_prune';
                INSERT INTO schema_migrations (version) VALUES (\(Schema.migrations.count + 1));
                """)
            #expect(try Migrator.run(db) == Migrator.Report())
            #expect(try db.exec("SELECT seatcast_prune(1, interval '1 hour')").int(0, 0) == 7)
        }
    }
}

/// The functions of the database's public schema, by name.
func functionNames(_ db: PGConnection) throws -> [String] {
    let r = try db.exec("SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace ORDER BY proname")
    return (0..<r.rowCount).map { r.string($0, 0) ?? "" }
}
