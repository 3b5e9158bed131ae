import CLibWebSockets
import Foundation
import SeatcastCore
import Synchronization

/// The seatcast server: one lws context, one service thread, every socket.
public final class Server: @unchecked Sendable {
    public let config: ServerConfig
    let backend: any SeatBackend
    let inbox = Inbox()
    let decoder: RequestDecoder

    // Loop-thread state.
    /// Who follows which trip, each trip's map and recent events: the subscription policy.
    var trips: SubscriptionMachine<Session>
    var nextSessionId = 0
    var stopping = false
    /// Commands handed to the store and not answered yet; shutdown waits for them.
    var pendingCommands = 0
    var stopDeadline = 0.0
    var closedAll = false
    /// HTTP requests whose answer is not written yet; shutdown waits for them too.
    var httpInFlight = 0
    /// Reused for coalesced writes and the rest of short ones (lws copies what it keeps).
    var scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 72 * 1024, alignment: 16)
    var sessions: [ObjectIdentifier: Session] = [:]
    /// Sessions with frames pushed during this loop pass, written when the pass ends.
    var flushList: [Session] = []
    let outboxPolicy: Outbox.Policy
    var metrics = Metrics()
    /// "epoll" (libev) or "poll" (lws's own loop).
    private(set) var eventLoopName = "poll"

    // Set by the loop thread before `start` returns.
    private let listeningPort = Atomic<Int>(0)
    private let started = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let startError = Mutex<String?>(nil)
    private let running = Atomic<Bool>(false)

    // C memory lws keeps pointers to for the context's lifetime.
    private var cStrings: [UnsafeMutablePointer<CChar>] = []
    private var protocols: UnsafeMutablePointer<lws_protocols>?
    /// lws copies the protocols array per vhost, so protocols are told apart by `id`.
    static let httpProtocolId: UInt32 = 1
    private var mounts: UnsafeMutablePointer<lws_http_mount>?
    private var retryPolicy: UnsafeMutablePointer<lws_retry_bo_t>?

    public init(config: ServerConfig, backend: any SeatBackend) {
        self.config = config
        self.backend = backend
        decoder = RequestDecoder(limits: config.limits)
        outboxPolicy = Outbox.Policy(config.limits)
        trips = SubscriptionMachine(policy: .init(ringCapacity: config.ringCapacity,
                                                  maxResumeBufferBytes: config.limits.maxQueuedBytes))
        precondition(Frame.headroom >= Int(seatcast_lws_pre()), "Frame.headroom is less than LWS_PRE")
    }

    deinit {
        scratch.deallocate()
        for p in cStrings { free(p) }
        protocols?.deallocate()
        mounts?.deallocate()
        retryPolicy?.deallocate()
    }

    /// The port it listens on, once started.
    public var port: Int { listeningPort.load(ordering: .relaxed) }

    /// Starts the service thread and returns once the port is open. Any thread.
    public func start() throws {
        let t = Thread { [self] in
            self.loopMain()
            self.finished.signal()
        }
        t.name = "seatcast-lws"
        t.stackSize = 8 << 20
        t.start()
        started.wait()
        if let e = startError.withLock({ $0 }) { throw ServerError(message: e) }
    }

    /// Closes every WebSocket with 1001, answers nothing more, and waits for the loop to end.
    /// Any thread; safe to call twice.
    public func stop() {
        guard running.load(ordering: .sequentiallyConsistent) else { return }
        inbox.push(.stop)
        // The loop exits when every session has closed or the grace period has passed;
        // keep waking it so it notices either.
        while finished.wait(timeout: .now() + .milliseconds(50)) == .timedOut { inbox.wake() }
        running.store(false, ordering: .sequentiallyConsistent)
    }

    private func cString(_ s: String) -> UnsafeMutablePointer<CChar> {
        let p = strdup(s)!
        cStrings.append(p)
        return p
    }

    // MARK: Loop thread

    private func loopMain() {
        lws_set_log_level(Int32(LLL_ERR), nil)
        Self.raiseFileLimit()

        let protos = UnsafeMutablePointer<lws_protocols>.allocate(capacity: 3)
        protos.initialize(repeating: lws_protocols(), count: 3)
        // protocols[0] serves WebSocket clients that ask for no subprotocol, and the
        // fall-through of the file mount (404).
        protos[0].name = UnsafePointer(cString("seatcast.v1"))
        protos[0].callback = seatcastLWSCallback
        // Sessions live in lws's opaque pointer (no per-connection allocation); HTTP
        // requests that reach protocols[0] are answered 404 without state.
        protos[0].per_session_data_size = 0
        // Small on purpose: lws allocates it per connection. Longer messages arrive in
        // several RECEIVE calls and are reassembled.
        protos[0].rx_buffer_size = 128
        protos[0].tx_packet_size = 65536
        protos[1].name = UnsafePointer(cString("seatcast-http"))
        protos[1].callback = seatcastLWSCallback
        protos[1].per_session_data_size = MemoryLayout<UnsafeMutableRawPointer?>.size
        protos[1].tx_packet_size = 65536
        protos[1].id = Server.httpProtocolId
        protocols = protos

        // One callback mount for every path: seatcast routes and serves files itself (see
        // Server+HTTP.swift and HTTPStatic.swift for why not lws's file mount).
        let ms = UnsafeMutablePointer<lws_http_mount>.allocate(capacity: 1)
        ms.initialize(to: lws_http_mount())
        ms.pointee.mountpoint = UnsafePointer(cString("/"))
        ms.pointee.mountpoint_len = 1
        ms.pointee.origin = UnsafePointer(cString("seatcast-http"))
        ms.pointee.origin_protocol = UInt8(LWSMPRO_CALLBACK.rawValue)
        mounts = ms

        let retry = UnsafeMutablePointer<lws_retry_bo_t>.allocate(capacity: 1)
        retry.initialize(to: lws_retry_bo_t())
        retry.pointee.secs_since_valid_ping = config.pingSeconds
        retry.pointee.secs_since_valid_hangup = config.hangupSeconds
        retryPolicy = retry

        var info = lws_context_creation_info()
        info.port = Int32(config.port)
        if let host = config.host { info.iface = UnsafePointer(cString(host)) }
        info.protocols = UnsafePointer(protos)
        info.mounts = UnsafePointer(ms)
        info.retry_and_idle_policy = UnsafePointer(retry)
        info.options = UInt64(LWS_SERVER_OPTION_VALIDATE_UTF8)
            | UInt64(LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE)
            // Bytes that are not a request lws knows (TRACE, garbage) reach our RAW_RX to be
            // answered 405/400, instead of lws's own 403.
            | UInt64(LWS_SERVER_OPTION_FALLBACK_TO_APPLY_LISTEN_ACCEPT_CONFIG)
        info.pt_serv_buf_size = 32 * 1024
        info.vhost_name = UnsafePointer(cString("seatcast"))
        info.server_string = UnsafePointer(cString("seatcast"))
        info.user = Unmanaged.passUnretained(self).toOpaque()

        // libev (epoll) as a foreign loop that this thread runs one iteration at a time, so
        // queued writes are flushed after every pass. Without the plugin, lws's own poll().
        var loop: UnsafeMutableRawPointer? = config.useEpoll ? seatcast_ev_loop_new() : nil
        let loops = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: 1)
        defer { loops.deallocate() }
        loops.initialize(to: loop)
        var ctx: OpaquePointer?
        if loop != nil {
            var evInfo = info
            evInfo.options |= UInt64(LWS_SERVER_OPTION_LIBEV)
            evInfo.foreign_loops = loops
            ctx = lws_create_context(&evInfo)
            if ctx == nil {
                seatcast_ev_loop_destroy(loop)
                loop = nil
            }
        }
        if ctx == nil { ctx = lws_create_context(&info) }
        guard let ctx else {
            startError.withLock { $0 = "cannot listen on port \(config.port) (in use, or not permitted)" }
            started.signal()
            return
        }
        eventLoopName = loop == nil ? "poll" : "epoll"
        inbox.context.store(Int(bitPattern: UnsafeRawPointer(ctx)), ordering: .releasing)
        let vh = lws_get_vhost_by_name(ctx, "seatcast")
        listeningPort.store(Int(vh.map { lws_get_vhost_listen_port($0) } ?? Int32(config.port)), ordering: .relaxed)
        running.store(true, ordering: .sequentiallyConsistent)
        started.signal()
        config.log("listening on port \(port) (\(eventLoopName))")

        while true {
            if let loop {
                seatcast_ev_run_once(loop)
            } else if lws_service(ctx, 0) < 0 {
                break
            }
            flushPendingWrites()
            if stopping {
                closeAllWhenIdle()
                // Clients get up to 2 s more to complete the closing handshake.
                if (closedAll && sessions.isEmpty && httpInFlight == 0) || Timestamp.monotonicSeconds() > stopDeadline + 2 { break }
            }
        }
        inbox.context.store(0, ordering: .releasing)
        lws_context_destroy(ctx)
        if let loop {
            // Let libev finish what lws stopped, then free it.
            seatcast_ev_run_nowait(loop)
            seatcast_ev_loop_destroy(loop)
        }
        // Sessions lws did not close cleanly still hold their retain.
        for s in sessions.values { Unmanaged.passUnretained(s).release() }
        sessions.removeAll()
        trips.removeAll()
    }

    /// Every connection is a file descriptor: lift the soft limit to the hard one.
    static func raiseFileLimit() {
        var lim = rlimit()
        guard getrlimit(RLIMIT_NOFILE_, &lim) == 0, lim.rlim_cur < lim.rlim_max else { return }
        lim.rlim_cur = lim.rlim_max
        _ = setrlimit(RLIMIT_NOFILE_, &lim)
    }

    /// Everything other threads handed over since the last drain.
    func drainInbox() {
        for m in inbox.takeAll() { handle(m) }
    }

    private func handle(_ m: LoopMessage) {
        switch m {
        case let .done(inner, outcome):
            pendingCommands -= 1
            metrics.commandOutcomes[outcome, default: 0] += 1
            handle(inner)
            if stopping { closeAllWhenIdle() }
        case let .send(s, f): send(s, f)
        case let .http(r, resp): respond(r, resp)
        case let .audited(r, trip, list):
            metrics.auditViolations += list.count
            respond(r, .json(200, Messages.audit(tripId: trip, list)))
        case let .snapshotLoaded(trip, result): snapshotLoaded(trip, result)
        case let .events(trip, events): eventsArrived(trip, events)
        case let .reload(trip): reloadTrip(trip)
        case let .outboxLoaded(s, trip, token, result): outboxLoaded(s, tripId: trip, token: token, result)
        case .stop: beginStop()
        }
    }

    /// Shutdown: refuse new commands, let the ones in flight finish (at most 2 s), then
    /// close every WebSocket with 1001.
    private func beginStop() {
        guard !stopping else { return }
        stopping = true
        stopDeadline = Timestamp.monotonicSeconds() + 2
        config.log("stopping: \(pendingCommands) command(s) in flight, \(sessions.count) connection(s)")
        closeAllWhenIdle()
    }

    private func closeAllWhenIdle() {
        guard !closedAll, pendingCommands == 0 || Timestamp.monotonicSeconds() >= stopDeadline else { return }
        closedAll = true
        for s in sessions.values { close(s, code: 1001, drain: true) }
    }
}

#if canImport(Glibc)
import Glibc
let RLIMIT_NOFILE_ = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
#endif

public struct ServerError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// The one lws callback for both protocols. lws calls it on the service thread.
func seatcastLWSCallback(_ wsi: OpaquePointer?, _ reason: lws_callback_reasons, _ user: UnsafeMutableRawPointer?,
                         _ input: UnsafeMutableRawPointer?, _ len: Int) -> Int32 {
    guard let wsi, let ctx = lws_get_context(wsi), let raw = lws_context_user(ctx) else {
        return lws_callback_http_dummy(wsi, reason, user, input, len)
    }
    let server = Unmanaged<Server>.fromOpaque(raw).takeUnretainedValue()
    return server.callback(wsi, reason, user, input, len)
}
