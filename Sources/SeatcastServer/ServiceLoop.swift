import CLibWebSockets
import SeatcastCore

// Owns: the service thread's life: the lws context's creation and destruction, the loop
// passes (lws's service, then the writes the pass queued), taking the inbox, and the
// shutdown sequence. Thread: loop; `run` is the thread's body. lws's callbacks reach the
// handlers through `ServiceLoop+Callback.swift`.

final class ServiceLoop: LoopConfined {
    let loopThread: LoopThread
    private let config: ServerConfig
    let entry: LoopEntry
    let gate: CommandGate
    let sender: Sender
    let trips: TripRouter
    let webSockets: WebSocketHandler
    let http: HTTPHandler
    let auth: ConnectionAuth
    let metrics: Metrics

    /// When the commands in flight at shutdown stop being waited for.
    private var stopDeadline = 0.0
    /// Every WebSocket was told to close (1001) during shutdown.
    private var closedAll = false

    init(config: ServerConfig, entry: LoopEntry, gate: CommandGate, sender: Sender, trips: TripRouter,
         webSockets: WebSocketHandler, http: HTTPHandler, auth: ConnectionAuth, metrics: Metrics, loopThread: LoopThread) {
        self.config = config
        self.entry = entry
        self.gate = gate
        self.sender = sender
        self.trips = trips
        self.webSockets = webSockets
        self.http = http
        self.auth = auth
        self.metrics = metrics
        self.loopThread = loopThread
    }

    /// The loop thread's body: creates the context, calls `ready` (with the port and the
    /// event loop's name, or nil when the port cannot be opened), runs until shutdown has
    /// finished, then destroys the context.
    func run(ready: (_ port: Int?, _ eventLoop: String) -> Void) {
        loopThread.enter()
        assertOnLoop()
        let lws = LWSContext(config: config, user: Unmanaged.passUnretained(self).toOpaque(), loopThread: loopThread)
        guard let ctx = lws.context else {
            ready(nil, lws.eventLoopName)
            return
        }
        entry.context.store(Int(bitPattern: UnsafeRawPointer(ctx)), ordering: .releasing)
        ready(lws.port, lws.eventLoopName)
        config.log("listening on port \(lws.port) (\(lws.eventLoopName))")
        sender.start()
        defer { sender.stop() }

        while true {
            if !lws.service() { break }
            sender.flushPendingWrites()
            if gate.isClosed {
                closeAllWhenIdle()
                // Clients get up to 2 s more to complete the closing handshake.
                if (closedAll && webSockets.sessions.isEmpty && http.inFlight == 0)
                    || Timestamp.monotonicSeconds() > stopDeadline + 2 { break }
            }
        }
        auth.stop()
        entry.context.store(0, ordering: .releasing)
        lws.destroy()
        webSockets.releaseAll()
        trips.removeAll()
    }

    /// LWS_CALLBACK_EVENT_WAIT_CANCELLED: everything other threads handed over since the
    /// last time.
    func drainInbox() {
        assertOnLoop()
        for m in entry.takeAll() { process(m) }
    }

    private func process(_ m: LoopMessage) {
        assertOnLoop()
        switch m {
        case let .done(inner, outcome):
            gate.answered()
            metrics.commandOutcomes[outcome, default: 0] += 1
            process(inner)
            if gate.isClosed { closeAllWhenIdle() }
        case let .send(s, f): sender.send(s, f)
        case let .http(r, response): http.respond(r, response)
        case let .audited(r, trip, list): http.audited(r, tripId: trip, list)
        case let .snapshotLoaded(trip, result): trips.snapshotLoaded(trip, result)
        case let .outboxLoaded(s, trip, token, result): trips.outboxLoaded(s, tripId: trip, token: token, result)
        case let .events(trip, events): trips.eventsArrived(trip, events)
        case let .reload(trip): trips.reload(trip)
        case .expire: auth.expire()
        case .stop: beginStop()
        }
    }

    /// Shutdown: refuse new commands, let the ones in flight finish (at most 2 s), then
    /// close every WebSocket with 1001.
    private func beginStop() {
        assertOnLoop()
        guard !gate.isClosed else { return }
        gate.close()
        stopDeadline = Timestamp.monotonicSeconds() + 2
        config.log("stopping: \(gate.inFlight) command(s) in flight, \(webSockets.sessions.count) connection(s)")
        closeAllWhenIdle()
    }

    private func closeAllWhenIdle() {
        assertOnLoop()
        guard !closedAll, gate.inFlight == 0 || Timestamp.monotonicSeconds() >= stopDeadline else { return }
        closedAll = true
        webSockets.closeAll()
    }
}
