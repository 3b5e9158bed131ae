import SeatcastCore

extension Server {
    // MARK: Subscriptions (loop thread)
    //
    // The policy is SeatcastCore's `SubscriptionMachine`; this code keeps each session's
    // list of trips and carries out the machine's actions.

    func subscribe(_ s: Session, tripId: String, since: StreamPosition?, id: String?) {
        let following = s.subscriptions.contains(tripId)
        if !following && s.subscriptions.count >= config.limits.maxSubscriptions {
            reply(s, ProtocolError(.tooLarge, "at most \(config.limits.maxSubscriptions) subscriptions per connection", id: id))
            return
        }
        let actions = trips.subscribe(s, to: tripId, since: since, id: id)
        if !following {
            // The hub's own id string: shared, so a long trip id costs no memory per session.
            s.subscriptions.append(trips.hubs[tripId]?.tripId ?? tripId)
            metrics.subscriptions += 1
        }
        run(actions)
    }

    func unsubscribe(_ s: Session, tripId: String) {
        guard s.subscriptions.remove(tripId) else { return }
        metrics.subscriptions -= 1
        run(trips.unsubscribe(s, from: tripId))
    }

    /// The session's connection closed: it leaves every trip.
    func leaveAll(_ s: Session) {
        for trip in s.subscriptions { run(trips.unsubscribe(s, from: trip)) }
        metrics.subscriptions -= s.subscriptions.count
        s.subscriptions.removeAll()
    }

    func run(_ actions: [SubscriptionMachine<Session>.Action]) {
        for a in actions { run(a) }
    }

    func run(_ action: SubscriptionMachine<Session>.Action) {
        switch action {
        case let .sendSnapshot(s, f):
            metrics.snapshotsSent += 1
            send(s, f)
        case let .sendSubscribed(s, f):
            send(s, f)
        case let .replay(s, frames):
            let now = Timestamp.monotonicSeconds()
            for f in frames { send(s, f, now: now) }
        case let .loadSnapshot(tripId):
            let inbox = self.inbox
            backend.snapshot(tripId: tripId) { result in inbox.push(.snapshotLoaded(tripId, result)) }
        case let .loadOutbox(s, tripId, epoch, after, through, token):
            let inbox = self.inbox
            backend.events(tripId: tripId, epoch: epoch, afterSeq: after, throughSeq: through) { result in
                // Encoded here, on the reader's thread, not on the loop.
                let frames = result.map { events in
                    events.map { $0.map { EventFrame(seq: $0.seq, frame: Frame(Messages.event($0), stream: true, tripId: tripId)) } }
                }
                inbox.push(.outboxLoaded(s, tripId: tripId, token: token, frames))
            }
        case let .watch(tripId, after):
            backend.watch(tripId: tripId, afterSeq: after)
        case let .unwatch(tripId):
            backend.unwatch(tripId: tripId)
        case let .fail(s, tripId, e):
            if s.subscriptions.remove(tripId) { metrics.subscriptions -= 1 }
            reply(s, e)
        }
    }

    func snapshotLoaded(_ tripId: String, _ result: Result<TripSnapshot, ProtocolError>) {
        run(trips.snapshotLoaded(tripId, result))
    }

    func outboxLoaded(_ s: Session, tripId: String, token: Int, _ result: Result<[EventFrame]?, ProtocolError>) {
        guard !s.closed else { return }
        run(trips.outboxLoaded(s, tripId: tripId, token: token, result))
    }

    /// The stream of this trip cannot be continued: reload it and send everyone a snapshot.
    func reloadTrip(_ tripId: String) {
        run(trips.reload(tripId))
    }

    /// Events from the listener, in seq order. Each frame was encoded once, off the loop;
    /// the loop over a trip's subscribers is the whole per-delivery cost.
    func eventsArrived(_ tripId: String, _ list: [EncodedEvent]) {
        guard trips.isLoaded(tripId) else { return }
        metrics.eventsReceived += list.count
        let now = Timestamp.monotonicSeconds()
        for e in list {
            switch trips.record(e.event, e.frame, tripId: tripId) {
            case let .deliver(live, buffered, resync):
                for s in live { send(s, e.frame, now: now) }
                metrics.eventsDelivered += live.count + buffered
                for s in resync { resyncAbandonedResume(s, tripId) }
                if let at = e.event.atMs { metrics.observeFanout(Double(Timestamp.nowMs() - at) / 1000) }
            case .ignore:
                continue
            case let .rewatch(after):
                // Missed events: have the listener read the outbox again from our position.
                backend.watch(tripId: tripId, afterSeq: after)
                return
            case .awaitRewatch:
                return
            case let .reload(actions):
                run(actions)
                return
            }
        }
    }

    /// A resume whose buffer passed the cap was abandoned: a snapshot once the queue drains.
    func resyncAbandonedResume(_ s: Session, _ tripId: String) {
        metrics.queueOverflows += 1
        if s.outbox.resync(tripId: tripId) { scheduleFlush(s) }
    }
}

extension Server: SeatEventSink {
    /// Listener thread: encode each event once, then hand the batch to the loop.
    public func deliver(tripId: String, events: [TripEvent]) {
        let encoded = events.map { EncodedEvent(event: $0, frame: Frame(Messages.event($0), stream: true, tripId: tripId)) }
        inbox.push(.events(tripId, encoded))
    }

    public func resync(tripId: String) { inbox.push(.reload(tripId)) }
}
