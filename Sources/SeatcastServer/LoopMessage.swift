import SeatcastCore

// Owns: what other threads hand to the loop, as `LoopEntry` queues it. Built on any thread;
// carried out on the loop (`ServiceLoop.process`). A message may carry a Session or an
// HTTPRequest: other threads only carry them back, never touch them.

enum LoopMessage: @unchecked Sendable {
    /// A frame for a session (a command's reply).
    case send(Session, Frame)
    /// An HTTP request's answer.
    case http(HTTPRequest, HTTPResponse)
    /// An audit's findings, answered and counted on the loop.
    case audited(HTTPRequest, String, [AuditViolation])
    /// A trip's snapshot for the subscription policy (`loadSnapshot`).
    case snapshotLoaded(String, Result<TripSnapshot, ProtocolError>)
    /// An outbox read for a resume (`loadOutbox`), its events already encoded.
    case outboxLoaded(Session, tripId: String, token: Int, Result<[EventFrame]?, ProtocolError>)
    /// Committed events of a trip from the listener, in `seq` order, each encoded once.
    case events(String, [EncodedEvent])
    /// The listener lost history of the trip: reload it.
    case reload(String)
    /// The answer to a command that counted as in flight, with its `type:outcome` label.
    indirect case done(LoopMessage, outcome: String)
    /// A buyer token's deadline passed (`ExpiryTicker`): close the connections it ends.
    case expire
    /// Shut down.
    case stop
}

/// A trip event and its frame, encoded once on the listener thread and shared by every
/// subscriber.
struct EncodedEvent: @unchecked Sendable {
    let event: TripEvent
    let frame: Frame
}
