import Foundation
import SeatcastCore
import Synchronization

/// A thread with its own connection that runs jobs from a `WakeQueue`. Commands that
/// are queued together run as batches, one transaction and one round trip each
/// (group commit); writes (trips created, deleted) run in transactions of their own, in
/// queue order with the commands; reads run one by one, after them. While the database is away, jobs are answered
/// `unavailable` at once and the worker reconnects with backoff.
///
/// A connection the server ended while it sat idle (a restart) is found before the next
/// jobs run and replaced at once, so they meet a live one. A read that still loses its
/// connection runs once more on a fresh one. A command never does: its outcome is unknown
/// once the connection dies under it, and running it again could apply it twice.
final class DatabaseWorker: Sendable {
    enum Job: Sendable {
        case command(Command, session: Int, scope: HoldScope, @Sendable (CommandOutcome) -> Void)
        /// Runs on the writer thread in a transaction of its own, after the commands queued
        /// before it and before those queued after it (creating, deleting trips). `body`
        /// returns the answer, run once the transaction has committed; `fail` when it could
        /// not run or did not commit. Like a command, it never runs twice after its
        /// connection died under it.
        case write(@Sendable (SeatStore) throws(PGError) -> @Sendable () -> Void, fail: @Sendable (PGError) -> Void)
        /// Runs on the worker thread with a live store; `fail` when there is none. It may run
        /// twice (see above), so it only reads, and answers only once its queries succeeded.
        case read(@Sendable (SeatStore) throws(PGError) -> Void, fail: @Sendable (PGError) -> Void)
    }

    struct Config: Sendable {
        var url: String
        var name: String
        var holdTTLms: Int64
        /// How long a hold may last from its start, extends included.
        var maxHoldMs: Int64 = Schema.defaultMaxHoldMs
        /// Most commands per transaction.
        var maxBatch = 512
        /// Most commands per transaction that run in a subtransaction (multi-seat reserves,
        /// confirms): PostgreSQL keeps at most 64 of those per transaction in shared memory
        /// before slowing down.
        var maxSubtransactions = 48
        /// Periodic maintenance this worker runs (the writer only); nil for none.
        var maintenance: Maintenance?
    }

    /// Expiry sweeps and outbox pruning, run between batches.
    struct Maintenance: Sendable {
        var sweepInterval: Double
        var pruneInterval: Double
        var retainEvents: Int64
        var retainSeconds: Double
    }

    let config: Config
    let queue = WakeQueue<Job>()
    private let running = Atomic<Bool>(true)
    private let finished = DispatchSemaphore(value: 0)
    /// Connected right now (read by metrics and health from any thread).
    let connected = Atomic<Bool>(false)
    let batches = Atomic<Int>(0)
    let expired = Atomic<Int>(0)
    let pruned = Atomic<Int>(0)
    /// Signalled once the first connection attempt has succeeded or failed.
    let firstAttempt = DispatchSemaphore(value: 0)

    init(_ config: Config) { self.config = config }

    func start() {
        let t = Thread { [self] in
            self.run()
            self.finished.signal()
        }
        t.name = config.name
        t.start()
    }

    /// Finishes the jobs already queued, then stops. Any thread.
    func stop() {
        running.store(false, ordering: .sequentiallyConsistent)
        queue.wake()
        finished.wait()
    }

    // MARK: Worker thread

    /// The worker thread's connection and its reconnection schedule.
    private struct Link {
        var db: PGConnection?
        var backoffMs: Int32 = 50
        var nextAttempt = 0.0
        var attempted = false
    }

    /// One connection attempt now; a failure puts the next scheduled one off (backoff).
    private func connect(_ link: inout Link) {
        do {
            link.db = try PGConnection(config.url)
            link.backoffMs = 50
            connected.store(true, ordering: .relaxed)
        } catch {
            link.nextAttempt = Timestamp.monotonicSeconds() + Double(link.backoffMs) / 1000
            link.backoffMs = min(link.backoffMs * 2, 2000)
        }
        if !link.attempted {
            link.attempted = true
            firstAttempt.signal()
        }
    }

    private func disconnect(_ link: inout Link) {
        link.db = nil
        connected.store(false, ordering: .relaxed)
    }

