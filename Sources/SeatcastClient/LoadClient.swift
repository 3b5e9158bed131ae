import CLibWebSockets
import Foundation
import SeatcastCore
import Synchronization

/// Many client WebSockets on one libwebsockets context and one thread, for benchmarks.
/// Connection `i` is told apart by lws' opaque user data. A ticker thread wakes the
/// service loop every millisecond so `run(until:)` can check the clock and pace work.
/// Connections open at most `maxHandshakes` at a time (the rest wait in `queued`), so
/// tens of thousands of them neither overflow the server's listen backlog nor stall.
public final class LoadClient {
    struct Conn {
        var wsi: OpaquePointer?
        var out: [[UInt8]] = []
        var rx: [UInt8] = []
        var open = false
        var connecting = false
    }

    let url: WebSocketURL
    var conns: [Conn] = []
    var ctx: OpaquePointer?
    private var cStrings: [UnsafeMutablePointer<CChar>] = []
    private var protos: UnsafeMutablePointer<lws_protocols>?
    private var hostC: UnsafePointer<CChar>?
    private var hostHeaderC: UnsafePointer<CChar>?
    /// Connections not started yet: index and path.
    private var queued: [(Int, UnsafePointer<CChar>)] = []
    private var queuedHead = 0
    private var handshakes = 0
    /// Handshakes in flight at once.
    public let maxHandshakes: Int
    public static let defaultHandshakes = 256
    public private(set) var openCount = 0
    public private(set) var closedCount = 0
    public private(set) var failedCount = 0
    /// Called with the connection index and the complete text message.
    public var onMessage: (Int, UnsafeRawBufferPointer) -> Void = { _, _ in }
    public var onOpen: (Int) -> Void = { _ in }
    /// libev loop lws runs on (nil: lws's own poll()).
    private var loop: UnsafeMutableRawPointer?

