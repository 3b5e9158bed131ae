/// Which trips a server instance serves and who follows each, as a pure state machine:
/// subscribe, resume (`since`), snapshots, ring and outbox replays, a trip's first load,
/// gaps and reloads, unsubscribe and teardown. It never touches a socket, a thread or the
/// database: each decision appends what the server must do (`Action`) to the server's
/// buffer, or returns it (`EventOutcome`), and the server reports back what the database
/// answered (`snapshotLoaded`, `outboxLoaded`) and which events arrived (`record`).
/// Actions go into a buffer the caller keeps, not a new array per decision: a connection's
/// subscribe then allocates nothing, and an array allocated and freed per subscribe left
/// the loop's heap ~100 bytes per idle connection larger (fragmentation). docs/ARCHITECTURE.md ("Subscribe", "Resume")
/// describes how the server runs it; docs/PROTOCOL.md ("Semantics") is the contract.
/// `Subscriber` is whatever the server calls a connection; it is compared by identity.
///
/// The rules:
/// - A subscriber of a trip is in exactly one state: waiting (the trip's snapshot is
///   loading), resuming (an outbox read is in flight) or live (it gets each event as it
///   arrives). The server keeps each connection's list of trips and its limit; it tells the
///   machine about every subscribe and unsubscribe, and forgets a trip when told `.fail`.
/// - A trip is loaded on its first subscribe (`loadSnapshot`); subscribers wait until the
///   snapshot arrives, then the listener is told to watch the trip from its `seq` and each
///   waiting subscriber is answered as below. A failed load answers each waiting subscriber
///   with the error (`.fail`, with its request's `id`) and forgets the trip.
/// - No `since`, or a `since` that cannot be continued (another epoch, a `seq` the trip has
///   not reached): the trip's snapshot, from memory (encoded once per `seq`).
/// - A `since` in the trip's epoch at or below its `seq`: `subscribed` at `since.seq`, then
///   the events after it: from the ring when it still holds every one of them; otherwise
///   from the outbox, read up to the trip's current `seq` (`loadOutbox`). Live events that
///   arrive meanwhile are buffered for that subscriber; when the read arrives it gets
///   `subscribed`, the read events, then the buffered ones with a higher `seq`: contiguous,
///   without duplicates. History no longer kept (the read answers nil) or a failed read:
///   the snapshot instead.
/// - A resume's buffer holds at most `maxResumeBufferBytes` of payload; past it the resume
///   is abandoned and the subscriber resynced (`resync`: a fresh snapshot once its send
///   queue drains). A send queue that overflowed (`queueOverflowed`) makes every resume of
///   that subscriber moot in the same way.
/// - A newer subscribe to a trip supersedes what the subscriber was waiting for there: a
///   pending subscribe is replaced, a resume in flight forgotten (its answer is ignored).
/// - Events, per trip, in `seq` order: the map's next one is applied, kept in the ring and
///   delivered (`.deliver`); one already applied is ignored; a gap asks the listener to read
///   the outbox again from the map's `seq` (`.rewatch`, once until an event applies); an
///   unknown seat, or a listener that lost history (`reload`), reloads the trip: every
///   subscriber waits for a fresh snapshot.
/// - The last subscriber leaving a loaded trip drops it (`unwatch`); a trip still loading
///   is dropped when its snapshot arrives and nobody waits for it.
public struct SubscriptionMachine<Subscriber: AnyObject> {
    public struct Policy: Sendable, Equatable {
        /// Recent events kept per trip for resumes without the database.
        public var ringCapacity: Int
        /// Payload bytes of live events one resume may hold back before it is abandoned.
        public var maxResumeBufferBytes: Int

        public init(ringCapacity: Int, maxResumeBufferBytes: Int) {
            self.ringCapacity = ringCapacity
            self.maxResumeBufferBytes = maxResumeBufferBytes
        }
    }

