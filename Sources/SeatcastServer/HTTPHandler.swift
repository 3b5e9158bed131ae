import CLibWebSockets
import SeatcastCore
#if canImport(Glibc)
import Glibc
#endif

// Owns: every HTTP request on the server's one port: routing (`HTTPRoute`), the API, static
// files (`StaticFiles`), /healthz and /metrics, the answers and the closing of their
// connections, and connections lws could not read as HTTP. Thread: loop; answers that
// need the database come back through the `LoopEntry`.
//
// Every HTTP answer says `Connection: close` and its connection closes once the answer is
// out (RFC 9112 9.6). Pipelined requests after the first get a clean close instead of an
// answer, which RFC 9112 9.3.2 expects clients to handle by sending them again. Why not
// answer them in order: with libwebsockets 4.1.6, bytes that follow a request in the same
// read are unsafe whenever the answer is not written inside that request's own callback,
// and ours mostly wait for the database:
// - left alone, lws feeds them again to its finished header parser, which swallows them
//   and clears `hdr_parsing_completed`; from then on HTTP_WRITEABLE never comes, and not
//   even a partly sent answer is flushed (lws_read_h1, lws_h1_server_socket_service). A
//   POST left waiting is worse: lws hands over its body completion again on every loop,
//   and the command ran hundreds of times (pipelinedPostThenGet saw it).
// - rx flow control keeps them unread, but an h1 server connection under flow control gets
//   no POLLOUT service either (rops_handle_POLLIN_h1 returns first), and spins on any
//   POLLOUT requested meanwhile; lws requests one itself when its buffer holds bytes,
//   which is exactly the case of a second, pipelined request.
// - answers lws builds itself (its file mount, lws_return_http_status) are written into
//   the per-thread buffer that still holds the unread rest of the read: the second of two
//   pipelined files got 403.
// So a connection serves one request: its input is held (flow control) from the end of the
// request's callback until its answer, which on a first request never meets buffered bytes;
// the answer is written from the inbox (never inside lws's parse), in one lws_write from our
// own buffer; then input is released and the connection closed at once, lws flushing what
// the kernel did not take first, while a duplicate of the socket lingers to read whatever
// the client still sends (see `linger`).

final class HTTPHandler: LoopConfined {
    let loopThread: LoopThread
    let config: ServerConfig
    let backend: any SeatBackend
    let entry: LoopEntry
    let gate: CommandGate
    let trips: TripRouter
    let metrics: Metrics
    let auth: ConnectionAuth
    let decoder: RequestDecoder
    /// Requests whose answer is not written yet; shutdown waits for them.
    private(set) var inFlight = 0
    /// Each HTTP command is its own store session, numbered -1, -2, ... (never a WebSocket's).
    var lastCommandSession = 0

    init(config: ServerConfig, backend: any SeatBackend, entry: LoopEntry, gate: CommandGate, trips: TripRouter,
         metrics: Metrics, auth: ConnectionAuth, loopThread: LoopThread) {
        self.config = config
        self.auth = auth
        self.backend = backend
        self.entry = entry
        self.gate = gate
        self.trips = trips
        self.metrics = metrics
        self.loopThread = loopThread
        decoder = RequestDecoder(limits: config.limits)
    }

    /// The request kept in lws's per-session pointer of an HTTP connection.
    func request(_ user: UnsafeMutableRawPointer?) -> HTTPRequest? {
        assertOnLoop()
        guard let p = user?.load(as: UnsafeMutableRawPointer?.self) else { return nil }
        return Unmanaged<HTTPRequest>.fromOpaque(p).takeUnretainedValue()
    }

    /// LWS_CALLBACK_CLOSED_HTTP / HTTP_DROP_PROTOCOL: the connection is gone; its answer, if
    /// one is still coming, is dropped.
    func connectionGone(_ user: UnsafeMutableRawPointer?) {
        assertOnLoop()
        guard let r = request(user) else { return }
        r.dead = true
        finished(r)
        user!.storeBytes(of: nil, as: UnsafeMutableRawPointer?.self)
        Unmanaged.passUnretained(r).release()
    }