    private func run() {
        var link = Link()
        var nextSweep = 0.0
        var nextPrune = Timestamp.monotonicSeconds() + (config.maintenance?.pruneInterval ?? 0)
        while true {
            let isRunning = running.load(ordering: .sequentiallyConsistent)
            if link.db == nil, Timestamp.monotonicSeconds() >= link.nextAttempt { connect(&link) }
            var timeoutMs: Int32 = link.db == nil ? 200 : -1
            if let m = config.maintenance, link.db != nil {
                let next = min(nextSweep, nextPrune) - Timestamp.monotonicSeconds()
                timeoutMs = Int32(max(0, min(next, m.sweepInterval)) * 1000)
            }
            queue.wait(timeoutMs: isRunning ? timeoutMs : 0)
            let jobs = queue.takeAll()
            if jobs.isEmpty && !isRunning { break }
            // The server may have ended the idle connection since its last use. Replace it
            // now, without waiting for a backoff (it served until now): nothing has been
            // sent on it, so even commands still run exactly once.
            if let db = link.db, !db.isAliveWhenIdle() {
                disconnect(&link)
                connect(&link)
            }
            guard let db = link.db else {
                fail(jobs, PGError(kind: .connection, sqlState: nil, message: "database unavailable"))
                continue
            }
            var reads: [Read] = []
            guard runWrites(jobs, db, reads: &reads) else {
                disconnect(&link)
                fail(reads.map { .read($0.body, fail: $0.fail) }, PGError(kind: .connection, sqlState: nil, message: "connection lost"))
                continue
            }
            runReads(reads, &link)
            if let db = link.db, isRunning, let m = config.maintenance {
                var ok = true
                let now = Timestamp.monotonicSeconds()
                if now >= nextSweep {
                    ok = sweep(db)
                    nextSweep = now + m.sweepInterval
                }
                if ok, now >= nextPrune {
                    ok = prune(db, m)
                    nextPrune = now + m.pruneInterval
                }
                if !ok { disconnect(&link) }
            }
        }
        connected.store(false, ordering: .relaxed)
    }

    private func fail(_ jobs: [Job], _ error: PGError) {
        for job in jobs {
            switch job {
            case let .command(_, _, _, reply): reply(.failed(Self.protocolError(error)))
            case let .read(_, fail), let .write(_, fail): fail(error)
            }
        }
    }

    /// Releases expired holds (their subscribers get seat_released, reason expired).
    /// False when the connection was lost.
    private func sweep(_ db: PGConnection) -> Bool {
        do {
            while true {
                let n = try db.exec("SELECT seatcast_expire(1000)").int(0, 0) ?? 0
                expired.add(n, ordering: .relaxed)
                if n < 1000 { return true }
            }
        } catch {
            return error.kind != .connection
        }
    }

    private func prune(_ db: PGConnection, _ m: Maintenance) -> Bool {
        do {
            let n = try db.exec("SELECT seatcast_prune($1, $2 * interval '1 second')",
                                [String(m.retainEvents), String(m.retainSeconds)]).int(0, 0) ?? 0
            pruned.add(n, ordering: .relaxed)
            return true
        } catch {
            return error.kind != .connection
        }
    }

    static func protocolError(_ e: PGError) -> ProtocolError {
        e.kind == .connection
            ? ProtocolError(.unavailable, "the database is unavailable; try again")
            : ProtocolError(.internal, "the database refused the request")
    }

    /// Runs the reads in order. A read whose connection dies under it runs once more on a
    /// fresh connection (a read changes nothing, so a second run is harmless); when there
    /// is none, it and the rest fail.
    private func runReads(_ reads: [Read], _ link: inout Link) {
        var i = 0
        var retried = false
        while i < reads.count, let db = link.db {
            do {
                try reads[i].body(SeatStore(db))
            } catch {
                if error.kind == .connection {
                    disconnect(&link)
                    if !retried {
                        retried = true
                        connect(&link)
                        if link.db != nil { continue }
                    }
                }
                reads[i].fail(error)
            }
            i += 1
            retried = false
        }
        if i < reads.count {
            fail(reads[i...].map { .read($0.body, fail: $0.fail) }, PGError(kind: .connection, sqlState: nil, message: "connection lost"))
        }
    }

    /// Runs the commands and writes of `jobs` in the order queued (commands between two
    /// writes in batches) and collects the reads; false when the connection was lost (every
    /// command and write not run is failed).
    private func runWrites(_ jobs: [Job], _ db: PGConnection, reads: inout [Read]) -> Bool {
        var commands: [Pending] = []
        for (i, job) in jobs.enumerated() {
            switch job {
            case let .command(c, session, scope, r): commands.append(Pending(command: c, session: session, scope: scope, reply: r))
            case let .read(body, fail): reads.append(Read(body: body, fail: fail))
            case let .write(body, failWrite):
                let lost = PGError(kind: .connection, sqlState: nil, message: "connection lost")
                var ok = runCommands(commands, db)
                if ok { ok = runWrite(body, failWrite, db) } else { failWrite(lost) }
                commands = []
                if !ok {
                    fail(jobs[(i + 1)...].filter { if case .read = $0 { false } else { true } }, lost)
                    reads += jobs[(i + 1)...].compactMap { if case let .read(b, f) = $0 { Read(body: b, fail: f) } else { nil } }
                    return false
                }
            }
        }
        return runCommands(commands, db)
    }

