import SeatcastCore

// Owns: the `SubscriptionMachine` (every trip this instance serves: its hubs, maps, rings
// and who follows each) and each session's list of trips; it carries out the machine's
// actions (sends through the `Sender`, loads through the store) and fans events out.
// Thread: loop. The policy itself (resume, replay, buffering, supersede, reload) is the
// machine's, in SeatcastCore, and is unit-tested there.

final class TripRouter: LoopConfined {
    typealias Action = SubscriptionMachine<Session>.Action

    let loopThread: LoopThread
    private let config: ServerConfig
    private let backend: any SeatBackend
    private let entry: LoopEntry
    private let sender: Sender
    private let metrics: Metrics
    private var machine: SubscriptionMachine<Session>
    /// The machine's decisions, carried out and emptied right after each call; its storage
    /// is kept, so a decision allocates nothing (see SubscriptionMachine).
    private var actions: [Action] = []
    #if DEBUG
    /// Actions are being carried out: none of them may ask the machine for more.
    private var running = false
    #endif

    init(config: ServerConfig, backend: any SeatBackend, entry: LoopEntry, sender: Sender, metrics: Metrics,
         loopThread: LoopThread) {
        self.config = config
        self.backend = backend
        self.entry = entry
        self.sender = sender
        self.metrics = metrics
        self.loopThread = loopThread
        machine = SubscriptionMachine(policy: .init(ringCapacity: config.ringCapacity,
                                                    maxResumeBufferBytes: config.limits.maxQueuedBytes))
    }

    // MARK: Sessions

    /// `subscribe`, or a WebSocket opened on /ws/trips/{id}.
    func subscribe(_ s: Session, tripId: String, since: StreamPosition?, id: String?, compact: Bool = false) {
        assertOnLoop()
        let following = s.subscriptions.contains(tripId)
        if !following && s.subscriptions.count >= config.limits.maxSubscriptions {
            sender.sendError(s, ProtocolError(.tooLarge, "at most \(config.limits.maxSubscriptions) subscriptions per connection", id: id))
            return
        }
        machine.subscribe(s, to: tripId, since: since, id: id, compact: compact, into: &actions)
        if !following {
            // The hub's own id string: shared, so a long trip id costs no memory per session.
            s.subscriptions.append(machine.hubs[tripId]?.tripId ?? tripId)
            metrics.subscriptions += 1
        }
        runActions()
    }

    /// `unsubscribe`; nothing when the session does not follow the trip.
    func unsubscribe(_ s: Session, tripId: String) {
        assertOnLoop()
        guard s.subscriptions.remove(tripId) else { return }
        metrics.subscriptions -= 1
        machine.unsubscribe(s, from: tripId, into: &actions)
        runActions()
    }

    /// The session's connection closed: it leaves every trip.
    func leaveAll(_ s: Session) {
        assertOnLoop()
        for trip in s.subscriptions { machine.unsubscribe(s, from: trip, into: &actions) }
        runActions()
        metrics.subscriptions -= s.subscriptions.count
        s.subscriptions.removeAll()
    }

    /// The session's send queue overflowed: snapshots of all its trips are coming, so its
    /// resumes in flight are moot.
    func queueOverflowed(_ s: Session) {
        assertOnLoop()
        machine.queueOverflowed(s, tripIds: s.subscribedTripIds)
    }

    /// The snapshot a session gets once its queue drained after an overflow; nil while the
    /// trip loads (the session then gets it when the load arrives).
    func resyncSnapshot(for s: Session, tripId: String) -> Frame? {
        assertOnLoop()
        return machine.resyncSnapshot(for: s, tripId: tripId)
    }

    // MARK: Answers from the store

    func snapshotLoaded(_ tripId: String, _ result: Result<TripSnapshot, ProtocolError>) {
        assertOnLoop()
        machine.snapshotLoaded(tripId, result, into: &actions)
        runActions()
    }

    func outboxLoaded(_ s: Session, tripId: String, token: Int, _ result: Result<[EventFrame]?, ProtocolError>) {
        assertOnLoop()
        guard !s.closed else { return }
        machine.outboxLoaded(s, tripId: tripId, token: token, result, into: &actions)
        runActions()
    }

    /// The trip's stream cannot be continued (the listener lost history): reload it.
    func reload(_ tripId: String) {
        assertOnLoop()
        machine.reload(tripId, into: &actions)
        runActions()
    }

    /// Events from the listener, in seq order. Each frame was encoded once, off the loop;
    /// the tight loop over a trip's live subscribers is the whole per-delivery cost.
    func eventsArrived(_ tripId: String, _ list: [EncodedEvent]) {
        assertOnLoop()
        guard machine.isLoaded(tripId) else { return }
        metrics.eventsReceived += list.count
        let now = Timestamp.monotonicSeconds()
        for e in list {
            switch machine.record(e.event, e.frame, tripId: tripId, into: &actions) {
            case let .deliver(live, buffered, resync):
                for s in live { sender.send(s, e.frame, now: now) }
                metrics.eventsDelivered += live.count + buffered
                for s in resync { sender.resync(s, tripId: tripId) }
                if let at = e.event.atMs { metrics.observeFanout(Double(Timestamp.nowMs() - at) / 1000) }
            case .ignore:
                continue
            case let .rewatch(after):
                // Missed events: have the listener read the outbox again from our position.
                backend.watch(tripId: tripId, afterSeq: after)
                return
            case .awaitRewatch:
                return
            case .reload:
                runActions()
                return
            }
        }
    }

    // MARK: For HTTP and metrics

    /// The trip's snapshot when this instance has it loaded (encoded once per `seq`).
    func snapshot(_ tripId: String, compact: Bool = false) -> Frame? {
        assertOnLoop()
        return machine.snapshot(tripId, compact: compact)
    }

    /// Trips with a hub, loaded or loading.
    var tripCount: Int {
        assertOnLoop()
        return machine.tripCount
    }

    /// The server stopped: forget every trip.
    func removeAll() {
        assertOnLoop()
        machine.removeAll()
    }

    // MARK: Actions

    /// Carries out the actions the machine appended, in order, and empties the buffer.
    private func runActions() {
        assertOnLoop()
        #if DEBUG
        precondition(!running, "an action asked the subscription machine for more actions")
        running = true
        defer { running = false }
        #endif
        var i = 0
        while i < actions.count {
            run(actions[i])
            i += 1
        }
        actions.removeAll(keepingCapacity: true)
    }

    private func run(_ action: Action) {
        assertOnLoop()
        switch action {
        case let .sendSnapshot(s, f):
            metrics.snapshotsSent += 1
            sender.send(s, f)
        case let .sendSubscribed(s, f):
            sender.send(s, f)
        case let .replay(s, frames):
            let now = Timestamp.monotonicSeconds()
            for f in frames { sender.send(s, f, now: now) }
        case let .loadSnapshot(tripId):
            backend.snapshot(tripId: tripId, reply: entry.snapshotReply(tripId: tripId))
        case let .loadOutbox(s, tripId, epoch, after, through, token):
            backend.events(tripId: tripId, epoch: epoch, afterSeq: after, throughSeq: through,
                           reply: entry.outboxReply(to: s, tripId: tripId, token: token))
        case let .watch(tripId, after):
            backend.watch(tripId: tripId, afterSeq: after)
        case let .unwatch(tripId):
            backend.unwatch(tripId: tripId)
        case let .fail(s, tripId, e):
            if s.subscriptions.remove(tripId) { metrics.subscriptions -= 1 }
            sender.sendError(s, e)
        }
    }
}
