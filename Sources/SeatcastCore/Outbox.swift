/// The send side of one WebSocket connection as a pure state machine: its queue, the byte
/// cap, stall detection, overflow to snapshot (resync), the 1008/1013 closes and
/// close-after-drain. It never touches a socket: every method returns what the server
/// must do, and the server reports back what the socket did (`wrote`, `blocked`,
/// `writable`). docs/ARCHITECTURE.md, "The send path", describes how the server runs it.
///
/// The rules (docs/PROTOCOL.md, "Slow clients"):
/// - Frames leave in the order they were pushed; a frame is written whole or handed whole
///   to the transport (which keeps any unsent rest ahead of everything else).
/// - A stream frame (event, snapshot, `subscribed`) that would push the queue past
///   `maxQueuedBytes` drops every queued stream frame instead; replies stay. Once the
///   queue drains, the connection gets one fresh snapshot per subscribed trip (`.snapshot`
///   steps), so its map stays correct without a gap. An empty queue always takes one
///   frame, so a snapshot larger than the cap still reaches a client that keeps up.
/// - Only an overflow while the socket is stalled (it has taken nothing for
///   `stalledSeconds`) counts against the client; more than `maxResyncs` counted within
///   `resyncWindowSeconds` close it with 1013. A client merely handed a large burst just
///   gets the smaller snapshot.
/// - Replies are never dropped; a client that lets `2 x maxQueuedBytes` of replies pile up
///   (it sends and never reads) is closed with 1008.
/// - A policy close drops what is queued; a draining close (shutdown, 1001) sends what
///   is queued first, then takes new replies but no new stream frames.
public struct Outbox {
    public struct Policy: Sendable, Equatable {
        public var maxQueuedBytes: Int
        public var stalledSeconds: Double
        public var maxResyncs: Int
        public var resyncWindowSeconds: Double

        public init(maxQueuedBytes: Int, stalledSeconds: Double, maxResyncs: Int, resyncWindowSeconds: Double) {
            self.maxQueuedBytes = maxQueuedBytes
            self.stalledSeconds = stalledSeconds
            self.maxResyncs = maxResyncs
            self.resyncWindowSeconds = resyncWindowSeconds
        }

        public init(_ l: Limits) {
            self.init(maxQueuedBytes: l.maxQueuedBytes, stalledSeconds: l.stalledSeconds,
                      maxResyncs: l.maxResyncs, resyncWindowSeconds: l.resyncWindowSeconds)
        }
    }

    /// What `push` asks of the server.
    public enum PushResult: Equatable, Sendable {
        /// The frame is queued: write the queue at the end of this loop pass (at once when
        /// the socket is free, else at the next WRITEABLE).
        case queued
        /// Nothing to do: the connection is closing, or a pending snapshot replaces the frame.
        case dropped
        /// Queued stream frames were dropped; snapshots follow once the queue drains.
        case overflowed
        /// The connection is to be closed with this code: ask for WRITEABLE and close there.
        case close(UInt16, overflowed: Bool)
    }

    /// What the server does next on a writable socket (`next(maxBytes:)`).
    public enum Step {
        /// Nothing queued.
        case idle
        /// Write these frames, in order, as one write; then report `wrote(count)`.
        case write(ArraySlice<Frame>)
        /// The queue drained after an overflow: push this trip's current snapshot with
        /// `pushSnapshot` (or skip it when no longer subscribed), then ask again.
        case snapshot(tripId: String)
        /// Send a close frame with this code and close the connection.
        case close(UInt16)
    }

    private var queue: [Frame] = []
    private var head = 0
    /// Wire bytes of the frames not yet written.
    public private(set) var queuedBytes = 0
    /// Set while the socket would not take more (the server waits for WRITEABLE).
    public private(set) var waitingSince: Double?
    /// Trips whose snapshot is due once the queue drains.
    public private(set) var resyncTrips: [String] = []
    private var resyncCounted = false
    private var resyncCount = 0
    private var resyncWindowStart = -Double.infinity
    /// Non-zero once closing.
    public private(set) var closeCode: UInt16 = 0
    private var drainBeforeClose = false
    /// The connection is gone: everything is dropped.
    public private(set) var isClosed = false

    public init() {}

    /// Frames queued and not yet written.
    public var pendingFrames: Int { queue.count - head }
    public var isEmpty: Bool { head == queue.count }
    public var isWaiting: Bool { waitingSince != nil }
    /// Something to do at the next writable moment: frames, snapshots or a close.
    public var hasWork: Bool { head < queue.count || !resyncTrips.isEmpty || closeCode != 0 }

    /// The socket has taken nothing for `stalledSeconds`.
    public func isStalled(now: Double, _ p: Policy) -> Bool {
        guard let since = waitingSince else { return false }
        return now - since > p.stalledSeconds
    }

