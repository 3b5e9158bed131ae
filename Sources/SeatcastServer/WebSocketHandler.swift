import CLibWebSockets
import Glibc
import SeatcastCore

// Owns: every WebSocket connection's life on the receiving side: the upgrade check (RFC
// 6455, Origin, credentials through `ConnectionAuth`), the session registry, opening and
// closing, receiving (reassembly, 1009), decoding (rate limit, binary frames, JSON or
// shorthand) and dispatching requests, each checked against `AccessPolicy` first:
// subscriptions to the `TripRouter`, commands to the store through the `CommandGate`
// with their `HoldScope`, `auth` to `ConnectionAuth`, everything it answers itself
// through the `Sender`. Thread: loop.

final class WebSocketHandler: LoopConfined {
    let loopThread: LoopThread
    private let config: ServerConfig
    private let backend: any SeatBackend
    private let entry: LoopEntry
    private let gate: CommandGate
    private let sender: Sender
    private let trips: TripRouter
    private let metrics: Metrics
    private let auth: ConnectionAuth
    private let decoder: RequestDecoder
    /// Every open session; each holds a retain that `closed` (or `releaseAll`) gives back.
    private(set) var sessions: [ObjectIdentifier: Session] = [:]
    private var lastSessionId = 0

    init(config: ServerConfig, backend: any SeatBackend, entry: LoopEntry, gate: CommandGate, sender: Sender,
         trips: TripRouter, metrics: Metrics, auth: ConnectionAuth, loopThread: LoopThread) {
        self.config = config
        self.auth = auth
        self.backend = backend
        self.entry = entry
        self.gate = gate
        self.sender = sender
        self.trips = trips
        self.metrics = metrics
        self.loopThread = loopThread
        decoder = RequestDecoder(limits: config.limits)
    }

    // MARK: Connection lifecycle

    /// LWS_CALLBACK_HTTP_CONFIRM_UPGRADE, before lws answers 101: the path, then the RFC 6455
    /// checks lws 4.1.6 skips. A refusal is answered here and the connection closed.
    func confirmUpgrade(_ wsi: OpaquePointer, _ input: UnsafeMutableRawPointer?) -> Int32 {
        assertOnLoop()
        let upgrade = input.map { String(cString: $0.assumingMemoryBound(to: CChar.self)) } ?? ""
        guard upgrade.lowercased() == "websocket" else {
            return HTTPHandler.answerAndClose(wsi, .text(400, "only websocket upgrades are supported\n"))
        }
        guard let path = LWSHeader.value(wsi, WSI_TOKEN_GET_URI), Self.webSocketTrip(path) != nil else {
            return HTTPHandler.answerAndClose(wsi, .text(404, "no WebSocket here: use /ws or /ws/trips/{id}\n"))
        }
        if let refusal = WebSocketHandshake.check(key: LWSHeader.value(wsi, WSI_TOKEN_KEY),
                                                  version: LWSHeader.value(wsi, WSI_TOKEN_VERSION),
                                                  protocols: LWSHeader.value(wsi, WSI_TOKEN_PROTOCOL)) {
            var answer = HTTPResponse.text(refusal.status, refusal.message)
            answer.headers = refusal.headers
            return HTTPHandler.answerAndClose(wsi, answer)
        }
        // A foreign page is upgraded without its token being read, and `established`
        // closes it with 1008 before anything is sent (version 1's answer to an Origin).
        if !originAllowed(wsi) { return 0 }
        if case let .failure(reason) = auth.handshake(wsi) {
            auth.refused(reason)
            var answer = HTTPResponse.json(401, Messages.error(ConnectionAuth.refusal(.unauthorized)))
            answer.headers = [HTTPHeader("www-authenticate", "Bearer")]
            return HTTPHandler.answerAndClose(wsi, answer)
        }
        return 0
    }

    /// Whether the handshake's Origin may connect: every Origin in open mode without an
    /// allowlist (version 1); with a list, the list; with secrets and no list, the server's
    /// own origin. No Origin header (websocat, the CLI) always may.
    private func originAllowed(_ wsi: OpaquePointer) -> Bool {
        if !config.auth.hasSecrets && config.allowedOrigins.isEmpty { return true }
        return WebSocketHandshake.originAllowed(LWSHeader.value(wsi, WSI_TOKEN_ORIGIN), host: LWSHeader.value(wsi, WSI_TOKEN_HOST),
                                                allowList: config.allowedOrigins)
    }