    /// LWS_CALLBACK_HTTP: a request's headers are in. Every path is ours (one callback
    /// mount at /); the callback on protocols[0] only runs if lws finds no mount.
    func start(_ wsi: OpaquePointer, _ user: UnsafeMutableRawPointer?) -> Int32 {
        assertOnLoop()
        metrics.httpRequests += 1
        var uri: UnsafeMutablePointer<CChar>?
        var uriLength: Int32 = 0
        let m = Int(lws_http_get_uri_and_method(wsi, &uri, &uriLength))
        guard let user, lws_get_protocol(wsi)?.pointee.id == LWSContext.httpProtocolId, let uri, uriLength >= 0 else {
            return Self.answerAndClose(wsi, .text(404, "not found\n"))
        }
        let path = String(decoding: UnsafeRawBufferPointer(start: uri, count: Int(uriLength)), as: UTF8.self)
        let route = HTTPRoute(path: path)
        let method: HTTPMethod?
        switch m {
        case LWSHUMETH_GET: method = .get
        case LWSHUMETH_HEAD: method = .head
        case LWSHUMETH_POST: method = .post
        case LWSHUMETH_DELETE: method = .delete
        default: method = nil
        }
        guard let method, route.allowed.contains(method) else {
            return Self.answerAndClose(wsi, .methodNotAllowed(route.allowHeader), headOnly: method == .head)
        }
        if let old = request(user) {
            old.dead = true
            finished(old)
            Unmanaged.passUnretained(old).release()
        }
        let r = HTTPRequest(wsi: wsi, method: method, path: path,
                            ifNoneMatch: LWSHeader.value(wsi, WSI_TOKEN_HTTP_IF_NONE_MATCH))
        if route != .file { r.query = LWSHeader.query(wsi) }
        inFlight += 1
        user.storeBytes(of: Unmanaged.passRetained(r).toOpaque(), as: UnsafeMutableRawPointer?.self)
        r.inCallback = true
        defer { r.inCallback = false }
        if route.isAPI {
            // Credentials are read on the API only: files, /healthz and /metrics are public.
            switch config.auth.http(authorization: LWSHeader.value(wsi, WSI_TOKEN_HTTP_AUTHORIZATION), now: ConnectionAuth.now()) {
            case let .success(p):
                r.principal = p
            case let .failure(reason):
                auth.refused(reason)
                respond(r, refusal(.unauthorized))
                return hold(r)
            }
        }
        if method != .get, method != .head, route.isAPI,
           let code = config.policy.decideBeforeBody(r.principal).errorCode {
            // No credentials where every write needs them: refused before the body is read.
            respond(r, refusal(code))
            return hold(r)
        }
        if method == .post {
            let declared = Int(LWSHeader.value(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) ?? "") ?? 0
            if declared > config.limits.maxMessageBytes {
                // Refused before reading it: the client learns at once rather than after uploading.
                respond(r, .json(413, Messages.error(ProtocolError(.tooLarge, "body over \(config.limits.maxMessageBytes) bytes"))))
            } else if declared <= 0 {
                routePost(r)
            } else {
                return 0  // the body follows; answered from HTTP_BODY_COMPLETION
            }
        } else if method == .delete {
            routeDelete(r)
        } else {
            routeGet(r)
        }
        return hold(r)
    }

    /// LWS_CALLBACK_HTTP_BODY: a piece of a POST body.
    func body(_ r: HTTPRequest, _ input: UnsafeMutableRawPointer?, _ len: Int) -> Int32 {
        assertOnLoop()
        r.inCallback = true
        defer { r.inCallback = false }
        guard !r.decided else { return 0 }
        if r.body.count + len > config.limits.maxMessageBytes {
            // More than Content-Length said: refuse it without reading the rest.
            respond(r, .json(413, Messages.error(ProtocolError(.tooLarge, "body over \(config.limits.maxMessageBytes) bytes"))))
            return hold(r)
        }
        if let input { r.body.append(contentsOf: UnsafeRawBufferPointer(start: input, count: len)) }
        return 0
    }