    /// Runs on libev (epoll); SEATCAST_LOAD_POLL=1 in the environment runs it on lws's own
    /// poll() instead (to compare the two).
    public init(url: WebSocketURL, maxHandshakes: Int = LoadClient.defaultHandshakes) {
        self.url = url
        self.maxHandshakes = max(1, maxHandshakes)
        // lws sizes its descriptor table from the soft limit when the context is made.
        LoadClient.raiseFileLimit()
        lws_set_log_level(0, nil)
        let p = UnsafeMutablePointer<lws_protocols>.allocate(capacity: 2)
        p.initialize(repeating: lws_protocols(), count: 2)
        p[0].name = UnsafePointer(strdup("seatcast-load")!)
        p[0].callback = seatcastLoadCallback
        // Per connection: a snapshot of a 100-seat trip is ~7 KB; larger messages arrive
        // in parts and are reassembled.
        p[0].rx_buffer_size = 16384
        protos = p
        cStrings.append(UnsafeMutablePointer(mutating: p[0].name!))
        var info = lws_context_creation_info()
        info.port = -1  // CONTEXT_PORT_NO_LISTEN
        info.protocols = UnsafePointer(p)
        info.user = Unmanaged.passUnretained(self).toOpaque()
        info.fd_limit_per_thread = 0
        // libev (epoll) as in the server: lws's poll() walks every connection on every
        // pass, which made the load generator, not the server, bound latency at 2,000+
        // connections. Falls back to poll() without the plugin.
        loop = ProcessInfo.processInfo.environment["SEATCAST_LOAD_POLL"] == nil ? seatcast_ev_loop_new() : nil
        if loop != nil {
            let loops = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: 1)
            loops.initialize(to: loop)
            var evInfo = info
            evInfo.options |= UInt64(LWS_SERVER_OPTION_LIBEV)
            evInfo.foreign_loops = loops
            ctx = lws_create_context(&evInfo)
            loops.deallocate()
            if ctx == nil {
                seatcast_ev_loop_destroy(loop)
                loop = nil
            }
        }
        if ctx == nil { ctx = lws_create_context(&info) }
        precondition(ctx != nil, "cannot create a client context")
        hostC = c(url.host)
        hostHeaderC = c("\(url.host):\(url.port)")
    }

    deinit {
        if let ctx { lws_context_destroy(ctx) }
        if let loop {
            seatcast_ev_run_nowait(loop)
            seatcast_ev_loop_destroy(loop)
        }
        protos?.deallocate()
        for p in cStrings { free(p) }
    }

    /// Every connection is a file descriptor: lift the soft RLIMIT_NOFILE to the hard
    /// limit (19,000 connections need more than the usual 1,024). Returns the new limit.
    @discardableResult
    public static func raiseFileLimit() -> Int {
        var lim = rlimit()
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        guard getrlimit(resource, &lim) == 0 else { return 0 }
        if lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max
            _ = setrlimit(resource, &lim)
            _ = getrlimit(resource, &lim)
        }
        return Int(lim.rlim_cur)
    }

    private func c(_ s: String) -> UnsafePointer<CChar> {
        let p = strdup(s)!
        cStrings.append(p)
        return UnsafePointer(p)
    }

    public var count: Int { conns.count }
    /// Connections started or waiting to start that have not opened or failed yet.
    public var connectingCount: Int { handshakes + queued.count - queuedHead }

    /// Queues `n` more connections to `path` (opened while `run` services); returns the
    /// index of the first.
    @discardableResult
    public func connect(_ n: Int, path: String) -> Int {
        let first = conns.count
        let pathC = c(path)
        for i in first..<(first + n) {
            conns.append(Conn())
            queued.append((i, pathC))
        }
        startQueued()
        return first
    }

    private func startQueued() {
        while handshakes < maxHandshakes && queuedHead < queued.count {
            let (i, pathC) = queued[queuedHead]
            queuedHead += 1
            var ci = lws_client_connect_info()
            ci.context = ctx
            ci.address = hostC
            ci.port = Int32(url.port)
            ci.path = pathC
            ci.host = hostHeaderC
            ci.ietf_version_or_minus_one = -1
            ci.opaque_user_data = UnsafeMutableRawPointer(bitPattern: i + 1)
            handshakes += 1
            conns[i].connecting = true
            // NULL: failed at once; lws may or may not have said CONNECTION_ERROR already.
            if lws_client_connect_via_info(&ci) == nil { handshakeEnded(i, failed: true) }
        }
        if queuedHead == queued.count {
            queued.removeAll()
            queuedHead = 0
        }
    }

    public func send(_ i: Int, _ text: String) {
        conns[i].out.append(Array(text.utf8))
        if let wsi = conns[i].wsi { lws_callback_on_writable(wsi) }
    }

    private func handshakeEnded(_ i: Int, failed: Bool) {
        guard conns[i].connecting else { return }
        conns[i].connecting = false
        handshakes -= 1
        if failed { failedCount += 1 }
    }

    /// Services connections until `done()` is true or `timeout` seconds pass; returns `done()`.
    @discardableResult
    public func run(timeout: Double, until done: () -> Bool) -> Bool {
        let stop = Ticker(ctx: ctx!)
        defer { stop.stop() }
        let deadline = Timestamp.monotonicSeconds() + timeout
        while !done() {
            if Timestamp.monotonicSeconds() > deadline { return false }
            if let loop {
                seatcast_ev_run_once(loop)
            } else if lws_service(ctx, 0) < 0 {
                return false
            }
            startQueued()
        }
        return true
    }

    func callback(_ wsi: OpaquePointer, _ reason: lws_callback_reasons, _ input: UnsafeMutableRawPointer?, _ len: Int) -> Int32 {
        guard let raw = lws_get_opaque_user_data(wsi) else { return 0 }
        let i = Int(bitPattern: raw) - 1
        guard i >= 0, i < conns.count else { return 0 }
        switch reason {
        case LWS_CALLBACK_CLIENT_ESTABLISHED:
            handshakeEnded(i, failed: false)
            conns[i].wsi = wsi
            conns[i].open = true
            openCount += 1
            onOpen(i)
            if !conns[i].out.isEmpty { lws_callback_on_writable(wsi) }
        case LWS_CALLBACK_CLIENT_RECEIVE:
            let final = lws_is_final_fragment(wsi) != 0 && lws_remaining_packet_payload(wsi) == 0
            if final && conns[i].rx.isEmpty {
                onMessage(i, UnsafeRawBufferPointer(start: input, count: len))
            } else {
                if let input { conns[i].rx.append(contentsOf: UnsafeRawBufferPointer(start: input, count: len)) }
                if final {
                    let msg = conns[i].rx
                    conns[i].rx = []
                    msg.withUnsafeBytes { onMessage(i, $0) }
                }
            }
        case LWS_CALLBACK_CLIENT_WRITEABLE:
            guard !conns[i].out.isEmpty else { return 0 }
            let msg = conns[i].out.removeFirst()
            let pre = Int(seatcast_lws_pre())
            var buf = [UInt8](repeating: 0, count: pre + msg.count)
            buf.replaceSubrange(pre..., with: msg)
            let n = buf.withUnsafeMutableBufferPointer { seatcast_lws_write_text(wsi, $0.baseAddress! + pre, msg.count) }
            if n < 0 { return -1 }
            if !conns[i].out.isEmpty { lws_callback_on_writable(wsi) }
        case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
            handshakeEnded(i, failed: true)
            conns[i].wsi = nil
        case LWS_CALLBACK_CLIENT_CLOSED:
            if conns[i].open { closedCount += 1 }
            conns[i].open = false
            conns[i].wsi = nil
        default:
            break
        }
        return 0
    }
}