    /// `/ws` -> "" (no trip); `/ws/trips/{id}` -> id; anything else nil.
    static func webSocketTrip(_ path: String) -> String? {
        if path == "/ws" || path == "/ws/" { return "" }
        let prefix = "/ws/trips/"
        guard path.hasPrefix(prefix) else { return nil }
        var id = Substring(path.dropFirst(prefix.count))
        if id.hasSuffix("/") { id = id.dropLast() }
        return Validation.isTripId(String(id)) ? String(id) : nil
    }

    /// LWS_CALLBACK_ESTABLISHED: a new session, kept in lws's opaque pointer (no
    /// per-connection allocation of lws's).
    func established(_ wsi: OpaquePointer) -> Int32 {
        assertOnLoop()
        let path = LWSHeader.value(wsi, WSI_TOKEN_GET_URI) ?? "/ws"
        lastSessionId += 1
        let s = Session(wsi: wsi, id: lastSessionId, limits: config.limits, now: Timestamp.monotonicSeconds())
        lws_set_opaque_user_data(wsi, Unmanaged.passRetained(s).toOpaque())
        sessions[ObjectIdentifier(s)] = s
        if var size = config.socketSendBuffer.map(Int32.init) {
            _ = setsockopt(lws_get_socket_fd(wsi), SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        metrics.connections += 1
        metrics.connectionsTotal += 1
        if gate.isClosed {
            sender.close(s, code: 1001)
            return 0
        }
        if !originAllowed(wsi) {
            metrics.originRefusals += 1
            sender.close(s, code: 1008)
            return 0
        }
        // Read again (lws keeps the headers until now): the handshake accepted them
        // microseconds ago, so a refusal here is a token that ran out in between.
        switch auth.handshake(wsi) {
        case let .success(p):
            auth.attach(s, p)
        case let .failure(reason):
            auth.refused(reason)
            sender.close(s, code: 1008)
            return 0
        }
        if let trip = Self.webSocketTrip(path), !trip.isEmpty, auth.allows(s, .read(tripId: trip), id: nil) {
            trips.subscribe(s, tripId: trip, since: nil, id: nil, compact: LWSHeader.isSet(LWSHeader.query(wsi)["compact"]))
        }
        return 0
    }

    /// The session of a WebSocket, from lws's opaque pointer.
    func session(_ wsi: OpaquePointer) -> Session? {
        assertOnLoop()
        guard let p = lws_get_opaque_user_data(wsi) else { return nil }
        return Unmanaged<Session>.fromOpaque(p).takeUnretainedValue()
    }

    /// LWS_CALLBACK_CLOSED: the connection is gone.
    func closed(_ wsi: OpaquePointer) {
        assertOnLoop()
        guard let s = session(wsi) else { return }
        lws_set_opaque_user_data(wsi, nil)
        s.closed = true
        auth.detach(s)
        trips.leaveAll(s)
        s.outbox.closed()
        sessions[ObjectIdentifier(s)] = nil
        metrics.connections -= 1
        Unmanaged.passUnretained(s).release()
    }

    /// Shutdown: closes every session with 1001 once its queue is written.
    func closeAll() {
        assertOnLoop()
        for s in sessions.values { sender.close(s, code: 1001, drain: true) }
    }

    /// After the lws context is gone: sessions lws did not close cleanly still hold their retain.
    func releaseAll() {
        assertOnLoop()
        for s in sessions.values { Unmanaged.passUnretained(s).release() }
        sessions.removeAll()
    }

    // MARK: Receive

    /// LWS_CALLBACK_RECEIVE: a fragment of a message.
    func receive(_ s: Session, _ input: UnsafeMutableRawPointer?, _ len: Int) -> Int32 {
        assertOnLoop()
        if s.outbox.closeCode != 0 { return 0 }
        let final = lws_is_final_fragment(s.wsi) != 0 && lws_remaining_packet_payload(s.wsi) == 0
        if s.rx.count + len > config.limits.maxMessageBytes {
            // The one input whose only safe answer is closing (docs/PROTOCOL.md: 1009).
            var reason = Array("message too large".utf8)
            lws_close_reason(s.wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, &reason, reason.count)
            return -1
        }
        if final && s.rx.isEmpty {
            let bytes = UnsafeRawBufferPointer(start: input, count: len)
            decode(s, bytes, binary: lws_frame_is_binary(s.wsi) != 0)
        } else {
            if let input { s.rx.append(contentsOf: UnsafeRawBufferPointer(start: input, count: len)) }
            if final {
                let message = s.rx
                s.rx = []
                message.withUnsafeBytes { decode(s, $0, binary: lws_frame_is_binary(s.wsi) != 0) }
            }
        }
        return 0
    }

    /// A whole message: the rate limit, then the request or the error it is.
    private func decode(_ s: Session, _ bytes: UnsafeRawBufferPointer, binary: Bool) {
        assertOnLoop()
        metrics.messagesReceived += 1
        guard s.bucket.take(now: Timestamp.monotonicSeconds(), rate: config.limits.messagesPerSecond,
                            burst: config.limits.messageBurst) else {
            metrics.rateLimited += 1
            // One error per refused message would let a flooder grow its own queue without
            // bound; answer while the queue is short, drop silently beyond that.
            if s.outbox.queuedBytes < 4096 {
                sender.sendError(s, ProtocolError(.rateLimited, "more than \(Int(config.limits.messagesPerSecond)) messages per second; slow down"))
            }
            return
        }
        if binary {
            sender.sendError(s, ProtocolError(.badRequest, "binary frames are not supported; send JSON text"))
            return
        }
        switch decoder.decode(bytes) {
        case let .failure(e): sender.sendError(s, e)
        case let .success(r): dispatch(r, from: s)
        }
    }

    private func dispatch(_ r: Request, from s: Session) {
        assertOnLoop()
        switch r.body {
        case let .subscribe(trip, since):
            metrics.requests["subscribe", default: 0] += 1
            guard auth.allows(s, .read(tripId: trip), id: r.id) else { return }
            trips.subscribe(s, tripId: trip, since: since, id: r.id, compact: r.compact)
        case let .unsubscribe(trip):
            metrics.requests["unsubscribe", default: 0] += 1
            trips.unsubscribe(s, tripId: trip)
            sender.send(s, Frame(Messages.unsubscribed(id: r.id, tripId: trip)))
        case .ping:
            metrics.requests["ping", default: 0] += 1
            sender.send(s, Frame(Messages.pong(id: r.id)))
        case .help:
            metrics.requests["help", default: 0] += 1
            sender.send(s, Frame(Messages.help(id: r.id)))
        case let .auth(token):
            metrics.requests["auth", default: 0] += 1
            auth.refresh(s, token: token, id: r.id)
        case let .reserve(trip, seats, hold):
            submit(.reserve(tripId: trip, seats: seats, hold: hold ?? HoldToken.generate()), type: "reserve",
                   action: .reserve(tripId: trip), id: r.id, from: s)
        case let .confirm(trip, seats, hold):
            submit(.confirm(tripId: trip, seats: seats, hold: hold), type: "confirm", action: .confirm(tripId: trip), id: r.id, from: s)
        case let .release(trip, seats, hold):
            submit(.release(tripId: trip, seats: seats, hold: hold), type: "release", action: .releaseOwn(tripId: trip), id: r.id, from: s)
        case let .releaseSeats(trip, seats):
            // Only the backend key may, and a WebSocket is never the backend.
            submit(.releaseSeats(tripId: trip, seats: seats), type: "release", action: .releaseAny(tripId: trip), id: r.id, from: s)
        case let .extend(trip, hold, seconds):
            submit(.extend(tripId: trip, hold: hold, seconds: seconds), type: "extend", action: .extend(tripId: trip), id: r.id, from: s)
        }
    }

    /// Hands a command to the store; the reply is encoded on the store's thread.
    private func submit(_ c: Command, type: String, action: AccessPolicy.Action, id: String?, from s: Session) {
        assertOnLoop()
        metrics.requests[type, default: 0] += 1
        guard auth.allows(s, action, id: id) else { return }
        guard gate.admit() else {
            sender.sendError(s, ProtocolError(.unavailable, "the server is shutting down; try again", id: id))
            return
        }
        backend.execute(c, session: s.id, scope: auth.scope(auth.principal(s), session: s.id),
                        reply: entry.commandReply(to: s, id: id, command: c, type: type))
    }
}