    /// LWS_CALLBACK_HTTP_BODY_COMPLETION: the whole POST body is in.
    func bodyComplete(_ r: HTTPRequest) -> Int32 {
        assertOnLoop()
        r.inCallback = true
        defer { r.inCallback = false }
        if !r.decided { routePost(r) }
        return hold(r)
    }

    /// The end of a request's callbacks: lws reads nothing more from the connection until
    /// the answer is written (its one request is in; anything after it waits in lws's buffer
    /// or the kernel, never parsed, and goes when the connection closes).
    private func hold(_ r: HTTPRequest) -> Int32 {
        assertOnLoop()
        if r.dead { return -1 }
        if !r.held {
            r.held = true
            _ = lws_rx_flow_control(r.wsi, 0)
        }
        return 0
    }

    /// Writes the whole answer and closes the connection. An answer chosen inside one of the
    /// request's own callbacks goes through the inbox first: lws is then still parsing the
    /// connection's input, and a connection it is servicing cannot be closed synchronously.
    func respond(_ r: HTTPRequest, _ response: HTTPResponse) {
        assertOnLoop()
        guard !r.dead, !r.written else { return }
        if r.inCallback {
            guard !r.queued else { return }
            r.queued = true
            entry.push(.http(r, response))
            return
        }
        r.written = true
        finished(r)
        let wsi = r.wsi
        let wrote = Self.writeAnswer(wsi, response, headOnly: r.method == .head || response.status == 304)
        if r.held {
            r.held = false
            _ = lws_rx_flow_control(wsi, 1)
        }
        // After a good write, bytes lws still holds mean the close below keeps the connection
        // to flush them (after a failed one lws may free it at once).
        let flushing = wrote && lws_partial_buffered(wsi) != 0
        // lws allows 5 s in all for a flush; give a slow reader time in proportion.
        let flushSeconds = Int32(min(60, 5 + response.body.count / 16384))
        Self.linger(wsi, seconds: flushing ? flushSeconds + 5 : 5)
        r.dead = true
        // Not the connection lws is servicing right now, so a synchronous close is allowed.
        lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_SYNC)
        if flushing { lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, flushSeconds) }
    }

    /// A lingering close (RFC 9112 9.6): closing a socket that still has unread input makes
    /// the kernel send a reset, which can destroy the tail of an answer the client has not
    /// read yet (a pipelining client's next request is such input). So the socket is kept
    /// open through a duplicate descriptor when lws closes its own (lws's shutdown(SHUT_WR)
    /// still sends the FIN), and lws watches the duplicate as a raw file: its input is read
    /// and dropped until the client closes, or for `seconds` at most. lws closes the
    /// duplicate (also when adopting it fails). `shutWrite` sends the FIN here, for raw
    /// connections, which lws closes without one.
    private static func linger(_ wsi: OpaquePointer, seconds: Int32, shutWrite: Bool = false) {
        let fd = lws_get_socket_fd(wsi)
        guard fd >= 0, let vhost = lws_get_vhost(wsi) else { return }
        let copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)
        guard copy >= 0 else { return }
        if shutWrite { _ = shutdown(copy, Int32(SHUT_WR)) }
        guard let drain = lws_adopt_descriptor_vhost(vhost, LWS_ADOPT_RAW_FILE_DESC, lws_sock_file_fd_type(filefd: copy),
                                                     nil, nil) else { return }
        lws_set_timeout(drain, PENDING_TIMEOUT_USER_OK, seconds)
    }

    /// RAW_RX_FILE on a lingering socket: read and drop what is there; close at EOF.
    func drainLingering(_ wsi: OpaquePointer) -> Int32 {
        assertOnLoop()
        let fd = lws_get_socket_fd(wsi)
        var buf = [UInt8](repeating: 0, count: 16384)
        for _ in 0..<16 {
            let n = recv(fd, &buf, buf.count, Int32(MSG_DONTWAIT))
            if n > 0 { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) { return 0 }
            return -1  // EOF or an error: done
        }
        return 0
    }

    /// Writes an answer to a connection that has no request object (refused before one was
    /// made) and tells the callback to close it. Loop thread, in the connection's callback.
    static func answerAndClose(_ wsi: OpaquePointer, _ response: HTTPResponse, headOnly: Bool = false) -> Int32 {
        _ = writeAnswer(wsi, response, headOnly: headOnly)
        linger(wsi, seconds: 5)
        return -1
    }

    /// Headers and body in one lws_write from a buffer of our own (never lws's per-thread
    /// buffer, which may still hold unread input). lws keeps whatever the kernel does not
    /// take and sends it before the connection closes. `headOnly` (HEAD, 304) announces the
    /// body's length without sending it. False if lws refused.
    private static func writeAnswer(_ wsi: OpaquePointer, _ resp: HTTPResponse, headOnly: Bool) -> Bool {
        let pre = Frame.headroom
        let headerSpace = 2048 + resp.headers.reduce(resp.cacheControl.utf8.count) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
        let bodyCount = headOnly ? 0 : resp.body.count
        let buf = UnsafeMutableRawPointer.allocate(byteCount: pre + headerSpace + bodyCount, alignment: 16)
        defer { buf.deallocate() }
        let start = (buf + pre).assumingMemoryBound(to: UInt8.self)
        var p: UnsafeMutablePointer<UInt8>? = start
        let end = start + headerSpace
        func add(_ name: String, _ value: String) -> Bool {
            lws_add_http_header_by_name(wsi, name + ":", value, Int32(value.utf8.count), &p, end) == 0
        }
        guard lws_add_http_common_headers(wsi, UInt32(resp.status), resp.contentType,
                                          lws_filepos_t(resp.body.count), &p, end) == 0,
              add("cache-control", resp.cacheControl),
              resp.headers.allSatisfy({ add($0.name, $0.value) }),
              add("connection", "close"),
              lws_finalize_http_header(wsi, &p, end) == 0, let headEnd = p else { return false }
        if bodyCount > 0 { UnsafeMutableRawPointer(headEnd).copyMemory(from: resp.body.payload, byteCount: bodyCount) }
        let total = (headEnd - start) + bodyCount
        return seatcast_lws_write_http(wsi, start, total, 1) >= 0
    }

    /// The request no longer needs the loop (answered, or its connection is gone).
    private func finished(_ r: HTTPRequest) {
        assertOnLoop()
        if r.inFlight {
            r.inFlight = false
            inFlight -= 1
        }
    }

    // MARK: Not HTTP (loop thread)

    /// RAW_RX on a connection lws gave up reading as HTTP: CONNECT (lws turns it into a raw
    /// socket, with no timeout: it was held open for minutes), or an unknown method or no
    /// method at all (LWS_SERVER_OPTION_FALLBACK_TO_APPLY_LISTEN_ACCEPT_CONFIG hands those
    /// over instead of a 403). The first bytes get 405 or 400 and the connection closes.
    func rawFallback(_ wsi: OpaquePointer, _ input: UnsafeMutableRawPointer?, _ len: Int) -> Int32 {
        assertOnLoop()
        let bytes = input.map { UnsafeRawBufferPointer(start: $0, count: len) } ?? UnsafeRawBufferPointer(start: nil, count: 0)
        let answer = HTTPFallback.answer(status: HTTPFallback.status(forRequestStart: bytes))
        let pre = Frame.headroom
        var buf = [UInt8](repeating: 0, count: pre + answer.count)
        buf.replaceSubrange(pre..., with: answer)
        _ = buf.withUnsafeMutableBytes { seatcast_lws_write_raw(wsi, $0.baseAddress!.assumingMemoryBound(to: UInt8.self) + pre, answer.count) }
        Self.linger(wsi, seconds: 5, shutWrite: true)
        return -1
    }
}
