import CLibWebSockets
import SeatcastCore
import Synchronization

// Owns: the loop's inbox and every way into the loop from another thread. Thread: any,
// except `takeAll` (loop). Everything that runs off the loop on the server's behalf is in
// this file: the reply closures given to the store (they run on the database threads),
// the listener's deliveries, and `stop` (main thread, tests). Each only encodes and
// queues a `LoopMessage`, then wakes the loop with `lws_cancel_service`, the one lws call
// that is safe from any thread. The loop takes everything at once
// (LWS_CALLBACK_EVENT_WAIT_CANCELLED; wake-ups merge and may be spurious).

final class LoopEntry: Sendable, LoopConfined {
    let loopThread: LoopThread
    private let items = Mutex<[LoopMessage]>([])
    /// The lws context while it exists (0 before and after): the only lws handle other
    /// threads use.
    let context = Atomic<Int>(0)

    init(loopThread: LoopThread) {
        self.loopThread = loopThread
    }

    // MARK: Any thread

    func push(_ m: LoopMessage) {
        let wasEmpty = items.withLock { list in
            list.append(m)
            return list.count == 1
        }
        if wasEmpty { wake() }
    }

    /// lws_cancel_service is safe from any thread and from signal handlers.
    func wake() {
        let ctx = context.load(ordering: .acquiring)
        if ctx != 0 { lws_cancel_service(OpaquePointer(bitPattern: ctx)) }
    }

    /// Shut down (`Server.stop`).
    func stop() { push(.stop) }

    /// Listener thread: committed events, encoded once here for every subscriber.
    func deliver(tripId: String, events: [TripEvent]) {
        let encoded = events.map { EncodedEvent(event: $0, frame: Frame(Messages.event($0), stream: true, tripId: tripId)) }
        push(.events(tripId, encoded))
    }

    /// Listener thread: history the trip's stream needs is gone.
    func reload(tripId: String) { push(.reload(tripId)) }

    // MARK: Reply closures (run on the database threads)

    /// A WebSocket command's reply, encoded on the store's thread.
    func commandReply(to s: Session, id: String?, command c: Command, type: String) -> @Sendable (CommandOutcome) -> Void {
        { outcome in
            self.push(.done(.send(s, Frame(CommandReply.encode(outcome, id: id, command: c))),
                            outcome: CommandReply.label(type, outcome)))
        }
    }

    /// An HTTP command's answer: the WebSocket reply with its HTTP status.
    func commandReply(to r: HTTPRequest, id: String?, command c: Command, type: String) -> @Sendable (CommandOutcome) -> Void {
        { outcome in
            self.push(.done(.http(r, .json(CommandReply.httpStatus(outcome), CommandReply.encode(outcome, id: id, command: c))),
                            outcome: CommandReply.label(type, outcome)))
        }
    }

    /// A trip's snapshot for the subscription policy.
    func snapshotReply(tripId: String) -> @Sendable (Result<TripSnapshot, ProtocolError>) -> Void {
        { result in self.push(.snapshotLoaded(tripId, result)) }
    }

    /// A resume's outbox read; its events are encoded here, off the loop.
    func outboxReply(to s: Session, tripId: String, token: Int) -> @Sendable (Result<[TripEvent]?, ProtocolError>) -> Void {
        { result in
            let frames = result.map { events in
                events.map { $0.map { EventFrame(seq: $0.seq, frame: Frame(Messages.event($0), stream: true, tripId: tripId)) } }
            }
            self.push(.outboxLoaded(s, tripId: tripId, token: token, frames))
        }
    }

    /// GET /healthz.
    func healthReply(to r: HTTPRequest) -> @Sendable (Bool) -> Void {
        { ok in self.push(.http(r, ok ? .text(200, "ok\n") : .text(503, "unavailable\n"))) }
    }

    /// GET /api/trips. `only`: a buyer's token with a `trips` claim; the page lists the
    /// trips it covers, and `next` still follows the unfiltered order.
    func tripsReply(to r: HTTPRequest, limit: Int?, only: BuyerClaims? = nil) -> @Sendable (Result<[TripSummary], ProtocolError>) -> Void {
        { result in
            switch result {
            case let .success(list):
                self.push(.http(r, .json(200, TripPage.encode(list, limit: limit, only: only))))
            case let .failure(e): self.push(.http(r, .json(e.code.httpStatus, Messages.error(e))))
            }
        }
    }

    /// POST /api/trips: 201 with the trip, 409 `trip_exists`, or the store's error.
    func createTripReply(to r: HTTPRequest, _ spec: TripSpec) -> @Sendable (Result<Bool, ProtocolError>) -> Void {
        { result in
            switch result {
            case .success(true):
                let seats = spec.rows * spec.cols
                var answer = HTTPResponse.json(201, Messages.trip(TripSummary(tripId: spec.tripId, name: spec.name,
                                                                              seats: seats, available: seats)))
                answer.headers = [HTTPHeader("location", "/api/trips/\(spec.tripId)")]
                self.push(.http(r, answer))
            case .success(false):
                let e = ProtocolError(.tripExists, "trip \"\(spec.tripId)\" already exists")
                self.push(.http(r, .json(e.code.httpStatus, Messages.error(e))))
            case let .failure(e): self.push(.http(r, .json(e.code.httpStatus, Messages.error(e))))
            }
        }
    }

    /// DELETE /api/trips/{id}: 200 `{"tripId":...,"deleted":true}`, 404 `unknown_trip`, or the
    /// store's error.
    func deleteTripReply(to r: HTTPRequest, tripId: String) -> @Sendable (Result<Bool, ProtocolError>) -> Void {
        { result in
            switch result {
            case .success(true): self.push(.http(r, .json(200, Messages.tripDeleted(tripId: tripId))))
            case .success(false):
                self.push(.http(r, .json(404, Messages.error(ProtocolError(.unknownTrip, "unknown trip \"\(tripId)\"")))))
            case let .failure(e): self.push(.http(r, .json(e.code.httpStatus, Messages.error(e))))
            }
        }
    }

    /// GET /api/trips/{id} for a trip this instance has not loaded.
    func snapshotReply(to r: HTTPRequest, compact: Bool = false) -> @Sendable (Result<TripSnapshot, ProtocolError>) -> Void {
        { result in
            switch result {
            case let .success(s):
                self.push(.http(r, .json(200, compact ? CompactSnapshot.encodeIfGrid(s) : Messages.snapshot(s))))
            case let .failure(e): self.push(.http(r, .json(e.code.httpStatus, Messages.error(e))))
            }
        }
    }

    /// GET /api/trips/{id}/audit.
    func auditReply(to r: HTTPRequest, tripId: String) -> @Sendable (Result<[AuditViolation], ProtocolError>) -> Void {
        { result in
            switch result {
            case let .success(list): self.push(.audited(r, tripId, list))
            case let .failure(e): self.push(.http(r, .json(e.code.httpStatus, Messages.error(e))))
            }
        }
    }

    // MARK: Loop thread

    /// Everything queued since the last call.
    func takeAll() -> [LoopMessage] {
        assertOnLoop()
        return items.withLock { list in
            let out = list
            list.removeAll(keepingCapacity: true)
            return out
        }
    }
}
