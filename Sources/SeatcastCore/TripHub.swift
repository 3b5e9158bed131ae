/// One trip as a server instance serves it: its seat map at the newest `seq` delivered,
/// the recent events for resumes, and who follows it. The per-trip half of
/// `SubscriptionMachine` (whose doc comment states the rules); it never touches a socket
/// or the database, and only the machine changes it.
///
/// Each subscriber is in exactly one of `waiting`, `resuming` and `live`, and at most
/// once. While `map` is nil (the trip's snapshot is loading) every subscriber waits.
///
/// Why the lists are walked with index loops: this code is generic over `Subscriber` and
/// the server's module calls it unspecialized, where Collection algorithms
/// (`firstIndex(where:)`, `contains`, `map`, `for-in`) reach each element through a
/// protocol witness whose accessor allocates: a malloc per element scanned, thousands
/// per subscribe on a busy trip. Array's own subscript, `count`, `append` and
/// `remove(at:)` do not.
public struct TripHub<Subscriber: AnyObject> {
    public typealias Action = SubscriptionMachine<Subscriber>.Action
    public typealias EventOutcome = SubscriptionMachine<Subscriber>.EventOutcome

    /// A `subscribe` that waits for the trip's snapshot: who, the request's `id` for the
    /// answer, and where a resume would continue from.
    public struct PendingSubscribe {
        public var subscriber: Subscriber
        public var id: String?
        public var since: StreamPosition?
    }

    /// A resume whose events are being read from the outbox (`loadOutbox`); live events
    /// that arrive meanwhile wait in `buffer`.
    public struct Resume {
        public var subscriber: Subscriber
        /// Identifies this read: an answer with another token was superseded.
        public var token: Int
        public var id: String?
        /// The resume continues after this `seq` (the request's `since.seq`).
        public var after: Int64
        public var buffer: [EventFrame] = []
        /// Payload bytes in `buffer`, against the cap.
        public var bufferedBytes = 0
    }

    public let tripId: String
    /// nil while the trip's snapshot is loading.
    public internal(set) var map: TripMap?
    /// Subscribers that get every event as it arrives.
    /// In no particular order: a subscriber leaves by swapping the last one into its place.
    public private(set) var live: [Subscriber] = []
    public private(set) var waiting: [PendingSubscribe] = []
    public private(set) var resuming: [Resume] = []
    /// Where each live subscriber is in `live`, and who is waiting or resuming: joining and
    /// leaving cost O(1) however many follow the trip (a scan per subscribe or close made
    /// 19,000 connections joining or leaving at once quadratic: seconds of loop time).
    private var livePosition: [ObjectIdentifier: Int] = [:]
    private var pending: Set<ObjectIdentifier> = []
    public internal(set) var ring: EventRing
    /// The encoded snapshot for `map.seq`, built on first use and shared.
    private var snapshotFrame: Frame?
    /// The compact snapshot for `map.seq`, built only when someone asks, and shared.
    private var compactFrame: Frame?
    /// Subscribers that asked for the compact snapshot (every snapshot they get, resyncs and
    /// reloads included, is compact when the trip allows it). Empty for most trips.
    public internal(set) var compactSubscribers: Set<ObjectIdentifier> = []
    /// A re-read from the outbox was asked for after a gap; later gaps wait for it.
    public internal(set) var rewatchPending = false

    init(tripId: String, ringCapacity: Int) {
        self.tripId = tripId
        ring = EventRing(capacity: ringCapacity)
    }

    /// Nobody follows the trip.
    public var isUnused: Bool { live.isEmpty && waiting.isEmpty && resuming.isEmpty }

    /// The snapshot frame at the map's `seq`: encoded once, then shared until the next event.
    mutating func snapshot() -> Frame? {
        guard let map else { return nil }
        if let f = snapshotFrame { return f }
        let f = Frame(Messages.snapshot(map.snapshot), stream: true, tripId: tripId)
        snapshotFrame = f
        return f
    }

    /// The compact snapshot frame at the map's `seq` (encoded once, shared); the full one
    /// when the trip is not a plain grid (`CompactSnapshot`).
    mutating func compactSnapshot() -> Frame? {
        guard let map else { return nil }
        guard map.isGrid else { return snapshot() }
        if let f = compactFrame { return f }
        let f = Frame(CompactSnapshot.encode(map.snapshot), stream: true, tripId: tripId)
        compactFrame = f
        return f
    }

    /// The snapshot in the form `s` asked for.
    mutating func snapshot(for s: Subscriber) -> Frame? {
        if !compactSubscribers.isEmpty && compactSubscribers.contains(ObjectIdentifier(s)) { return compactSnapshot() }
        return snapshot()
    }

