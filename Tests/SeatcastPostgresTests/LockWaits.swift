import Foundation
import SeatcastCore
@testable import SeatcastPostgres
import SeatcastTesting
import Testing

/// Commands run on a thread of their own, with a connection of their own, so the test can
/// watch that connection wait on a lock another connection holds, and then end the wait.
final class BackgroundApply: Sendable {
    let pid: Int
    private let outcome = Shared<Result<[CommandOutcome], PGError>?>(nil)
    private let finished = DispatchSemaphore(value: 0)

    /// Starts a thread that connects and runs `commands` in one transaction of their own;
    /// returns once it has connected.
    init(_ commands: [Command], ttl: Int64 = defaultTTL) throws {
        let connected = DispatchSemaphore(value: 0)
        let backendPid = Shared<Int?>(nil)
        Thread { [outcome, finished] in
            let r: Result<[CommandOutcome], PGError>
            do {
                let db = try TestDatabase.shared.connect()
                backendPid.update { $0 = (try? db.exec("SELECT pg_backend_pid()").int(0, 0)) ?? -1 }
                connected.signal()
                r = .success(try apply(db, commands, ttl: ttl))
            } catch let e as PGError {
                r = .failure(e)
            } catch {
                r = .failure(PGError(kind: .connection, sqlState: nil, message: "\(error)"))
            }
            if backendPid.value == nil { connected.signal() }
            outcome.update { $0 = r }
            finished.signal()
        }.start()
        guard connected.wait(timeout: .now() + 30) == .success, let p = backendPid.value else {
            throw TestFailure("no connection")
        }
        pid = p
    }

    /// Whether the connection is waiting for a lock right now.
    var isWaitingOnLock: Bool {
        get throws {
            try TestDatabase.shared.sql("SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1", [String(pid)])
                .string(0, 0) == "Lock"
        }
    }

    /// Whether the commands have been answered (or failed).
    var isDone: Bool { outcome.value != nil }

    /// Waits (up to `timeout` s) until the connection waits for a lock; false if it finished first or never did.
    func waitsOnLock(timeout: Double = 20) throws -> Bool {
        try eventually(timeout: timeout) { try isDone || isWaitingOnLock } && !isDone
    }

    /// The outcomes, once the commands ran (up to `timeout` s).
    func result(timeout: Double = 30) throws -> [CommandOutcome] {
        guard finished.wait(timeout: .now() + timeout) == .success else { throw TestFailure("no answer within \(timeout) s") }
        finished.signal()
        return try outcome.value!.get()
    }
}
