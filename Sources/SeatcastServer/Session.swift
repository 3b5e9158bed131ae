import SeatcastCore

// Owns: what the server keeps per WebSocket connection. Thread: loop only.

/// One WebSocket connection. Kept small (idle memory per connection is a tracked metric):
/// an idle session with no queued frames owns no heap memory beyond this object, which
/// lws's opaque pointer holds (no per-connection allocation of lws's). Trip state is not
/// here: a resume in flight waits in its trip's hub (`SubscriptionMachine`).
final class Session: @unchecked Sendable {
    let wsi: OpaquePointer
    let id: Int
    /// The send side: queue, cap, resync and close policy (SeatcastCore's pure state machine).
    var outbox = Outbox()
    /// On the server's flush list for the end of this loop pass.
    var flushPending = false
    /// A write to the socket failed: close it at the next WRITEABLE.
    var broken = false
    var subscriptions = Subscriptions()
    /// Fragments of the message being received.
    var rx: [UInt8] = []
    var bucket: TokenBucket
    var closed = false
    /// The connection's buyer token; nil in open mode and for a `--public-read` connection
    /// without one (one pointer, so an idle session stays small).
    var auth: SessionAuth?

    init(wsi: OpaquePointer, id: Int, limits: Limits, now: Double) {
        self.wsi = wsi
        self.id = id
        bucket = TokenBucket(burst: limits.messageBurst, now: now)
    }

    var subscribedTripIds: [String] { Array(subscriptions) }
}

/// A WebSocket's verified buyer token (docs/PROTOCOL.md 1.1): replaced by `auth`, watched
/// by `ConnectionAuth`'s expiry queue. Loop thread only.
final class SessionAuth {
    var claims: BuyerClaims
    /// Closing with 1008 because the token ran out (the close reason says so).
    var expired = false

    init(claims: BuyerClaims) { self.claims = claims }
}
