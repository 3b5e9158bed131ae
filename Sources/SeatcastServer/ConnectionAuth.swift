import CLibWebSockets
import SeatcastCore

// Owns: the credentials of every WebSocket connection: reading them at the handshake, each
// session's principal and hold scope, the `auth` message (token refresh), and closing
// connections whose token ran out: one expiry queue (SeatcastCore's `ExpiryQueue`) for all
// of them, checked when the `ExpiryTicker` says its earliest deadline has passed. Thread:
// loop (the ticker has its own). The decisions are pure and live in SeatcastCore
// (`Authenticator`, `AccessPolicy`, `ExpiryQueue`); this carries them out.
//
// Why not an lws timer: one per connection would be quadratic (lws 4.1.6 keeps its timers
// in a sorted list with an O(n) insert), and even one shared lws_sul is not reliably
// re-armed from its own callback on the libev loop (it then waits for the next socket
// event), so an idle connection could outlive its token.

final class ConnectionAuth: LoopConfined {
    let loopThread: LoopThread
    private let config: ServerConfig
    private let policy: AccessPolicy
    private let entry: LoopEntry
    private let sender: Sender
    private let trips: TripRouter
    private let metrics: Metrics
    /// Random per server process: open-mode holder keys ("~<nonce>:<session>") never repeat
    /// across restarts or instances.
    let instanceNonce: String
    private var expiries = ExpiryQueue<ObjectIdentifier>()
    /// Wakes the loop (`LoopMessage.expire`) once the earliest deadline has passed.
    let ticker: ExpiryTicker
    /// The sessions by identity, for expiries. Set once, right after both exist (each
    /// needs the other).
    unowned var webSockets: WebSocketHandler!

    init(config: ServerConfig, entry: LoopEntry, sender: Sender, trips: TripRouter, metrics: Metrics,
         loopThread: LoopThread) {
        self.config = config
        policy = config.policy
        self.entry = entry
        self.sender = sender
        self.trips = trips
        self.metrics = metrics
        self.loopThread = loopThread
        instanceNonce = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        ticker = ExpiryTicker(entry: entry)
    }

    /// Wall-clock seconds, as token times are.
    static func now() -> Double { Double(Timestamp.nowMs()) / 1000 }

    // MARK: Who is asking

    /// LWS_CALLBACK_HTTP_CONFIRM_UPGRADE and ESTABLISHED: the handshake's credentials.
    func handshake(_ wsi: OpaquePointer) -> Result<Principal, Authenticator.Refusal> {
        assertOnLoop()
        guard !config.auth.isOpen else { return .success(.open) }
        return config.auth.webSocket(queryToken: LWSHeader.queryValue(wsi, "token"),
                                     authorization: LWSHeader.value(wsi, WSI_TOKEN_HTTP_AUTHORIZATION),
                                     now: Self.now())
    }

    /// A refusal, counted by reason (never told to the client).
    func refused(_ reason: Authenticator.Refusal) {
        assertOnLoop()
        metrics.authRefusals[reason.label, default: 0] += 1
    }

    /// The session's principal: open mode, a buyer, or a public reader without a token.
    func principal(_ s: Session) -> Principal {
        if config.auth.isOpen { return .open }
        if let a = s.auth { return .buyer(a.claims) }
        return .anonymous
    }

    /// Whose holds a command may touch and whose quota it counts against
    /// (docs/PROTOCOL.md 1.1, "Hold quota"). `session`: the WebSocket's id, or an HTTP
    /// request's (negative) number: in open mode each is its own holder.
    func scope(_ p: Principal, session: Int) -> HoldScope {
        switch p {
        case let .buyer(claims): return HoldScope(holder: claims.sub, ownHoldsOnly: true, maxHeld: config.maxHeld)
        case .open: return HoldScope(holder: "~\(instanceNonce):\(session)", ownHoldsOnly: false, maxHeld: config.maxHeld)
        // Anonymous callers never get this far (AccessPolicy refuses them every command).
        case .backend, .anonymous: return .unrestricted
        }
    }

    /// Whether the session may do `action`; if not, it is answered `unauthorized` or
    /// `forbidden` (with the request's id) and false is returned.
    func allows(_ s: Session, _ action: AccessPolicy.Action, id: String?) -> Bool {
        assertOnLoop()
        guard let code = policy.decide(principal(s), action).errorCode else { return true }
        sender.sendError(s, Self.refusal(code, id: id))
        return false
    }

    /// The error a refused request gets; the same whatever check failed.
    static func refusal(_ code: ErrorCode, id: String? = nil) -> ProtocolError {
        code == .unauthorized
            ? ProtocolError(.unauthorized, "a valid token is required", id: id)
            : ProtocolError(.forbidden, "not allowed with these credentials", id: id)
    }

    // MARK: Session tokens

    /// A new session: a buyer's token is kept and its expiry watched.
    func attach(_ s: Session, _ p: Principal) {
        assertOnLoop()
        guard case let .buyer(claims) = p else { return }
        s.auth = SessionAuth(claims: claims)
        watch(s, claims)
    }

    /// The session closed.
    func detach(_ s: Session) {
        assertOnLoop()
        if s.auth != nil { expiries.remove(ObjectIdentifier(s)) }
    }

    /// `{"type":"auth","token":...}`: a valid token replaces the session's (and its expiry);
    /// subscriptions it does not cover are dropped, each with an `error` forbidden naming
    /// the trip, before the `authed` answer. A bad token changes nothing.
    func refresh(_ s: Session, token: String, id: String?) {
        assertOnLoop()
        guard allows(s, .refreshToken, id: id) else { return }
        switch config.auth.buyer(token, now: Self.now()) {
        case let .failure(reason):
            refused(reason)
            sender.sendError(s, Self.refusal(.unauthorized, id: id))
        case let .success(claims):
            metrics.tokenRefreshes += 1
            if let a = s.auth { a.claims = claims } else { s.auth = SessionAuth(claims: claims) }
            watch(s, claims)
            for trip in s.subscribedTripIds where !claims.covers(tripId: trip) {
                trips.unsubscribe(s, tripId: trip)
                metrics.errors[ErrorCode.forbidden.rawValue, default: 0] += 1
                sender.send(s, Frame(Messages.error(ProtocolError(.forbidden, "the new token does not cover this trip; unsubscribed"),
                                                    tripId: trip)))
            }
            sender.send(s, Frame(Messages.authed(id: id, sub: claims.sub, exp: claims.exp)))
        }
    }

    // MARK: Expiry

    private func watch(_ s: Session, _ claims: BuyerClaims) {
        assertOnLoop()
        expiries.schedule(ObjectIdentifier(s), at: config.auth.deadline(claims))
        if !config.auth.isOpen { ticker.start() }
        ticker.next(expiries.earliest())
    }

    /// `LoopMessage.expire`: closes (1008, "token expired") every session whose token ran out.
    func expire() {
        assertOnLoop()
        for key in expiries.popExpired(now: Self.now()) {
            guard let s = webSockets.sessions[key], let a = s.auth, !s.closed else { continue }
            a.expired = true
            metrics.tokenExpiryCloses += 1
            sender.close(s, code: 1008)
        }
        ticker.next(expiries.earliest())
    }

    /// Shutdown: the ticker's thread ends.
    func stop() {
        assertOnLoop()
        ticker.stop()
    }
}
