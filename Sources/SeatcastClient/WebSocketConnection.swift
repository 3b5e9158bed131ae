import CLibWebSockets
import Foundation
import SeatcastCore

/// A `ws://host:port/path` address, and the buyer token (if any) every connection to it
/// carries as `?token=` (docs/PROTOCOL.md "Who may do what").
public struct WebSocketURL: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var path: String
    /// A buyer token (JWT) sent as `?token=`; nil: none (open mode).
    public var token: String?

    public init?(_ text: String) {
        guard text.hasPrefix("ws://") else { return nil }
        let rest = text.dropFirst(5)
        let hostPort = rest.prefix { $0 != "/" }
        path = rest.count > hostPort.count ? String(rest.dropFirst(hostPort.count)) : "/"
        if let colon = hostPort.lastIndex(of: ":"), let p = Int(hostPort[hostPort.index(after: colon)...]) {
            host = String(hostPort[..<colon])
            port = p
        } else {
            host = String(hostPort)
            port = 80
        }
        if host.isEmpty || !(1...65535).contains(port) { return nil }
    }

    /// The same server and token, another path.
    public func with(path: String) -> WebSocketURL {
        var u = self
        u.path = path
        return u
    }

    /// The same server and path with `token` (nil or empty: none).
    public func with(token: String?) -> WebSocketURL {
        var u = self
        u.token = token.flatMap { $0.isEmpty ? nil : $0 }
        return u
    }

    /// What the handshake asks for: the path, plus `?token=` (or `&token=`) when there is one.
    public var requestPath: String { Self.path(path, token: token) }

    /// `path` with `token` added as a query parameter (percent-encoded; a JWT is base64url, so
    /// it is usually unchanged); `path` as it is when `token` is nil.
    public static func path(_ path: String, token: String?) -> String {
        guard let token else { return path }
        return path + (path.contains("?") ? "&" : "?") + "token=" + queryEncoded(token)
    }

    /// Percent-encodes everything but the unreserved characters (RFC 3986: A-Z a-z 0-9 - . _ ~).
    static func queryEncoded(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                out += String(format: "%%%02X", b)
            }
        }
        return out
    }
}

/// One client WebSocket connection over libwebsockets. `run` connects, calls the handler
/// for every text message and returns when the connection ends. Handlers run on the
/// calling thread and may call `send` and `close`.
public final class WebSocketConnection {
    public enum Event {
        case open
        case message(String)
    }

    public struct Closed: Error, CustomStringConvertible {
        /// The close code the server sent, if any.
        public var code: UInt16?
        public var reason: String
        /// The server answered the handshake 401: it wants a (valid) buyer token.
        public var unauthorized = false
        public var description: String { "\(reason)\(code.map { " (close \($0))" } ?? "")" }
    }

    let url: WebSocketURL
    var handler: (WebSocketConnection, Event) -> Void = { _, _ in }
    var outgoing: [[UInt8]] = []
    var rx: [UInt8] = []
    var wsi: OpaquePointer?
    var finished = false
    var closeRequested = false
    var result: Closed = Closed(code: nil, reason: "not connected")
    private var cStrings: [UnsafeMutablePointer<CChar>] = []

    public init(url: WebSocketURL) { self.url = url }

    deinit { for p in cStrings { free(p) } }

    private func c(_ s: String) -> UnsafePointer<CChar> {
        let p = strdup(s)!
        cStrings.append(p)
        return UnsafePointer(p)
    }

