/// The limits of docs/PROTOCOL.md, with their defaults. All configurable.
public struct Limits: Sendable, Equatable {
    /// Largest accepted message, bytes (after decompression). Over it: close 1009.
    public var maxMessageBytes = 64 * 1024
    /// Most seats one reserve/confirm/release may name.
    public var maxSeatsPerRequest = 10
    /// Most trips one connection may be subscribed to.
    public var maxSubscriptions = 64
    /// Sustained messages per second per connection.
    public var messagesPerSecond: Double = 50
    /// Burst size of the per-connection token bucket.
    public var messageBurst: Double = 100
    /// Bytes a connection may have queued for sending before it is resynced.
    public var maxQueuedBytes = 256 * 1024
    /// A client whose socket has taken nothing for this long is stalled; only overflows of
    /// stalled clients count towards closing them.
    public var stalledSeconds: Double = 1
    /// Resyncs within `resyncWindowSeconds` after which a slow client is closed (1013).
    public var maxResyncs = 3
    public var resyncWindowSeconds: Double = 60

    public init() {}
}
