import Dispatch
import SeatcastCore
import Synchronization

/// SeatcastCore's `SeatBackend` on PostgreSQL: a writer thread for commands (batched),
/// a reader thread for snapshots and lists, and the listener thread for events.
public final class PostgresBackend: SeatBackend {
    public struct Config: Sendable {
        public var url: String
        public var holdTTLSeconds: Double
        /// How long a hold may last from its start, extends included (`--max-hold`).
        public var maxHoldSeconds: Double = Double(Schema.defaultMaxHoldMs) / 1000
        /// How often expired holds are released.
        public var sweepIntervalSeconds: Double = 1
        /// Outbox retention per trip: the last `retainEvents` events, none older than `retainSeconds`.
        public var retainEvents: Int64 = 10_000
        public var retainSeconds: Double = 24 * 3600
        public var pruneIntervalSeconds: Double = 60
        public init(url: String, holdTTLSeconds: Double = 120) {
            self.url = url
            self.holdTTLSeconds = holdTTLSeconds
        }
    }

    let writer: DatabaseWorker
    let reader: DatabaseWorker
    let listener: EventListener

    public init(_ config: Config) {
        let ttl = Int64(config.holdTTLSeconds * 1000)
        var w = DatabaseWorker.Config(url: config.url, name: "seatcast-db-writer", holdTTLms: ttl)
        w.maxHoldMs = Int64(config.maxHoldSeconds * 1000)
        w.maintenance = .init(sweepInterval: config.sweepIntervalSeconds, pruneInterval: config.pruneIntervalSeconds,
                              retainEvents: config.retainEvents, retainSeconds: config.retainSeconds)
        writer = DatabaseWorker(w)
        reader = DatabaseWorker(.init(url: config.url, name: "seatcast-db-reader", holdTTLms: ttl))
        listener = EventListener(url: config.url)
    }

    /// Where committed events go. Set before `start`.
    public func setEventSink(_ sink: any SeatEventSink) { listener.sink.withLock { $0 = sink } }

    /// Starts the threads and waits (at most 10 s) for each one's first connection attempt,
    /// so a server that starts serving knows whether its database is there.
    public func start() {
        writer.start()
        reader.start()
        listener.start()
        for s in [writer.firstAttempt, reader.firstAttempt, listener.firstAttempt] { _ = s.wait(timeout: .now() + 10) }
    }

    /// Finishes queued work and closes the connections.
    public func stop() {
        writer.stop()
        reader.stop()
        listener.stop()
    }

    public var isConnected: Bool { writer.connected.load(ordering: .relaxed) && listener.connected.load(ordering: .relaxed) }
    public var listenerReconnects: Int { listener.reconnects.load(ordering: .relaxed) }
    public var transactions: Int { writer.batches.load(ordering: .relaxed) }
    public var holdsExpired: Int { writer.expired.load(ordering: .relaxed) }
    public var eventsPruned: Int { writer.pruned.load(ordering: .relaxed) }

    // MARK: SeatBackend

    public func execute(_ command: Command, session: Int, scope: HoldScope, reply: @escaping @Sendable (CommandOutcome) -> Void) {
        writer.queue.push(.command(command, session: session, scope: scope, reply))
    }

    /// On the writer, in order with the commands queued before and after it.
    public func createTrip(id: String, name: String, rows: Int, cols: Int,
                           reply: @escaping @Sendable (Result<Bool, ProtocolError>) -> Void) {
        if let problem = Self.tripProblem(id: id, name: name, rows: rows, cols: cols) {
            return reply(.failure(ProtocolError(.badRequest, problem)))
        }
        writer.queue.push(.write({ store throws(PGError) in
            let created = try store.insertTrip(id: id, name: name, rows: rows, cols: cols) == .created
            return { reply(.success(created)) }
        }, fail: { e in reply(.failure(DatabaseWorker.protocolError(e))) }))
    }

    /// On the writer, in order with the commands. The trip's seats and history go with it
    /// (`seatcast_trips_after_delete`); its subscribers get a resync, whose snapshot fails
    /// with unknown_trip.
    public func deleteTrip(id: String, reply: @escaping @Sendable (Result<Bool, ProtocolError>) -> Void) {
        guard Validation.isTripId(id) else { return reply(.success(false)) }
        writer.queue.push(.write({ store throws(PGError) in
            let deleted = try store.deleteTrip(id: id)
            return { reply(.success(deleted)) }
        }, fail: { e in reply(.failure(DatabaseWorker.protocolError(e))) }))
    }

