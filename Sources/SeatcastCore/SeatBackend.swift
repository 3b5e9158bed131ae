/// What the server needs from the store. The server calls these on its loop
/// thread; the store answers on its own threads through the `reply` closures,
/// which must therefore only hand results over (the server's inbox does that).
/// The two meet in SeatcastApp; neither imports the other.
public protocol SeatBackend: AnyObject, Sendable {
    /// Runs a reserve/confirm/release. Requests that arrive together may share a transaction
    /// and may run in another order than they arrived, except that the commands of one
    /// `session` (a connection) always take effect in the order they were sent.
    /// `scope`: whose holds the command may touch and whose quota it counts against.
    func execute(_ command: Command, session: Int, scope: HoldScope, reply: @escaping @Sendable (CommandOutcome) -> Void)
    /// Creates a trip of `rows` x `cols` seats (`POST /api/trips`); false when the id exists.
    func createTrip(id: String, name: String, rows: Int, cols: Int, reply: @escaping @Sendable (Result<Bool, ProtocolError>) -> Void)
    /// Deletes a trip with its seats and history (`DELETE /api/trips/{id}`); false when unknown.
    func deleteTrip(id: String, reply: @escaping @Sendable (Result<Bool, ProtocolError>) -> Void)
    /// The trip's seats and its stream position, read in one database snapshot.
    func snapshot(tripId: String, reply: @escaping @Sendable (Result<TripSnapshot, ProtocolError>) -> Void)
    /// Committed events of a trip with `afterSeq < seq <= throughSeq` in the given epoch,
    /// oldest first; nil when the epoch differs or any of them is no longer kept.
    func events(tripId: String, epoch: String, afterSeq: Int64, throughSeq: Int64,
                reply: @escaping @Sendable (Result<[TripEvent]?, ProtocolError>) -> Void)
    /// Invariant violations of a trip (always empty unless something is badly wrong).
    func audit(tripId: String, reply: @escaping @Sendable (Result<[AuditViolation], ProtocolError>) -> Void)
    /// Trips with seat counts.
    func trips(reply: @escaping @Sendable (Result<[TripSummary], ProtocolError>) -> Void)
    /// At most `limit` trips with `trip_id > after`, ordered by trip id (`GET /api/trips` paging).
    func trips(limit: Int, after: String?, reply: @escaping @Sendable (Result<[TripSummary], ProtocolError>) -> Void)
    /// Whether the database answers.
    func health(reply: @escaping @Sendable (Bool) -> Void)
    /// From now on deliver the trip's events with `seq > afterSeq` to the event sink, in order.
    func watch(tripId: String, afterSeq: Int64)
    /// Stop delivering the trip's events.
    func unwatch(tripId: String)
}

extension SeatBackend {
    /// A command with version 1 rights: any hold token works, no quota.
    public func execute(_ command: Command, session: Int, reply: @escaping @Sendable (CommandOutcome) -> Void) {
        execute(command, session: session, scope: .unrestricted, reply: reply)
    }
}

/// Receives committed events, in `seq` order per trip, on the store's listener thread.
public protocol SeatEventSink: AnyObject, Sendable {
    func deliver(tripId: String, events: [TripEvent])
    /// The listener lost events it cannot replay for this trip (for example after its
    /// history was reset): subscribers need a fresh snapshot.
    func resync(tripId: String)
}
