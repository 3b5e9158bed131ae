import CLibWebSockets
import SeatcastCore

extension Server {
    /// Dispatch on the callback reason. Loop thread.
    func callback(_ wsi: OpaquePointer, _ reason: lws_callback_reasons, _ user: UnsafeMutableRawPointer?,
                  _ input: UnsafeMutableRawPointer?, _ len: Int) -> Int32 {
        switch reason {
        case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
            drainInbox()
            return 0

        // WebSocket
        case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
            return confirmUpgrade(wsi, input)
        case LWS_CALLBACK_ESTABLISHED:
            return established(wsi)
        case LWS_CALLBACK_RECEIVE:
            guard let s = session(wsi) else { return -1 }
            return receive(s, input, len)
        case LWS_CALLBACK_SERVER_WRITEABLE:
            guard let s = session(wsi) else { return -1 }
            return writable(s)
        case LWS_CALLBACK_CLOSED:
            if let s = session(wsi) {
                lws_set_opaque_user_data(wsi, nil)
                closed(s)
            }
            return 0

        // HTTP API
        case LWS_CALLBACK_HTTP:
            return httpStart(wsi, user)
        case LWS_CALLBACK_HTTP_BODY:
            guard let r = request(user) else { return -1 }
            return httpBody(r, input, len)
        case LWS_CALLBACK_HTTP_BODY_COMPLETION:
            guard let r = request(user) else { return -1 }
            return httpBodyComplete(r)
        case LWS_CALLBACK_CLOSED_HTTP, LWS_CALLBACK_HTTP_DROP_PROTOCOL:
            if let r = request(user) {
                r.dead = true
                finished(r)
                user!.storeBytes(of: nil, as: UnsafeMutableRawPointer?.self)
                Unmanaged.passUnretained(r).release()
            }
            return lws_callback_http_dummy(wsi, reason, user, input, len)

        // Connections lws stopped reading as HTTP (CONNECT, unknown methods, not HTTP at all).
        // Nothing else in seatcast is a raw socket.
        case LWS_CALLBACK_RAW_RX:
            return rawFallback(wsi, input, len)
        // Closed HTTP connections kept open until the client closes (see `linger`).
        case LWS_CALLBACK_RAW_RX_FILE:
            return drainLingering(wsi)

        default:
            return lws_callback_http_dummy(wsi, reason, user, input, len)
        }
    }

    /// LWS_CALLBACK_HTTP_CONFIRM_UPGRADE, before lws answers 101: the path, then the RFC 6455
    /// checks lws 4.1.6 skips. A refusal is answered here and the connection closed.
    func confirmUpgrade(_ wsi: OpaquePointer, _ input: UnsafeMutableRawPointer?) -> Int32 {
        let upgrade = input.map { String(cString: $0.assumingMemoryBound(to: CChar.self)) } ?? ""
        guard upgrade.lowercased() == "websocket" else {
            return answerAndClose(wsi, .text(400, "only websocket upgrades are supported\n"))
        }
        guard let path = Self.header(wsi, WSI_TOKEN_GET_URI), Self.webSocketTrip(path) != nil else {
            return answerAndClose(wsi, .text(404, "no WebSocket here: use /ws or /ws/trips/{id}\n"))
        }
        if let refusal = WebSocketHandshake.check(key: Self.header(wsi, WSI_TOKEN_KEY),
                                                  version: Self.header(wsi, WSI_TOKEN_VERSION),
                                                  protocols: Self.header(wsi, WSI_TOKEN_PROTOCOL)) {
            var answer = HTTPResponse.text(refusal.status, refusal.message)
            answer.headers = refusal.headers
            return answerAndClose(wsi, answer)
        }
        return 0
    }

    /// The session of a WebSocket: kept in lws's opaque pointer, so a connection needs no
    /// per-session allocation of lws's.
    func session(_ wsi: OpaquePointer) -> Session? {
        guard let p = lws_get_opaque_user_data(wsi) else { return nil }
        return Unmanaged<Session>.fromOpaque(p).takeUnretainedValue()
    }

    func request(_ user: UnsafeMutableRawPointer?) -> HTTPRequest? {
        guard let p = user?.load(as: UnsafeMutableRawPointer?.self) else { return nil }
        return Unmanaged<HTTPRequest>.fromOpaque(p).takeUnretainedValue()
    }

    static func header(_ wsi: OpaquePointer, _ token: lws_token_indexes) -> String? {
        let n = lws_hdr_total_length(wsi, token)
        guard n > 0, n < 8192 else { return nil }
        var buf = [CChar](repeating: 0, count: Int(n) + 1)
        let copied = lws_hdr_copy(wsi, &buf, Int32(buf.count), token)
        guard copied >= 0 else { return nil }
        return String(decoding: buf.prefix(Int(copied)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
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
}
