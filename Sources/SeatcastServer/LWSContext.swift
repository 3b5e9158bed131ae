import CLibWebSockets
import Foundation
import SeatcastCore

// Owns: the libwebsockets context (protocols, the one callback mount, the keepalive
// policy, options), its event loop (libev/epoll as a foreign loop, or lws's own poll), and
// the C memory lws points to for the context's lifetime. Thread: loop (created, serviced
// and destroyed there).

final class LWSContext: LoopConfined {
    /// lws copies the protocols array per vhost, so protocols are told apart by `id`.
    static let httpProtocolId: UInt32 = 1

    let loopThread: LoopThread
    /// nil when the port could not be opened.
    private(set) var context: OpaquePointer?
    /// The libev loop lws runs on, or nil for lws's own poll().
    private var evLoop: UnsafeMutableRawPointer?
    /// "epoll" (libev) or "poll" (lws's own loop).
    private(set) var eventLoopName = "poll"
    private(set) var port = 0

    // C memory lws keeps pointers to for the context's lifetime.
    private var cStrings: [UnsafeMutablePointer<CChar>] = []
    private let protocols: UnsafeMutablePointer<lws_protocols>
    private let mounts: UnsafeMutablePointer<lws_http_mount>
    private let retryPolicy: UnsafeMutablePointer<lws_retry_bo_t>

    /// Creates the context and starts listening; `context` stays nil when that fails.
    /// `user` is what the callback gets back from `lws_context_user`.
    init(config: ServerConfig, user: UnsafeMutableRawPointer, loopThread: LoopThread) {
        self.loopThread = loopThread
        protocols = .allocate(capacity: 3)
        mounts = .allocate(capacity: 1)
        retryPolicy = .allocate(capacity: 1)
        assertOnLoop()
        lws_set_log_level(Int32(LLL_ERR), nil)
        Self.raiseFileLimit()

        protocols.initialize(repeating: lws_protocols(), count: 3)
        // protocols[0] serves WebSocket clients that ask for no subprotocol, and the
        // fall-through of the file mount (404).
        protocols[0].name = UnsafePointer(cString("seatcast.v1"))
        protocols[0].callback = seatcastLWSCallback
        // Sessions live in lws's opaque pointer (no per-connection allocation); HTTP
        // requests that reach protocols[0] are answered 404 without state.
        protocols[0].per_session_data_size = 0
        // Small on purpose: lws allocates it per connection. Longer messages arrive in
        // several RECEIVE calls and are reassembled. Not below 125: lws acts on a control
        // frame each time this buffer fills, so a ping longer than it would get a truncated
        // pong (ControlFrameTests; 32 bytes would save ~85 bytes per connection).
        protocols[0].rx_buffer_size = 128
        protocols[0].tx_packet_size = 65536
        protocols[1].name = UnsafePointer(cString("seatcast-http"))
        protocols[1].callback = seatcastLWSCallback
        protocols[1].per_session_data_size = MemoryLayout<UnsafeMutableRawPointer?>.size
        protocols[1].tx_packet_size = 65536
        protocols[1].id = Self.httpProtocolId

        // One callback mount for every path: seatcast routes and serves files itself (see
        // HTTPHandler.swift and HTTPStatic.swift for why not lws's file mount).
        mounts.initialize(to: lws_http_mount())
        mounts.pointee.mountpoint = UnsafePointer(cString("/"))
        mounts.pointee.mountpoint_len = 1
        mounts.pointee.origin = UnsafePointer(cString("seatcast-http"))
        mounts.pointee.origin_protocol = UInt8(LWSMPRO_CALLBACK.rawValue)

        retryPolicy.initialize(to: lws_retry_bo_t())
        retryPolicy.pointee.secs_since_valid_ping = config.pingSeconds
        retryPolicy.pointee.secs_since_valid_hangup = config.hangupSeconds

        var info = lws_context_creation_info()
        info.port = Int32(config.port)
        if let host = config.host { info.iface = UnsafePointer(cString(host)) }
        info.protocols = UnsafePointer(protocols)
        info.mounts = UnsafePointer(mounts)
        info.retry_and_idle_policy = UnsafePointer(retryPolicy)
        info.options = UInt64(LWS_SERVER_OPTION_VALIDATE_UTF8)
            | UInt64(LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE)
            // Bytes that are not a request lws knows (TRACE, garbage) reach our RAW_RX to be
            // answered 405/400, instead of lws's own 403.
            | UInt64(LWS_SERVER_OPTION_FALLBACK_TO_APPLY_LISTEN_ACCEPT_CONFIG)
        info.pt_serv_buf_size = 32 * 1024
        // Room for a request's headers while they are parsed (lws's default is 4096, and a
        // buyer token alone may be 4096 bytes in `?token=` or `Authorization`): a too-long
        // token is then answered 401 rather than the connection dropped. Held only during
        // the handshake; an upgraded WebSocket keeps none of it.
        info.max_http_header_data = 12 * 1024
        info.vhost_name = UnsafePointer(cString("seatcast"))
        info.server_string = UnsafePointer(cString("seatcast"))
        info.user = user

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
        guard let ctx else { return }
        context = ctx
        evLoop = loop
        eventLoopName = loop == nil ? "poll" : "epoll"
        let vh = lws_get_vhost_by_name(ctx, "seatcast")
        port = Int(vh.map { lws_get_vhost_listen_port($0) } ?? Int32(config.port))
    }

    deinit {
        for p in cStrings { free(p) }
        protocols.deallocate()
        mounts.deallocate()
        retryPolicy.deallocate()
    }

    private func cString(_ s: String) -> UnsafeMutablePointer<CChar> {
        assertOnLoop()
        let p = strdup(s)!
        cStrings.append(p)
        return p
    }

    /// Every connection is a file descriptor: lift the soft limit to the hard one.
    private static func raiseFileLimit() {
        var lim = rlimit()
        guard getrlimit(RLIMIT_NOFILE_, &lim) == 0, lim.rlim_cur < lim.rlim_max else { return }
        lim.rlim_cur = lim.rlim_max
        _ = setrlimit(RLIMIT_NOFILE_, &lim)
    }

    /// One pass of the loop: waits for and handles whatever is ready (lws calls back into
    /// the server). False when lws's own loop says to stop.
    func service() -> Bool {
        assertOnLoop()
        guard let context else { return false }
        if let evLoop {
            seatcast_ev_run_once(evLoop)
            return true
        }
        return lws_service(context, 0) >= 0
    }

    /// Destroys the context (lws closes every connection, calling back for each), then the
    /// libev loop.
    func destroy() {
        assertOnLoop()
        guard let ctx = context else { return }
        context = nil
        lws_context_destroy(ctx)
        if let evLoop {
            // Let libev finish what lws stopped, then free it.
            seatcast_ev_run_nowait(evLoop)
            seatcast_ev_loop_destroy(evLoop)
            self.evLoop = nil
        }
    }
}

#if canImport(Glibc)
import Glibc
private let RLIMIT_NOFILE_ = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
#endif