    /// What the server does for a decision, in the order appended.
    public enum Action {
        /// Send the trip's snapshot (counted as a snapshot sent).
        case sendSnapshot(Subscriber, Frame)
        /// Send `subscribed`: the answer to a resume, naming the `seq` it continues from.
        case sendSubscribed(Subscriber, Frame)
        /// Send these event frames, in order (they follow a `sendSubscribed`).
        case replay(Subscriber, [Frame])
        /// Read the trip's snapshot; report it with `snapshotLoaded`.
        case loadSnapshot(tripId: String)
        /// Read the trip's events with `after < seq <= through` in `epoch` from the outbox;
        /// report them with `outboxLoaded(token:)`.
        case loadOutbox(Subscriber, tripId: String, epoch: String, after: Int64, through: Int64, token: Int)
        /// Have the listener deliver the trip's events with `seq > afterSeq`.
        case watch(tripId: String, afterSeq: Int64)
        /// Stop the trip's events.
        case unwatch(tripId: String)
        /// The subscription is over (the trip could not be loaded): forget the trip for this
        /// subscriber and reply with the error.
        case fail(Subscriber, tripId: String, ProtocolError)
    }

    /// What the server does with an event (`record`). The fan-out loop is the server's: a
    /// tight loop over `live` with nothing allocated per delivery.
    public enum EventOutcome {
        /// The trip's next event: queue its frame to each of `live`. `buffered` resumes in
        /// flight keep it for later; `resync` lists subscribers whose resume buffer it pushed
        /// past the cap: their resume is abandoned, and each needs a fresh snapshot once its
        /// send queue drains.
        case deliver(live: [Subscriber], buffered: Int, resync: [Subscriber])
        /// Already applied, or the trip is not loaded: nothing to do.
        case ignore
        /// Events are missing before this one: have the listener read the outbox again after
        /// `afterSeq`; drop the rest of this batch (the re-read brings it again).
        case rewatch(afterSeq: Int64)
        /// Events are missing and a re-read is already on its way: drop the rest of this batch.
        case awaitRewatch
        /// The event names a seat the trip does not have: the map cannot follow. Carry out
        /// the actions `record` appended (a reload) and drop the rest of this batch.
        case reload
    }

    public let policy: Policy
    public private(set) var hubs: [String: TripHub<Subscriber>] = [:]
    /// The last token given to an outbox read; each read gets a new one.
    private var lastToken = 0

    public init(policy: Policy) {
        self.policy = policy
    }

    /// Trips with a hub, loaded or loading.
    public var tripCount: Int { hubs.count }

    /// The trip's map is loaded: its events count.
    public func isLoaded(_ tripId: String) -> Bool { hubs[tripId]?.map != nil }

    /// `s` subscribes to `tripId`, for the first time or again (which supersedes whatever it
    /// was waiting for there). The server checks the connection's subscription limit first.
    /// With `compact`, every snapshot `s` gets of this trip (answers, resyncs, reloads) is the
    /// compact form when the trip allows it (`CompactSnapshot`); a later subscribe without
    /// it goes back to the full form.
    public mutating func subscribe(_ s: Subscriber, to tripId: String, since: StreamPosition?, id: String?,
                                   compact: Bool = false, into actions: inout [Action]) {
        if hubs[tripId] == nil {
            hubs[tripId] = TripHub(tripId: tripId, ringCapacity: policy.ringCapacity)
            actions.append(.loadSnapshot(tripId: tripId))
        }
        lastToken += 1
        let token = lastToken
        // In place: a copy of the hub would copy its subscriber list.
        let i = hubs.index(forKey: tripId)!
        hubs.values[i].forget(s)
        hubs.values[i].setCompact(s, compact)
        if hubs.values[i].map == nil {
            hubs.values[i].addWaiting(TripHub.PendingSubscribe(subscriber: s, id: id, since: since))
        } else {
            hubs.values[i].answer(s, since: since, id: id, token: token, into: &actions)
        }
    }

