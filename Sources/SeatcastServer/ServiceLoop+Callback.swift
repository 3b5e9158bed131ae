import CLibWebSockets

// Owns: the one lws callback of both protocols, and which handler each reason goes to.
// Thread: loop (lws calls back only from its service, on the loop thread). No state.

/// The C callback lws calls; the context's user pointer is the `ServiceLoop`.
func seatcastLWSCallback(_ wsi: OpaquePointer?, _ reason: lws_callback_reasons, _ user: UnsafeMutableRawPointer?,
                         _ input: UnsafeMutableRawPointer?, _ len: Int) -> Int32 {
    guard let wsi, let ctx = lws_get_context(wsi), let raw = lws_context_user(ctx) else {
        return lws_callback_http_dummy(wsi, reason, user, input, len)
    }
    let loop = Unmanaged<ServiceLoop>.fromOpaque(raw).takeUnretainedValue()
    return loop.callback(wsi, reason, user, input, len)
}

extension ServiceLoop {
    /// Dispatch on the callback reason.
    func callback(_ wsi: OpaquePointer, _ reason: lws_callback_reasons, _ user: UnsafeMutableRawPointer?,
                  _ input: UnsafeMutableRawPointer?, _ len: Int) -> Int32 {
        assertOnLoop()
        switch reason {
        case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
            drainInbox()
            return 0

        // WebSocket
        case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
            return webSockets.confirmUpgrade(wsi, input)
        case LWS_CALLBACK_ESTABLISHED:
            return webSockets.established(wsi)
        case LWS_CALLBACK_RECEIVE:
            guard let s = webSockets.session(wsi) else { return -1 }
            return webSockets.receive(s, input, len)
        case LWS_CALLBACK_SERVER_WRITEABLE:
            guard let s = webSockets.session(wsi) else { return -1 }
            return sender.writable(s)
        case LWS_CALLBACK_CLOSED:
            webSockets.closed(wsi)
            return 0

        // HTTP
        case LWS_CALLBACK_HTTP:
            return http.start(wsi, user)
        case LWS_CALLBACK_HTTP_BODY:
            guard let r = http.request(user) else { return -1 }
            return http.body(r, input, len)
        case LWS_CALLBACK_HTTP_BODY_COMPLETION:
            guard let r = http.request(user) else { return -1 }
            return http.bodyComplete(r)
        case LWS_CALLBACK_CLOSED_HTTP, LWS_CALLBACK_HTTP_DROP_PROTOCOL:
            http.connectionGone(user)
            return lws_callback_http_dummy(wsi, reason, user, input, len)

        // Connections lws stopped reading as HTTP (CONNECT, unknown methods, not HTTP at all).
        // Nothing else in seatcast is a raw socket.
        case LWS_CALLBACK_RAW_RX:
            return http.rawFallback(wsi, input, len)
        // Closed HTTP connections kept open until the client closes (see `linger`).
        case LWS_CALLBACK_RAW_RX_FILE:
            return http.drainLingering(wsi)

        default:
            return lws_callback_http_dummy(wsi, reason, user, input, len)
        }
    }
}