    /// Remembers which form of snapshot `s` wants from now on.
    mutating func setCompact(_ s: Subscriber, _ compact: Bool) {
        if compact {
            compactSubscribers.insert(ObjectIdentifier(s))
        } else if !compactSubscribers.isEmpty {
            compactSubscribers.remove(ObjectIdentifier(s))
        }
    }

    /// Removes `s` from whatever it was in (a resume in flight is thereby superseded).
    mutating func forget(_ s: Subscriber) {
        if !compactSubscribers.isEmpty { compactSubscribers.remove(ObjectIdentifier(s)) }
        let id = ObjectIdentifier(s)
        if removeLive(id) { return }
        guard pending.remove(id) != nil else { return }
        if let i = waitingIndex(s) {
            waiting.remove(at: i)
        } else if let i = resumeIndex(s) {
            resuming.remove(at: i)
        }
    }

    private mutating func appendLive(_ s: Subscriber) {
        livePosition[ObjectIdentifier(s)] = live.count
        live.append(s)
    }

    /// Swap-removes a live subscriber; false when it is not live.
    private mutating func removeLive(_ id: ObjectIdentifier) -> Bool {
        guard let p = livePosition.removeValue(forKey: id) else { return false }
        let last = live.removeLast()
        if p < live.count {
            live[p] = last
            livePosition[ObjectIdentifier(last)] = p
        }
        return true
    }

    private mutating func removeAllLive() {
        live = []
        livePosition = [:]
    }

    /// `s` waits for the trip's snapshot (`loaded` answers it).
    mutating func addWaiting(_ p: PendingSubscribe) {
        pending.insert(ObjectIdentifier(p.subscriber))
        waiting.append(p)
    }

    private mutating func addResuming(_ r: Resume) {
        pending.insert(ObjectIdentifier(r.subscriber))
        resuming.append(r)
    }

    private mutating func removeResuming(at i: Int) -> Resume {
        let r = resuming.remove(at: i)
        pending.remove(ObjectIdentifier(r.subscriber))
        return r
    }

    private func waitingIndex(_ s: Subscriber) -> Int? {
        var i = 0
        while i < waiting.count {
            if waiting[i].subscriber === s { return i }
            i += 1
        }
        return nil
    }

    /// `s`'s resume; with `token`, only that one.
    private func resumeIndex(_ s: Subscriber, token: Int? = nil) -> Int? {
        var i = 0
        while i < resuming.count {
            if resuming[i].subscriber === s && (token == nil || resuming[i].token == token) { return i }
            i += 1
        }
        return nil
    }

    /// Answers a subscriber of the loaded trip: a replay from the ring, an outbox read
    /// (with `token`), or the snapshot. `s` belongs to no list yet.
    mutating func answer(_ s: Subscriber, since: StreamPosition?, id: String?, token: Int, into actions: inout [Action]) {
        let map = map!
        if let since, since.epoch == map.epoch, since.seq <= map.seq {
            if let frames = ring.frames(after: since.seq, through: map.seq) {
                appendLive(s)
                actions.append(.sendSubscribed(s, subscribedFrame(id: id, epoch: map.epoch, seq: since.seq)))
                if !frames.isEmpty { actions.append(.replay(s, frames)) }
                return
            }
            // Older than the ring: read from the outbox up to the map's seq. Live events (all
            // after it) wait in the buffer meanwhile, so read + buffer is exactly contiguous.
            addResuming(Resume(subscriber: s, token: token, id: id, after: since.seq))
            actions.append(.loadOutbox(s, tripId: tripId, epoch: since.epoch, after: since.seq, through: map.seq, token: token))
            return
        }
        appendLive(s)
        actions.append(.sendSnapshot(s, snapshot(for: s)!))
    }

    private func subscribedFrame(id: String?, epoch: String, seq: Int64) -> Frame {
        Frame(Messages.subscribed(id: id, tripId: tripId, epoch: epoch, seq: seq), stream: true, tripId: tripId)
    }

    /// The snapshot arrived: the map starts at its `seq`, every waiting subscriber is
    /// answered. `tokens` numbers the outbox reads this may start.
    mutating func loaded(_ snap: TripSnapshot, tokens: inout Int, into actions: inout [Action]) {
        map = TripMap(snap)
        ring.removeAll()
        snapshotFrame = nil
        compactFrame = nil
        // The watch below reads the outbox from here anyway.
        rewatchPending = false
        actions.append(.watch(tripId: tripId, afterSeq: snap.seq))
        let answering = waiting
        waiting = []
        var i = 0
        while i < answering.count {
            tokens += 1
            pending.remove(ObjectIdentifier(answering[i].subscriber))
            answer(answering[i].subscriber, since: answering[i].since, id: answering[i].id, token: tokens, into: &actions)
            i += 1
        }
    }

