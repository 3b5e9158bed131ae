import Foundation
import SeatcastCore
@testable import SeatcastPostgres
import SeatcastTesting
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The hold TTL the tests run commands with (the server's default).
let defaultTTL: Int64 = 120_000

/// A fresh hold token (16 to 128 characters of `A-Z a-z 0-9 _ -`).
func newHold(_ tag: String = "h") -> String {
    let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    return tag + "-" + String((0..<24).map { _ in alphabet.randomElement()! })
}

/// A connection to the test database and a fresh trip (`rows` x `cols`): where most store
/// tests start.
func connectionAndFreshTrip(rows: Int = 12, cols: Int = 4) throws -> (db: PGConnection, trip: String) {
    (try TestDatabase.shared.connect(), try TestDatabase.shared.createTrip(rows: rows, cols: cols))
}

/// A connection to the quiet database (`TestDatabase.quiet`: no server sweeps it) and a
/// fresh trip there: for tests that make a hold run out with `expireHold` and then act on
/// it while it is still held.
func quietConnectionAndFreshTrip(rows: Int = 12, cols: Int = 4) throws -> (db: PGConnection, trip: String) {
    (try TestDatabase.quiet.connect(), try TestDatabase.quiet.createTrip(rows: rows, cols: cols))
}

/// Ends the hold on `seat` a second ago, as time would, without releasing it. Only on the
/// quiet database (`quietConnectionAndFreshTrip`) does no sweep release it meanwhile.
func expireHold(_ db: PGConnection, _ trip: String, _ seat: String) throws {
    try db.exec("UPDATE seats SET until = now() - interval '1 second' WHERE trip_id = $1 AND seat_no = $2", [trip, seat])
}

/// Runs `commands` in one committed transaction of their own.
func apply(_ db: PGConnection, _ commands: [Command], ttl: Int64 = defaultTTL) throws(PGError) -> [CommandOutcome] {
    let store = SeatStore(db)
    return try db.transaction { () throws(PGError) -> [CommandOutcome] in
        try store.apply(commands, holdTTLms: ttl)
    }
}

/// Runs one command in a committed transaction of its own.
func apply(_ db: PGConnection, _ command: Command, ttl: Int64 = defaultTTL) throws(PGError) -> CommandOutcome {
    try apply(db, [command], ttl: ttl)[0]
}

/// As `apply`, running the transaction again after a deadlock or serialization failure.
func applyRetrying(_ db: PGConnection, _ commands: [Command], ttl: Int64 = defaultTTL) throws(PGError) -> [CommandOutcome] {
    var attempt = 0
    while true {
        do {
            return try apply(db, commands, ttl: ttl)
        } catch {
            attempt += 1
            if error.isRetryable && attempt < 50 { continue }
            throw error
        }
    }
}

/// The `untilMs` of a `reserved` outcome, nil for any other outcome.
func reservedUntil(_ o: CommandOutcome) -> Int64? {
    if case let .reserved(_, until) = o { return until }
    return nil
}

/// The error code of a `failed` outcome, nil for any other outcome.
func failureCode(_ o: CommandOutcome) -> ErrorCode? {
    if case let .failed(e) = o { return e.code }
    return nil
}

/// A seat row as stored.
struct SeatRow: Equatable {
    var status: String
    var holdHash: String?
    var untilMs: Int64?
    var version: Int64
}

func seatRow(_ db: PGConnection, _ trip: String, _ seat: String) throws -> SeatRow {
    let r = try db.exec("""
        SELECT status, encode(hold_hash, 'hex'), floor(extract(epoch FROM until) * 1000)::bigint, version
        FROM seats WHERE trip_id = $1 AND seat_no = $2
        """, [trip, seat])
    guard r.rowCount == 1 else { throw TestFailure("no seat \(seat) on \(trip)") }
    return SeatRow(status: r.string(0, 0)!, holdHash: r.string(0, 1), untilMs: r.int64(0, 2), version: r.int64(0, 3)!)
}

/// The hex SHA-256 the schema stores for a hold token.
func holdHash(_ db: PGConnection, _ hold: String) throws -> String {
    try db.exec("SELECT encode(sha256(convert_to($1, 'UTF8')), 'hex')", [hold]).string(0, 0)!
}

/// Whether `seat` is held (or booked) under `hold` right now.
func isHolder(_ db: PGConnection, _ trip: String, _ seat: String, _ hold: String) throws -> Bool {
    try seatRow(db, trip, seat).holdHash == holdHash(db, hold)
}

/// `trips.last_seq` of the trip.
func lastSeq(_ db: PGConnection, _ trip: String) throws -> Int64 {
    let r = try db.exec("SELECT last_seq FROM trips WHERE trip_id = $1", [trip])
    guard r.rowCount == 1 else { throw TestFailure("no trip \(trip)") }
    return r.int64(0, 0)!
}

/// Every outbox row of the trip, oldest first.
func allEvents(_ db: PGConnection, _ trip: String) throws -> [TripEvent] {
    try SeatStore(db).events(tripId: trip, afterSeq: 0)
}

/// A value several threads share behind a mutex.
final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func update<R: Sendable>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
    var value: Value { mutex.withLock { $0 } }
}

/// Reads notifications from `conn` until one with `payload` arrives or `timeout` seconds pass,
/// waiting in poll(2) on the connection's socket. Returns every payload seen, in arrival order.
func collectNotifications(_ conn: PGConnection, until payload: String, timeout: Double = 5) throws -> [String] {
    var seen: [String] = []
    let deadline = Date().addingTimeInterval(timeout)
    while true {
        for n in try conn.notifications() where n.channel == Schema.notifyChannel {
            seen.append(n.payload)
        }
        if seen.contains(payload) { return seen }
        let left = deadline.timeIntervalSinceNow
        if left <= 0 { return seen }
        var pfd = pollfd(fd: conn.socket, events: Int16(POLLIN), revents: 0)
        _ = poll(&pfd, 1, Int32(max(1, left * 1000)))
    }
}

/// Replays `events` over `initial` with a TripMap; records an issue for every event that does not apply.
func replay(_ initial: TripSnapshot, _ events: [TripEvent], sourceLocation: SourceLocation = #_sourceLocation) -> TripMap {
    var map = TripMap(initial)
    for e in events {
        let r = map.apply(e)
        if r != .applied {
            Issue.record("event seq \(e.seq) \(e.seatNo) did not apply: \(r)", sourceLocation: sourceLocation)
        }
    }
    return map
}

/// The seat names of a trip in row-major order.
func seatNames(rows: Int, cols: Int) -> [String] {
    (1...rows).flatMap { r in (1...cols).map { c in SeatNumbering.seatNo(row: r, col: c, cols: cols) } }
}

/// Runs `query` on the statistics views with everything this connection did so far counted:
/// its pending statistics flushed (as the backend goes idle after the next statement) and
/// the snapshot of the views taken afresh.
func flushedStatistics(_ db: PGConnection, _ query: String) throws -> PGResult {
    _ = try db.exec("SELECT pg_stat_force_next_flush()")
    _ = try db.exec("SELECT 1")  // the flush happens as this backend goes idle
    _ = try db.exec("SELECT pg_stat_clear_snapshot()")
    return try db.exec(query)
}