    /// `s` no longer follows `tripId` (unsubscribe, or its connection closed).
    public mutating func unsubscribe(_ s: Subscriber, from tripId: String, into actions: inout [Action]) {
        guard let i = hubs.index(forKey: tripId) else { return }
        hubs.values[i].forget(s)
        // A trip still loading stays until its snapshot arrives (`snapshotLoaded` drops it).
        guard hubs.values[i].isUnused, hubs.values[i].map != nil else { return }
        hubs.remove(at: i)
        actions.append(.unwatch(tripId: tripId))
    }

    /// The answer to `loadSnapshot`.
    public mutating func snapshotLoaded(_ tripId: String, _ result: Result<TripSnapshot, ProtocolError>,
                                        into actions: inout [Action]) {
        guard let i = hubs.index(forKey: tripId), hubs.values[i].map == nil else { return }
        switch result {
        case let .success(snap):
            if hubs.values[i].isUnused {
                hubs.remove(at: i)
                return
            }
            hubs.values[i].loaded(snap, tokens: &lastToken, into: &actions)
        case let .failure(e):
            let waiting = hubs.values[i].waiting
            hubs.remove(at: i)
            // An index loop, not `map`: see TripHub on unspecialized generic code.
            var w = 0
            while w < waiting.count {
                var err = e
                err.id = waiting[w].id
                actions.append(.fail(waiting[w].subscriber, tripId: tripId, err))
                w += 1
            }
        }
    }

    /// The answer to `loadOutbox`: the events read, oldest first (nil when history is no
    /// longer kept). Ignored unless `token` is `s`'s resume in flight.
    public mutating func outboxLoaded(_ s: Subscriber, tripId: String, token: Int,
                                      _ result: Result<[EventFrame]?, ProtocolError>, into actions: inout [Action]) {
        guard let i = hubs.index(forKey: tripId) else { return }
        hubs.values[i].outboxLoaded(s, token: token, result, into: &actions)
    }

    /// An event of `tripId` from the listener, with its frame (encoded once, shared).
    /// `actions` grows only for `.reload`.
    public mutating func record(_ e: TripEvent, _ frame: Frame, tripId: String, into actions: inout [Action]) -> EventOutcome {
        guard let i = hubs.index(forKey: tripId) else { return .ignore }
        return hubs.values[i].record(e, frame, maxBuffer: policy.maxResumeBufferBytes, into: &actions)
    }

    /// The trip's stream cannot be continued (the listener lost history it needs): reload
    /// it; every subscriber waits for a fresh snapshot.
    public mutating func reload(_ tripId: String, into actions: inout [Action]) {
        guard let i = hubs.index(forKey: tripId) else { return }
        hubs.values[i].reload(into: &actions)
    }

    /// A snapshot for `s`, which follows `tripId`, after its send queue overflowed and
    /// drained. nil while the trip is loading: `s` then waits for the snapshot like a
    /// subscriber (`snapshotLoaded` answers it).
    public mutating func resyncSnapshot(for s: Subscriber, tripId: String) -> Frame? {
        guard let i = hubs.index(forKey: tripId) else { return nil }
        return hubs.values[i].resyncSnapshot(s)
    }

    /// `s`'s send queue overflowed: a snapshot of each trip it follows is coming, so its
    /// resumes in flight are moot. It becomes live on each of `tripIds`.
    public mutating func queueOverflowed(_ s: Subscriber, tripIds: [String]) {
        for tripId in tripIds {
            guard let i = hubs.index(forKey: tripId) else { continue }
            hubs.values[i].abandonResume(s)
        }
    }

    /// The trip's current snapshot when it is loaded (for HTTP), encoded once per `seq`.
    /// With `compact`, the compact form when the trip allows it.
    public mutating func snapshot(_ tripId: String, compact: Bool = false) -> Frame? {
        guard let i = hubs.index(forKey: tripId) else { return nil }
        return compact ? hubs.values[i].compactSnapshot() : hubs.values[i].snapshot()
    }

    /// Forgets everything (the server has stopped).
    public mutating func removeAll() {
        hubs.removeAll()
    }
}