    /// An outbox read for a resume answered. Ignored unless it is `s`'s current resume.
    mutating func outboxLoaded(_ s: Subscriber, token: Int, _ result: Result<[EventFrame]?, ProtocolError>,
                               into actions: inout [Action]) {
        guard let i = resumeIndex(s, token: token), let map else { return }
        let resume = removeResuming(at: i)
        appendLive(s)
        guard case let .success(.some(events)) = result else {
            // History no longer kept (pruned, another epoch), or the read failed.
            actions.append(.sendSnapshot(s, snapshot(for: s)!))
            return
        }
        var frames = events.map(\.frame)
        // Live events that arrived meanwhile; those the read already covered are skipped.
        let last = events.last?.seq ?? resume.after
        for e in resume.buffer where e.seq > last { frames.append(e.frame) }
        actions.append(.sendSubscribed(s, subscribedFrame(id: resume.id, epoch: map.epoch, seq: resume.after)))
        if !frames.isEmpty { actions.append(.replay(s, frames)) }
    }

    /// An event from the listener. `maxBuffer`: the resume buffer's cap in bytes.
    mutating func record(_ e: TripEvent, _ frame: Frame, maxBuffer: Int, into actions: inout [Action]) -> EventOutcome {
        guard map != nil else { return .ignore }
        switch map!.apply(e) {
        case .applied:
            snapshotFrame = nil
            compactFrame = nil
            rewatchPending = false
            ring.append(EventFrame(seq: e.seq, frame: frame))
            if resuming.isEmpty { return .deliver(live: live, buffered: 0, resync: []) }
            return bufferForResumes(EventFrame(seq: e.seq, frame: frame), maxBuffer: maxBuffer)
        case .stale:
            return .ignore
        case .gap:
            if rewatchPending { return .awaitRewatch }
            rewatchPending = true
            return .rewatch(afterSeq: map!.seq)
        case .unknownSeat:
            reload(into: &actions)
            return .reload
        }
    }

    /// Keeps an event for every resume in flight; a resume whose buffer goes past the cap
    /// is abandoned: its subscriber becomes live and is resynced (without this event, which
    /// its snapshot will include).
    private mutating func bufferForResumes(_ e: EventFrame, maxBuffer: Int) -> EventOutcome {
        let receivers = live
        let buffered = resuming.count
        var resync: [Subscriber] = []
        var i = 0
        while i < resuming.count {
            resuming[i].buffer.append(e)
            resuming[i].bufferedBytes += e.frame.count
            if resuming[i].bufferedBytes > maxBuffer {
                let r = removeResuming(at: i)
                appendLive(r.subscriber)
                resync.append(r.subscriber)
            } else {
                i += 1
            }
        }
        return .deliver(live: receivers, buffered: buffered, resync: resync)
    }

    /// The map cannot be continued: forget it and have everyone wait for a fresh snapshot
    /// (resumes in flight included; their answers are ignored).
    mutating func reload(into actions: inout [Action]) {
        guard map != nil else { return }
        map = nil
        ring.removeAll()
        snapshotFrame = nil
        compactFrame = nil
        var i = 0
        while i < live.count {
            addWaiting(PendingSubscribe(subscriber: live[i], id: nil, since: nil))
            i += 1
        }
        i = 0
        while i < resuming.count {
            // Already in `pending`: it only moves from resuming to waiting.
            waiting.append(PendingSubscribe(subscriber: resuming[i].subscriber, id: nil, since: nil))
            i += 1
        }
        removeAllLive()
        resuming = []
        actions.append(.unwatch(tripId: tripId))
        actions.append(.loadSnapshot(tripId: tripId))
    }

    /// A snapshot for a subscriber whose send queue overflowed and drained; nil while the
    /// trip is loading (the subscriber then waits for it).
    mutating func resyncSnapshot(_ s: Subscriber) -> Frame? {
        if map != nil { return snapshot(for: s) }
        if waitingIndex(s) == nil {
            addWaiting(PendingSubscribe(subscriber: s, id: nil, since: nil))
        }
        return nil
    }

    /// `s`'s resume in flight, if any, is dropped: `s` becomes live (a snapshot is coming).
    mutating func abandonResume(_ s: Subscriber) {
        guard let i = resumeIndex(s) else { return }
        _ = removeResuming(at: i)
        appendLive(s)
    }
}
