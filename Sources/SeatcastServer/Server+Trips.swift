import SeatcastCore

extension Server {
    // MARK: Subscriptions (loop thread)

    func subscribe(_ s: Session, tripId: String, since: StreamPosition?, id: String?) {
        let existing = s.subscriptions.first { $0.tripId == tripId }
        if existing == nil && s.subscriptions.count >= config.limits.maxSubscriptions {
            reply(s, ProtocolError(.tooLarge, "at most \(config.limits.maxSubscriptions) subscriptions per connection", id: id))
            return
        }
        let hub = existing ?? hubs[tripId] ?? loadHub(tripId)
        if existing == nil {
            s.subscriptions.append(hub)
            metrics.subscriptions += 1
        }
        guard let map = hub.map else {
            if let i = hub.waiting.firstIndex(where: { $0.0 === s }) { hub.waiting.remove(at: i) }
            hub.waiting.append((s, id, since))
            return
        }
        if !hub.subscribers.contains(where: { $0 === s }) { hub.subscribers.append(s) }
        answerSubscribe(s, hub, map, since: since, id: id)
    }

    /// A subscriber of a live hub gets its replay (`since` in this epoch and still kept)
    /// or a snapshot.
    func answerSubscribe(_ s: Session, _ hub: TripHub, _ map: TripMap, since: StreamPosition?, id: String?) {
        let tripId = hub.tripId
        // A newer subscribe supersedes an outbox resume still in flight (its answer is ignored).
        s.resuming[tripId] = nil
        if let since, since.epoch == map.epoch, since.seq <= map.seq {
            if let frames = hub.framesAfter(since.seq) {
                send(s, Frame(Messages.subscribed(id: id, tripId: tripId, epoch: map.epoch, seq: since.seq), stream: true, tripId: tripId))
                for f in frames { send(s, f) }
                return
            }
            // Older than the ring: replay from the outbox up to the hub's seq; live events
            // (all after it) wait meanwhile, so replay + buffer is exactly contiguous. A newer
            // subscribe to the trip supersedes this one (its answer is then ignored).
            nextResumeToken += 1
            let token = nextResumeToken
            s.resuming[tripId] = Session.Resume(token: token)
            let inbox = self.inbox
            backend.events(tripId: tripId, epoch: since.epoch, afterSeq: since.seq, throughSeq: map.seq) { result in
                inbox.push(.resumeLoaded(s, token: token, requestId: id, tripId: tripId, result.map { $0.map { ($0, since.seq) } }))
            }
            return
        }
        sendSnapshot(s, hub)
    }

    func sendSnapshot(_ s: Session, _ hub: TripHub) {
        guard let f = hub.snapshot() else { return }
        metrics.snapshotsSent += 1
        send(s, f)
    }

    /// Creates the hub and asks for its first snapshot.
    func loadHub(_ tripId: String) -> TripHub {
        let hub = TripHub(tripId: tripId, ringCapacity: config.ringCapacity)
        hubs[tripId] = hub
        let inbox = self.inbox
        backend.snapshot(tripId: tripId) { result in inbox.push(.snapshotLoaded(tripId, result)) }
        return hub
    }

    func leave(_ hub: TripHub, _ s: Session) {
        hub.remove(s)
        if hub.isUnused, hub.map != nil, hubs[hub.tripId] === hub {
            hubs[hub.tripId] = nil
            backend.unwatch(tripId: hub.tripId)
        }
    }

    func snapshotLoaded(_ tripId: String, _ result: Result<TripSnapshot, ProtocolError>) {
        guard let hub = hubs[tripId], hub.map == nil else { return }
        let waiting = hub.waiting
        hub.waiting = []
        switch result {
        case let .success(snap):
            if waiting.isEmpty && hub.subscribers.isEmpty {
                hubs[tripId] = nil
                return
            }
            hub.map = TripMap(snap)
            hub.resetRing()
            backend.watch(tripId: tripId, afterSeq: snap.seq)
            for (s, id, since) in waiting where !s.closed && s.isSubscribed(hub) {
                if !hub.subscribers.contains(where: { $0 === s }) { hub.subscribers.append(s) }
                answerSubscribe(s, hub, hub.map!, since: since, id: id)
            }
        case let .failure(e):
            hubs[tripId] = nil
            for (s, id, _) in waiting where !s.closed {
                if let i = s.subscriptions.firstIndex(where: { $0 === hub }) {
                    s.subscriptions.remove(at: i)
                    metrics.subscriptions -= 1
                }
                var err = e
                err.id = id
                reply(s, err)
            }
        }
    }