    /// Queues a frame. `subscriptions` are the trips to resync should the queue overflow.
    public mutating func push(_ f: Frame, now: Double, _ p: Policy,
                              subscriptions: @autoclosure () -> [String]) -> PushResult {
        if isClosed || (closeCode != 0 && !(drainBeforeClose && !f.isStream)) { return .dropped }
        if f.isStream {
            if let trip = f.tripId, resyncTrips.contains(trip) {
                // Its snapshot will replace the frame. A client that stays stalled while
                // it waits is counted once.
                if !resyncCounted && isStalled(now: now, p) && countResync(now: now, p) {
                    return .close(1013, overflowed: false)
                }
                return .dropped
            }
            if queuedBytes > 0 && queuedBytes + f.wireCount > p.maxQueuedBytes {
                return overflow(now: now, p, subscriptions())
            }
        } else if queuedBytes + f.wireCount > 2 * p.maxQueuedBytes {
            _ = close(1008)
            return .close(1008, overflowed: false)
        }
        queue.append(f)
        queuedBytes += f.wireCount
        return .queued
    }

    /// Drops the queued stream frames and schedules snapshots of `trips`.
    private mutating func overflow(now: Double, _ p: Policy, _ trips: [String]) -> PushResult {
        resyncCounted = false
        if isStalled(now: now, p) && countResync(now: now, p) { return .close(1013, overflowed: true) }
        let kept = queue[head...].filter { !$0.isStream }
        queue = Array(kept)
        head = 0
        queuedBytes = kept.reduce(0) { $0 + $1.wireCount }
        resyncTrips = trips
        return .overflowed
    }

    /// Counts a resync the client caused by stalling; true when that closes it (1013).
    private mutating func countResync(now: Double, _ p: Policy) -> Bool {
        resyncCounted = true
        if now - resyncWindowStart > p.resyncWindowSeconds {
            resyncWindowStart = now
            resyncCount = 0
        }
        resyncCount += 1
        if resyncCount > p.maxResyncs {
            _ = close(1013)
            return true
        }
        return false
    }

    /// Schedules a snapshot of `tripId` once the queue drains (a resume that could not
    /// keep up, for example). True when it was not already scheduled.
    @discardableResult
    public mutating func resync(tripId: String) -> Bool {
        guard !isClosed, closeCode == 0, !resyncTrips.contains(tripId) else { return false }
        resyncTrips.append(tripId)
        return true
    }

    /// Starts closing with `code`. `drain`: write the queued replies first (shutdown);
    /// otherwise what is queued is dropped. False when already closing or closed.
    public mutating func close(_ code: UInt16, drain: Bool = false) -> Bool {
        guard !isClosed, closeCode == 0 else { return false }
        closeCode = code
        drainBeforeClose = drain
        if !drain { removeAll() }
        resyncTrips.removeAll()
        return true
    }

    /// The connection is gone.
    public mutating func closed() {
        isClosed = true
        removeAll()
        resyncTrips.removeAll()
    }

    /// What to write next, at most `maxBytes` wire bytes of frames (always at least one).
    public mutating func next(maxBytes: Int) -> Step {
        if let frames = peekWrite(maxBytes: maxBytes) { return .write(frames) }
        if closeCode != 0 && !(drainBeforeClose && head < queue.count) { return .close(closeCode) }
        if !resyncTrips.isEmpty, closeCode == 0 { return .snapshot(tripId: resyncTrips.removeFirst()) }
        return .idle
    }

    /// The frames `next(maxBytes:)` would return as `.write`, without taking a step; nil
    /// when the next step is anything else (idle, a close, a resync snapshot). A pass
    /// that writes many sessions at once gathers its writes with this, then reports
    /// each with `wrote`.
    public func peekWrite(maxBytes: Int) -> ArraySlice<Frame>? {
        if closeCode != 0 && !(drainBeforeClose && head < queue.count) { return nil }
        guard head < queue.count else { return nil }
        var end = head + 1
        var bytes = queue[head].wireCount
        while end < queue.count, bytes + queue[end].wireCount <= maxBytes {
            bytes += queue[end].wireCount
            end += 1
        }
        return queue[head..<end]
    }

    /// The snapshot a `.snapshot` step asked for; taken whatever its size.
    public mutating func pushSnapshot(_ f: Frame) {
        guard !isClosed, closeCode == 0 else { return }
        queue.append(f)
        queuedBytes += f.wireCount
    }

    /// The first `n` queued frames were written (or handed whole to the transport).
    public mutating func wrote(_ n: Int) {
        precondition(n <= queue.count - head)
        for i in head..<(head + n) { queuedBytes -= queue[i].wireCount }
        head += n
        if head == queue.count {
            queue.removeAll(keepingCapacity: queue.capacity <= 16)
            head = 0
        } else if head >= 64 && head * 2 >= queue.count {
            // A client that stays behind never empties its queue: let go of sent frames.
            queue.removeFirst(head)
            head = 0
        }
    }

    /// The socket would not take more: wait for WRITEABLE. True when the server must ask
    /// for it (not already waiting).
    public mutating func blocked(now: Double) -> Bool {
        guard waitingSince == nil else { return false }
        waitingSince = now
        return true
    }

    /// WRITEABLE arrived: the socket takes data again.
    public mutating func writable() {
        waitingSince = nil
    }

    private mutating func removeAll() {
        queue.removeAll()
        head = 0
        queuedBytes = 0
    }
}