    /// Connects and services the connection until it closes; returns how it ended.
    @discardableResult
    public func run(_ handler: @escaping (WebSocketConnection, Event) -> Void) -> Closed {
        self.handler = handler
        lws_set_log_level(0, nil)
        let protos = UnsafeMutablePointer<lws_protocols>.allocate(capacity: 2)
        protos.initialize(repeating: lws_protocols(), count: 2)
        defer { protos.deallocate() }
        protos[0].name = c("seatcast-client")
        protos[0].callback = seatcastClientCallback
        protos[0].rx_buffer_size = 65536
        var info = lws_context_creation_info()
        info.port = -1  // CONTEXT_PORT_NO_LISTEN
        info.protocols = UnsafePointer(protos)
        info.user = Unmanaged.passUnretained(self).toOpaque()
        guard let ctx = lws_create_context(&info) else { return Closed(code: nil, reason: "cannot create a client context") }
        defer {
            // lws owns the connection's socket and closes it (once) here; the wsi dies
            // with it, so a later send or close must not reach it.
            lws_context_destroy(ctx)
            wsi = nil
        }
        var ci = lws_client_connect_info()
        ci.context = ctx
        ci.address = c(url.host)
        ci.port = Int32(url.port)
        ci.path = c(url.requestPath)
        ci.host = c("\(url.host):\(url.port)")
        ci.origin = nil
        ci.ssl_connection = 0
        ci.ietf_version_or_minus_one = -1
        finished = false
        result = Closed(code: nil, reason: "connection failed")
        withUnsafeMutablePointer(to: &wsi) { ci.pwsi = $0 }
        if lws_client_connect_via_info(&ci) == nil {
            return Closed(code: nil, reason: "cannot connect to \(url.host):\(url.port)")
        }
        while !finished {
            if lws_service(ctx, 0) < 0 { break }
        }
        return result
    }

    /// Queues a text message (handler thread).
    public func send(_ text: String) {
        outgoing.append(Array(text.utf8))
        if let wsi { lws_callback_on_writable(wsi) }
    }

    /// Closes normally (1000) after what is queued has been sent.
    public func close() {
        closeRequested = true
        if let wsi { lws_callback_on_writable(wsi) }
    }

    func callback(_ wsi: OpaquePointer, _ reason: lws_callback_reasons, _ input: UnsafeMutableRawPointer?, _ len: Int) -> Int32 {
        switch reason {
        case LWS_CALLBACK_CLIENT_ESTABLISHED:
            self.wsi = wsi
            result = Closed(code: nil, reason: "connection closed")
            handler(self, .open)
            if !outgoing.isEmpty || closeRequested { lws_callback_on_writable(wsi) }
        case LWS_CALLBACK_CLIENT_RECEIVE:
            if let input { rx.append(contentsOf: UnsafeRawBufferPointer(start: input, count: len)) }
            if lws_is_final_fragment(wsi) != 0 && lws_remaining_packet_payload(wsi) == 0 {
                let text = String(decoding: rx, as: UTF8.self)
                rx = []
                handler(self, .message(text))
            }
        case LWS_CALLBACK_CLIENT_WRITEABLE:
            if !outgoing.isEmpty {
                let msg = outgoing.removeFirst()
                var buf = [UInt8](repeating: 0, count: Int(seatcast_lws_pre()) + msg.count)
                buf.replaceSubrange(Int(seatcast_lws_pre())..., with: msg)
                let n = buf.withUnsafeMutableBufferPointer { b in
                    seatcast_lws_write_text(wsi, b.baseAddress! + Int(seatcast_lws_pre()), msg.count)
                }
                if n < 0 { return -1 }
                if !outgoing.isEmpty || closeRequested { lws_callback_on_writable(wsi) }
            } else if closeRequested {
                var reason = Array("bye".utf8)
                lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, &reason, reason.count)
                result = Closed(code: 1000, reason: "closed")
                return -1
            }
        case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
            if let input, len >= 2 {
                let b = input.assumingMemoryBound(to: UInt8.self)
                result = Closed(code: UInt16(b[0]) << 8 | UInt16(b[1]), reason: "closed by the server")
            }
        case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
            let why = input.map { String(cString: $0.assumingMemoryBound(to: CChar.self)) } ?? "unknown error"
            result = Closed(code: nil, reason: "cannot connect to \(url.host):\(url.port): \(why)")
            // lws' words for a 401 answer to the upgrade (any other status: "... not 101").
            result.unauthorized = why.contains("upgrade unauthorized")
            self.wsi = nil
            finished = true
        case LWS_CALLBACK_CLIENT_CLOSED:
            self.wsi = nil
            finished = true
        default:
            break
        }
        return 0
    }
}

func seatcastClientCallback(_ wsi: OpaquePointer?, _ reason: lws_callback_reasons, _ user: UnsafeMutableRawPointer?,
                            _ input: UnsafeMutableRawPointer?, _ len: Int) -> Int32 {
    guard let wsi, let ctx = lws_get_context(wsi), let raw = lws_context_user(ctx) else { return 0 }
    return Unmanaged<WebSocketConnection>.fromOpaque(raw).takeUnretainedValue().callback(wsi, reason, input, len)
}
