import Foundation
import SeatcastCore
@testable import SeatcastPostgres
import SeatcastTesting
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A database worker whose idle connection the server ended (a restart, an operator's
/// pg_terminate_backend) finds out before it runs the next job on it, so that job gets
/// an answer instead of `unavailable`.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct IdleConnectionTests {
    /// One answer from a worker thread.
    final class Answer<T: Sendable>: Sendable {
        private let value = Mutex<T?>(nil)
        private let arrived = DispatchSemaphore(value: 0)

        func set(_ v: T) {
            value.withLock { $0 = v }
            arrived.signal()
        }

        func wait(_ what: String, timeout: Double = 20) throws -> T {
            guard arrived.wait(timeout: .now() + timeout) == .success, let v = value.withLock({ $0 }) else {
                throw TestFailure("no \(what) within \(timeout)s")
            }
            return v
        }
    }

    /// A backend on the shared test database with no periodic maintenance in the way: only
    /// the test's own jobs touch the writer's connection.
    private func startBackend() -> PostgresBackend {
        var config = PostgresBackend.Config(url: TestDatabase.shared.url)
        config.sweepIntervalSeconds = 3600
        config.pruneIntervalSeconds = 3600
        let backend = PostgresBackend(config)
        backend.start()
        return backend
    }

    /// Runs `body` as a read job on `worker` and waits for what it answers or how it failed.
    private func read(on worker: DatabaseWorker, _ what: String,
                      _ body: @escaping @Sendable (SeatStore) throws(PGError) -> Int) throws -> Result<Int, PGError> {
        let answer = Answer<Result<Int, PGError>>()
        worker.queue.push(.read({ store throws(PGError) in answer.set(.success(try body(store))) },
                                fail: { answer.set(.failure($0)) }))
        return try answer.wait(what)
    }

    /// Runs `command` through the backend's writer and waits for its outcome.
    private func execute(_ backend: PostgresBackend, _ command: Command, _ what: String) throws -> CommandOutcome {
        let outcome = Answer<CommandOutcome>()
        backend.execute(command, session: 1) { outcome.set($0) }
        return try outcome.wait(what)
    }

    /// The server process id behind a worker's connection, asked on that connection.
    private func backendPID(_ worker: DatabaseWorker) throws -> Int {
        try read(on: worker, "backend pid") { store throws(PGError) in
            try store.db.exec("SELECT pg_backend_pid()").int(0, 0) ?? -1
        }.get()
    }

    /// Ends that server process the way a restart does (FATAL 57P01, then the socket
    /// closes) and waits until it is gone.
    private func terminate(_ pid: Int) throws {
        let r = try TestDatabase.shared.sql("SELECT pg_terminate_backend($1, 10000)", [String(pid)])
        #expect(r.string(0, 0) == "t", "backend \(pid) was not terminated")
    }

    /// isAliveWhenIdle: true for a live idle connection, false once the server ended it, and it keeps a notification that arrived meanwhile.
    @Test func idleCheckSeesTheServerEndingTheSession() throws {
        let db = try TestDatabase.shared.connect()
        #expect(db.isAliveWhenIdle())
        try db.exec("LISTEN seatcast_idle_test")
        let payload = "p-\(UInt32.random(in: 0...UInt32.max))"
        try TestDatabase.shared.sql("SELECT pg_notify('seatcast_idle_test', $1)", [payload])
        // The notification is on the socket (or soon): the check reads it and keeps it.
        let deadline = Date().addingTimeInterval(10)
        var seen: [String] = []
        while !seen.contains(payload), Date() < deadline {
            var p = pollfd(fd: db.socket, events: Int16(POLLIN), revents: 0)
            _ = poll(&p, 1, 100)
            #expect(db.isAliveWhenIdle())
            seen += try db.notifications().map(\.payload)
        }
        #expect(seen.contains(payload))

        let pid = try db.exec("SELECT pg_backend_pid()").int(0, 0) ?? -1
        try terminate(pid)
        #expect(!db.isAliveWhenIdle())
        #expect(!db.isConnected)
    }

    /// After the reader's idle connection is terminated, the very next health check and the very next snapshot succeed.
    @Test func readerReconnectsBeforeUsingATerminatedIdleConnection() throws {
        let backend = startBackend()
        defer { backend.stop() }
        let trip = try TestDatabase.shared.createTrip()

        let first = try backendPID(backend.reader)
        try terminate(first)
        let healthy = Answer<Bool>()
        backend.health { healthy.set($0) }
        #expect(try healthy.wait("health answer"), "the first health check after the termination failed")

        try terminate(try backendPID(backend.reader))
        let snapshot = Answer<Result<TripSnapshot, ProtocolError>>()
        backend.snapshot(tripId: trip) { snapshot.set($0) }
        let got = try snapshot.wait("snapshot")
        #expect((try? got.get())?.tripId == trip, "the first snapshot after the termination: \(got)")
        #expect(try backendPID(backend.reader) != first)
    }

    /// After the writer's idle connection is terminated, the very next reserve succeeds: nothing was sent on the dead connection, so running it on a fresh one is still exactly once.
    @Test func writerReconnectsBeforeUsingATerminatedIdleConnection() throws {
        let backend = startBackend()
        defer { backend.stop() }
        let trip = try TestDatabase.shared.createTrip()

        try terminate(try backendPID(backend.writer))
        let got = try execute(backend, .reserve(tripId: trip, seats: ["1A"], hold: newHold()), "reserve outcome")
        #expect(reservedUntil(got) != nil, "the first reserve after the termination: \(got)")
        let db = try TestDatabase.shared.connect()
        #expect(try seatRow(db, trip, "1A").status == "held")
        #expect(try lastSeq(db, trip) == 1, "the reserve ran more than once")
    }

    /// A read whose connection dies under it runs once more on a fresh connection, and its caller gets the answer.
    @Test func readRetriesOnceOnAFreshConnection() throws {
        let backend = startBackend()
        defer { backend.stop() }
        let runs = Atomic<Int>(0)
        let got = try read(on: backend.reader, "read answer") { store throws(PGError) in
            // The first run ends its own server process, as a restart would mid-query.
            if runs.add(1, ordering: .relaxed).newValue == 1 {
                try store.db.exec("SELECT pg_terminate_backend(pg_backend_pid())")
            }
            return try store.db.exec("SELECT 42").int(0, 0) ?? -1
        }
        #expect((try? got.get()) == 42, "\(got)")
        #expect(runs.load(ordering: .relaxed) == 2)
    }

    /// A read that loses its fresh connection too fails with a connection error after its second run, and the next read is served.
    @Test func readRetriesOnlyOnce() throws {
        let backend = startBackend()
        defer { backend.stop() }
        let runs = Atomic<Int>(0)
        let got = try read(on: backend.reader, "read answer") { store throws(PGError) in
            runs.add(1, ordering: .relaxed)
            try store.db.exec("SELECT pg_terminate_backend(pg_backend_pid())")
            return 0
        }
        if case let .failure(e) = got { #expect(e.kind == .connection, "\(e)") } else { Issue.record("the read succeeded: \(got)") }
        #expect(runs.load(ordering: .relaxed) == 2)
        let healthy = Answer<Bool>()
        backend.health { healthy.set($0) }
        #expect(try healthy.wait("health answer"))
    }

    /// A command whose connection dies while it runs is answered `unavailable` and never run again: its outcome was unknown to the worker.
    @Test func commandWhoseConnectionDiesIsNotRetried() throws {
        let backend = startBackend()
        defer { backend.stop() }
        let trip = try TestDatabase.shared.createTrip()
        let writerPID = try backendPID(backend.writer)
        // Hold seat 1A's row lock, so the writer's transaction waits on it.
        let locker = try TestDatabase.shared.connect()
        try locker.exec("BEGIN")
        try locker.exec("SELECT 1 FROM seats WHERE trip_id = $1 AND seat_no = '1A' FOR UPDATE", [trip])
        let outcome = Answer<CommandOutcome>()
        backend.execute(.reserve(tripId: trip, seats: ["1A"], hold: newHold()), session: 1) { outcome.set($0) }
        // Wait until the writer is blocked on that lock, then end its server process.
        let deadline = Date().addingTimeInterval(20)
        while try TestDatabase.shared.sql("SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1",
                                          [String(writerPID)]).string(0, 0) != "Lock" {
            guard Date() < deadline else { throw TestFailure("the writer never waited on the seat's lock") }
            usleep(10_000) // poll interval
        }
        try terminate(writerPID)
        let got = try outcome.wait("reserve outcome")
        #expect(failureCode(got) == .unavailable, "\(got)")
        try locker.exec("ROLLBACK")
        // A barrier through the writer: a retry of the reserve would have run before its answer.
        #expect(reservedUntil(try execute(backend, .reserve(tripId: trip, seats: ["2A"], hold: newHold()), "barrier outcome")) != nil)
        let db = try TestDatabase.shared.connect()
        #expect(try seatRow(db, trip, "1A").status == "available", "the reserve ran again on the new connection")
        #expect(try lastSeq(db, trip) == 1)
    }
}