    /// One write job in a transaction of its own, run again after a deadlock or
    /// serialization failure; false when the connection was lost.
    private func runWrite(_ body: @Sendable (SeatStore) throws(PGError) -> @Sendable () -> Void,
                          _ fail: @Sendable (PGError) -> Void, _ db: PGConnection) -> Bool {
        var attempt = 0
        while true {
            do {
                let answer = try db.transaction { () throws(PGError) in try body(SeatStore(db)) }
                answer()
                return true
            } catch {
                attempt += 1
                if error.kind != .connection, error.isRetryable, attempt < 5 { continue }
                fail(error)
                return error.kind != .connection
            }
        }
    }

    /// Runs the commands in batches; false when the connection was lost (the rest are failed).
    private func runCommands(_ commands: [Pending], _ db: PGConnection) -> Bool {
        var start = 0
        while start < commands.count {
            var end = start
            var subtransactions = 0
            while end < commands.count, end - start < config.maxBatch {
                if Self.usesSubtransaction(commands[end].command) {
                    if subtransactions == config.maxSubtransactions { break }
                    subtransactions += 1
                }
                end += 1
            }
            let batch = Array(commands[start..<end])
            if !runBatch(batch, db) {
                fail(commands[end...].map { .command($0.command, session: $0.session, scope: $0.scope, $0.reply) },
                     PGError(kind: .connection, sqlState: nil, message: "connection lost"))
                return false
            }
            start = end
        }
        return true
    }

    /// Multi-seat reserves, best-available reserves (seatcast_best) and confirms run in a
    /// subtransaction inside seatcast_apply.
    static func usesSubtransaction(_ c: Command) -> Bool {
        switch c {
        case let .reserve(_, .listed(seats), _): return seats.count > 1
        case .reserve(_, .best, _): return true
        case .confirm: return true
        case .release, .releaseSeats, .extend: return false
        }
    }

    struct Pending {
        var command: Command
        var session: Int
        var scope: HoldScope
        var reply: @Sendable (CommandOutcome) -> Void
    }

    struct Read {
        var body: @Sendable (SeatStore) throws(PGError) -> Void
        var fail: @Sendable (PGError) -> Void
    }

    /// One transaction for the batch. Deadlocks and serialization failures are retried;
    /// any other failure runs each command alone, so one bad command fails only itself.
    ///
    /// A batch of several commands never waits for seats other transactions hold on behalf
    /// of a best-available reserve (`SeatStore.applyDeferringWaits`): such a reserve, and
    /// its session's later commands, run after the batch commits, each session's in a
    /// transaction of its own that holds no other session's seats, where it may wait.
    private func runBatch(_ batch: [Pending], _ db: PGConnection, deferWaits: Bool = true) -> Bool {
        let store = SeatStore(db)
        let commands = batch.map(\.command)
        let sessions = batch.map(\.session)
        let scopes = batch.map(\.scope)
        let deferring = deferWaits && batch.count > 1
        var attempt = 0
        while true {
            do {
                let outcomes = try db.transaction { () throws(PGError) -> [CommandOutcome?] in
                    deferring
                        ? try store.applyDeferringWaits(commands, sessions: sessions, scopes: scopes,
                                                        holdTTLms: config.holdTTLms, maxHoldMs: config.maxHoldMs)
                        : try store.apply(commands, sessions: sessions, scopes: scopes, holdTTLms: config.holdTTLms,
                                          maxHoldMs: config.maxHoldMs).map { $0 }
                }
                batches.add(1, ordering: .relaxed)
                var deferred: [Int: [Pending]] = [:]
                var order: [Int] = []
                for (i, o) in outcomes.enumerated() {
                    if let o {
                        batch[i].reply(o)
                    } else {
                        if deferred[batch[i].session] == nil { order.append(batch[i].session) }
                        deferred[batch[i].session, default: []].append(batch[i])
                    }
                }
                for (k, session) in order.enumerated() where !runBatch(deferred[session]!, db, deferWaits: false) {
                    for p in order[(k + 1)...].flatMap({ deferred[$0]! }) {
                        p.reply(.failed(Self.protocolError(PGError(kind: .connection, sqlState: nil, message: "connection lost"))))
                    }
                    return false
                }
                return true
            } catch {
                if error.kind == .connection {
                    for p in batch { p.reply(.failed(Self.protocolError(error))) }
                    return false
                }
                attempt += 1
                if error.isRetryable && attempt < 5 { continue }
                if batch.count > 1 {
                    for (i, one) in batch.enumerated() where !runBatch([one], db, deferWaits: false) {
                        for p in batch[(i + 1)...] {
                            p.reply(.failed(Self.protocolError(PGError(kind: .connection, sqlState: nil, message: "connection lost"))))
                        }
                        return false
                    }
                    return true
                }
                batch[0].reply(.failed(Self.protocolError(error)))
                return true
            }
        }
    }
}