/// Wakes an lws service loop every millisecond from its own thread.
final class Ticker: Sendable {
    private let running = Atomic<Bool>(true)
    private let done = DispatchSemaphore(value: 0)

    init(ctx: OpaquePointer) {
        let ctxBits = Int(bitPattern: UnsafeRawPointer(ctx))
        Thread.detachNewThread { [self] in
            while running.load(ordering: .relaxed) {
                usleep(1000)
                lws_cancel_service(OpaquePointer(bitPattern: ctxBits))
            }
            done.signal()
        }
    }

    func stop() {
        running.store(false, ordering: .relaxed)
        done.wait()
    }
}

func seatcastLoadCallback(_ wsi: OpaquePointer?, _ reason: lws_callback_reasons, _ user: UnsafeMutableRawPointer?,
                          _ input: UnsafeMutableRawPointer?, _ len: Int) -> Int32 {
    guard let wsi, let ctx = lws_get_context(wsi), let raw = lws_context_user(ctx) else { return 0 }
    return Unmanaged<LoadClient>.fromOpaque(raw).takeUnretainedValue().callback(wsi, reason, input, len)
}

/// Cheap field extraction from server frames, for benchmarks (no full JSON parse).
public enum FrameScan {
    /// The string value of `"key":"...` in `bytes`, or nil.
    public static func string(_ key: String, in bytes: UnsafeRawBufferPointer) -> Substring? {
        text(after: Array("\"\(key)\":\"".utf8), in: bytes)
    }

    /// Whether a server frame is a `snapshot` (`{"type":"snapshot"...`).
    public static func isSnapshot(_ b: UnsafeRawBufferPointer) -> Bool {
        b.count > 12 && b[9] == UInt8(ascii: "s") && b[10] == UInt8(ascii: "n")
    }

    /// The first string of the array `"key":["...` in `bytes`, or nil.
    public static func firstString(_ key: String, in bytes: UnsafeRawBufferPointer) -> Substring? {
        text(after: Array("\"\(key)\":[\"".utf8), in: bytes)
    }

    /// The integer value of `"key":123` in `bytes`, or nil.
    public static func int(_ key: String, in bytes: UnsafeRawBufferPointer) -> Int64? {
        digits(after: Array("\"\(key)\":".utf8), in: bytes)
    }

    private static let seqNeedle = Array("\"seq\":".utf8)

    /// The `"seq":N` of a server frame (event or snapshot), without allocating.
    public static func seq(in bytes: UnsafeRawBufferPointer) -> Int64? {
        digits(after: seqNeedle, in: bytes)
    }

    /// The text from the end of `needle` to the next `"` (or the end of `bytes`).
    private static func text(after needle: [UInt8], in bytes: UnsafeRawBufferPointer) -> Substring? {
        guard let start = find(needle, in: bytes) else { return nil }
        var end = start
        while end < bytes.count, bytes[end] != UInt8(ascii: "\"") { end += 1 }
        return Substring(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self))
    }

    /// The decimal digits right after `needle` as a number; nil without any.
    private static func digits(after needle: [UInt8], in bytes: UnsafeRawBufferPointer) -> Int64? {
        guard var i = find(needle, in: bytes) else { return nil }
        var v: Int64 = 0
        let start = i
        while i < bytes.count, (48...57).contains(bytes[i]) {
            v = v * 10 + Int64(bytes[i] - 48)
            i += 1
        }
        return i > start ? v : nil
    }

    static func find(_ needle: [UInt8], in b: UnsafeRawBufferPointer) -> Int? {
        guard b.count >= needle.count else { return nil }
        var i = 0
        while i <= b.count - needle.count {
            if b[i] == needle[0] {
                var k = 1
                while k < needle.count && b[i + k] == needle[k] { k += 1 }
                if k == needle.count { return i + needle.count }
            }
            i += 1
        }
        return nil
    }
}