    /// Events from the listener, in seq order. Each frame was encoded once, off the loop.
    func eventsArrived(_ tripId: String, _ list: [(TripEvent, Frame)]) {
        guard let hub = hubs[tripId], let map = hub.map else { return }
        metrics.eventsReceived += list.count
        let now = Timestamp.monotonicSeconds()
        for (e, f) in list {
            switch hub.apply(e, f) {
            case .applied:
                for s in hub.subscribers {
                    if !s.resuming.isEmpty, s.resuming[tripId] != nil {
                        bufferDuringResume(s, hub, e.seq, f)
                    } else {
                        send(s, f, now: now)
                    }
                }
                metrics.eventsDelivered += hub.subscribers.count
                if let at = e.atMs { metrics.observeFanout(Double(Timestamp.nowMs() - at) / 1000) }
            case .stale:
                continue
            case .gap:
                // Missed events: have the listener read the outbox again from our position.
                if !hub.rewatchPending {
                    hub.rewatchPending = true
                    backend.watch(tripId: tripId, afterSeq: hub.map?.seq ?? map.seq)
                }
                return
            case .unknownSeat:
                resyncTrip(tripId)
                return
            }
        }
    }

    /// The stream of this trip cannot be continued: reload and send everyone a snapshot.
    func resyncTrip(_ tripId: String) {
        guard let hub = hubs[tripId], hub.map != nil else { return }
        backend.unwatch(tripId: tripId)
        hub.map = nil
        hub.resetRing()
        hub.waiting.append(contentsOf: hub.subscribers.map { ($0, nil, nil) })
        hub.subscribers = []
        let inbox = self.inbox
        backend.snapshot(tripId: tripId) { result in inbox.push(.snapshotLoaded(tripId, result)) }
    }

    /// Live events for a session whose outbox resume is in flight wait in its buffer; past
    /// the queue cap the resume is abandoned for a snapshot.
    func bufferDuringResume(_ s: Session, _ hub: TripHub, _ seq: Int64, _ f: Frame) {
        guard var r = s.resuming[hub.tripId] else { return }
        r.buffer.append((seq, f))
        r.bytes += f.count
        if r.bytes > config.limits.maxQueuedBytes {
            s.resuming[hub.tripId] = nil
            metrics.queueOverflows += 1
            if s.outbox.resync(tripId: hub.tripId) { scheduleFlush(s) }
        } else {
            s.resuming[hub.tripId] = r
        }
    }

    func resumeLoaded(_ s: Session, token: Int, requestId id: String?, tripId: String,
                      _ result: Result<([TripEvent], Int64)?, ProtocolError>) {
        guard !s.closed, let resume = s.resuming[tripId], resume.token == token else { return }
        s.resuming[tripId] = nil
        guard let hub = s.subscriptions.first(where: { $0.tripId == tripId }), let map = hub.map else { return }
        guard case let .success(.some((events, since))) = result else {
            sendSnapshot(s, hub)
            return
        }
        send(s, Frame(Messages.subscribed(id: id, tripId: tripId, epoch: map.epoch, seq: since), stream: true, tripId: tripId))
        var last = since
        for e in events {
            send(s, Frame(Messages.event(e), stream: true, tripId: tripId))
            last = e.seq
        }
        // Live events that arrived meanwhile; those the outbox read already covered are skipped.
        for (seq, f) in resume.buffer where seq > last { send(s, f) }
    }
}

extension Server: SeatEventSink {
    /// Listener thread: encode each event once, then hand the batch to the loop.
    public func deliver(tripId: String, events: [TripEvent]) {
        let frames = events.map { ($0, Frame(Messages.event($0), stream: true, tripId: tripId)) }
        inbox.push(.events(tripId, frames))
    }

    public func resync(tripId: String) { inbox.push(.resync(tripId)) }
}
