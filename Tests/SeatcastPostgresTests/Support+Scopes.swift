import Foundation
import SeatcastCore
@testable import SeatcastPostgres
import SeatcastTesting

// Owns: test helpers for holders and quotas (HoldScope): scoped commands, fresh holder
// keys, counts of what a holder holds, and a PostgresBackend driven synchronously.

/// A holder key no other test uses (every test shares the database, and a quota counts
/// a holder's seats on every trip).
func newHolder(_ tag: String = "u") -> String { tag + "-" + UUID().uuidString }

/// A buyer's scope: only its own holds, `max` seats at once (0: no quota).
func buyer(_ sub: String, max: Int = 0) -> HoldScope { HoldScope(holder: sub, ownHoldsOnly: true, maxHeld: max) }

/// An open-mode connection's scope: any hold token works, `max` seats at once.
func openConnection(_ key: String, max: Int = 0) -> HoldScope { HoldScope(holder: key, ownHoldsOnly: false, maxHeld: max) }

/// Runs `commands` under `scope` in one committed transaction of their own.
func apply(_ db: PGConnection, _ commands: [Command], _ scope: HoldScope, ttl: Int64 = defaultTTL) throws(PGError) -> [CommandOutcome] {
    let store = SeatStore(db)
    return try db.transaction { () throws(PGError) -> [CommandOutcome] in
        try store.apply(commands, scopes: Array(repeating: scope, count: commands.count), holdTTLms: ttl)
    }
}

/// Runs one command under `scope` in a committed transaction of its own.
func apply(_ db: PGConnection, _ command: Command, _ scope: HoldScope, ttl: Int64 = defaultTTL) throws(PGError) -> CommandOutcome {
    try apply(db, [command], scope, ttl: ttl)[0]
}

/// Seats `holder` holds right now (live holds, every trip), as the quota counts them.
func heldBy(_ db: PGConnection, _ holder: String) throws -> Int {
    try db.exec("SELECT count(*) FROM seats WHERE status = 'held' AND hold_owner = $1 AND until > now()", [holder]).int(0, 0)!
}

/// `seats.hold_owner` of a seat.
func holdOwner(_ db: PGConnection, _ trip: String, _ seat: String) throws -> String? {
    let r = try db.exec("SELECT hold_owner FROM seats WHERE trip_id = $1 AND seat_no = $2", [trip, seat])
    guard r.rowCount == 1 else { throw TestFailure("no seat \(seat) on \(trip)") }
    return r.string(0, 0)
}

/// Every seat row of a trip as text, for "nothing changed" checks.
func seatRows(_ db: PGConnection, _ trip: String) throws -> [String] {
    try tableRows(db, "(SELECT * FROM seats WHERE trip_id = '\(trip)')")
}

/// A started PostgresBackend on the test database, answered synchronously.
final class SyncBackend: Sendable {
    let backend: PostgresBackend

    init(holdTTLSeconds: Double = 120) {
        backend = PostgresBackend(PostgresBackend.Config(url: TestDatabase.shared.url, holdTTLSeconds: holdTTLSeconds))
        backend.start()
    }

    func stop() { backend.stop() }

    func run(_ c: Command, session: Int = 1, scope: HoldScope = .unrestricted) throws -> CommandOutcome {
        try wait { done in backend.execute(c, session: session, scope: scope, reply: done) }
    }

    func createTrip(id: String, name: String = "Trip", rows: Int, cols: Int) throws -> Result<Bool, ProtocolError> {
        try wait { done in backend.createTrip(id: id, name: name, rows: rows, cols: cols, reply: done) }
    }

    func deleteTrip(id: String) throws -> Result<Bool, ProtocolError> {
        try wait { done in backend.deleteTrip(id: id, reply: done) }
    }

    private func wait<T: Sendable>(_ start: (@escaping @Sendable (T) -> Void) -> Void) throws -> T {
        let answer = Shared<T?>(nil)
        let done = DispatchSemaphore(value: 0)
        start { v in
            answer.update { $0 = v }
            done.signal()
        }
        guard done.wait(timeout: .now() + 30) == .success, let v = answer.value else { throw TestFailure("no answer") }
        return v
    }
}
