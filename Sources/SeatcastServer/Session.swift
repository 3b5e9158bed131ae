import SeatcastCore

/// One WebSocket connection. Loop thread only. Kept small: an idle session with no
/// queued frames owns no heap memory beyond this object.
final class Session: @unchecked Sendable {
    let wsi: OpaquePointer
    let id: Int
    /// Unsent frames; `head` is the next one. Reset when it empties.
    var queue: [Frame] = []
    var head = 0
    var queuedBytes = 0
    var writableRequested = false
    var subscriptions: [TripHub] = []
    /// Fragments of the message being received.
    var rx: [UInt8] = []
    var bucket: TokenBucket
    /// Close with this code at the next WRITEABLE (after the queue drains when `drainBeforeClose`).
    var closeCode: UInt16 = 0
    var drainBeforeClose = false
    var closed = false
    /// Stream frames were dropped: send these trips' snapshots once the queue drains.
    var resyncTrips: [TripHub] = []
    var resyncCount = 0
    var resyncWindowStart = 0.0
    /// When we began waiting for lws to let us write (0 when not waiting). A client whose
    /// socket does not take data for a while is stalled; one that is merely handed a
    /// large burst keeps getting WRITEABLE callbacks.
    var waitingSince = 0.0
    /// The pending resync already counted against the client.
    var resyncCounted = false
    /// Trips whose resume from the outbox is in flight: their live events wait here.
    var resuming: [String: Resume] = [:]

    struct Resume {
        var token: Int
        var buffer: [(Int64, Frame)] = []
        var bytes = 0
    }

    init(wsi: OpaquePointer, id: Int, limits: Limits, now: Double) {
        self.wsi = wsi
        self.id = id
        bucket = TokenBucket(burst: limits.messageBurst, now: now)
    }

    func isSubscribed(_ hub: TripHub) -> Bool { subscriptions.contains { $0 === hub } }
}
