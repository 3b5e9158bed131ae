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

/// A connection that lives on a thread of its own and runs the steps it is given there, one
/// at a time, in order: a test can leave a transaction open on it, make it wait on a lock,
/// and carry on meanwhile on other connections.
final class ConnectionThread: Sendable {
    let pid: Int
    private let jobs = Shared<[@Sendable (PGConnection) -> Void]>([])
    private let wake = DispatchSemaphore(value: 0)

    init() throws {
        let connected = DispatchSemaphore(value: 0)
        let backendPid = Shared<Int?>(nil)
        let failure = Shared<String?>(nil)
        Thread { [jobs, wake] in
            let db: PGConnection
            do {
                db = try TestDatabase.shared.connect()
                backendPid.update { $0 = (try? db.exec("SELECT pg_backend_pid()").int(0, 0)) ?? -1 }
            } catch {
                failure.update { $0 = "\(error)" }
                connected.signal()
                return
            }
            connected.signal()
            while true {
                wake.wait()
                guard let job = jobs.update({ $0.isEmpty ? nil : $0.removeFirst() }) else { return } // stop
                job(db)
            }
        }.start()
        guard connected.wait(timeout: .now() + 30) == .success, let p = backendPid.value else {
            throw TestFailure("no connection: \(failure.value ?? "timeout")")
        }
        pid = p
    }

    deinit { wake.signal() } // an empty queue ends the thread

    /// One step's answer, once the thread has run it.
    final class Pending<T: Sendable>: Sendable {
        fileprivate let value = Shared<Result<T, TestFailure>?>(nil)
        fileprivate let done = DispatchSemaphore(value: 0)
        var isDone: Bool { value.value != nil }
        func wait(timeout: Double = 30) throws -> T {
            guard done.wait(timeout: .now() + timeout) == .success else { throw TestFailure("no answer within \(timeout) s") }
            done.signal()
            return try value.value!.get()
        }
    }

    /// Runs `body` on the thread after the steps before it; returns at once.
    @discardableResult
    func submit<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T) -> Pending<T> {
        let p = Pending<T>()
        jobs.update { $0.append({ db in
            let r: Result<T, TestFailure>
            do { r = .success(try body(db)) } catch { r = .failure(TestFailure("\(error)")) }
            p.value.update { $0 = r }
            p.done.signal()
        }) }
        wake.signal()
        return p
    }

    /// Runs `body` on the thread and waits for its answer.
    func run<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T) throws -> T {
        try submit(body).wait()
    }

    /// Whether the connection is waiting for a lock right now.
    var isWaitingOnLock: Bool {
        get throws {
            try TestDatabase.shared.sql("SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1", [String(pid)])
                .string(0, 0) == "Lock"
        }
    }

    /// Waits (up to `timeout` s) until `pending` waits for a lock; false if it finished first or never did.
    func waitsOnLock<T>(_ pending: Pending<T>, timeout: Double = 20) throws -> Bool {
        try eventually(timeout: timeout) { try pending.isDone || isWaitingOnLock } && !pending.isDone
    }
}