    /// What is wrong with a trip to create, as `seatcast trip create` says it (the same
    /// limits: `Validation`, the `trips` table's checks), or nil.
    static func tripProblem(id: String, name: String, rows: Int, cols: Int) -> String? {
        guard Validation.isTripId(id) else { return "tripId must be 1-64 of A-Z a-z 0-9 _ -" }
        guard (1...Validation.maxTripRows).contains(rows) else { return "rows must be 1...\(Validation.maxTripRows)" }
        guard (1...Validation.maxTripCols).contains(cols) else { return "cols must be 1...\(Validation.maxTripCols)" }
        guard Validation.isTripSize(rows: rows, cols: cols) else { return "rows x cols must be at most \(Validation.maxTripSeats) seats" }
        // length(name) in PostgreSQL counts code points; NUL cannot travel as a text parameter.
        guard (1...200).contains(name.unicodeScalars.count), !name.unicodeScalars.contains("\u{0}") else {
            return "name must be 1-200 characters"
        }
        return nil
    }

    public func snapshot(tripId: String, reply: @escaping @Sendable (Result<TripSnapshot, ProtocolError>) -> Void) {
        read(reply) { store throws(PGError) in
            guard let s = try store.snapshot(tripId: tripId) else {
                return .failure(ProtocolError(.unknownTrip, "unknown trip \"\(tripId)\""))
            }
            return .success(s)
        }
    }

    public func events(tripId: String, epoch: String, afterSeq: Int64, throughSeq: Int64,
                       reply: @escaping @Sendable (Result<[TripEvent]?, ProtocolError>) -> Void) {
        read(reply) { store throws(PGError) in
            guard let pos = try store.position(tripId: tripId) else {
                return .failure(ProtocolError(.unknownTrip, "unknown trip \"\(tripId)\""))
            }
            guard pos.epoch == epoch, afterSeq <= throughSeq, throughSeq <= pos.seq else { return .success(nil) }
            let wanted = throughSeq - afterSeq
            let events = try store.events(tripId: tripId, afterSeq: afterSeq, limit: Int(wanted))
            // Anything missing (trimmed history) means the caller needs a snapshot instead.
            if let first = events.first, first.seq != afterSeq + 1 { return .success(nil) }
            if Int64(events.count) != wanted { return .success(nil) }
            return .success(events)
        }
    }

    public func audit(tripId: String, reply: @escaping @Sendable (Result<[AuditViolation], ProtocolError>) -> Void) {
        read(reply) { store throws(PGError) in
            guard try store.position(tripId: tripId) != nil else {
                return .failure(ProtocolError(.unknownTrip, "unknown trip \"\(tripId)\""))
            }
            let r = try store.db.exec("SELECT seat_no, problem FROM seatcast_audit($1)", [tripId])
            return .success((0..<r.rowCount).map { AuditViolation(seatNo: r.string($0, 0), problem: r.string($0, 1) ?? "") })
        }
    }

    public func trips(reply: @escaping @Sendable (Result<[TripSummary], ProtocolError>) -> Void) {
        read(reply) { store throws(PGError) in .success(try store.trips()) }
    }

    public func trips(limit: Int, after: String?, reply: @escaping @Sendable (Result<[TripSummary], ProtocolError>) -> Void) {
        read(reply) { store throws(PGError) in .success(try store.trips(limit: limit, after: after)) }
    }

    public func health(reply: @escaping @Sendable (Bool) -> Void) {
        reader.queue.push(.read({ store throws(PGError) in
            try store.db.exec("SELECT 1")
            reply(true)
        }, fail: { _ in reply(false) }))
    }

    public func watch(tripId: String, afterSeq: Int64) { listener.queue.push(.watch(tripId, afterSeq: afterSeq)) }
    public func unwatch(tripId: String) { listener.queue.push(.unwatch(tripId)) }

    private func read<T: Sendable>(_ reply: @escaping @Sendable (Result<T, ProtocolError>) -> Void,
                                   _ body: @escaping @Sendable (SeatStore) throws(PGError) -> Result<T, ProtocolError>) {
        reader.queue.push(.read({ store throws(PGError) in
            reply(try body(store))
        }, fail: { e in reply(.failure(DatabaseWorker.protocolError(e))) }))
    }
}
