import CLibWebSockets
import SeatcastCore

extension Server {
    // MARK: HTTP API (loop thread)

    func httpStart(_ wsi: OpaquePointer, _ user: UnsafeMutableRawPointer?) -> Int32 {
        // protocols[0] receives what the file mount could not serve.
        guard let user, lws_get_protocol(wsi)?.pointee.id == Server.httpProtocolId else {
            return notFound(wsi)
        }
        metrics.httpRequests += 1
        let get = Self.header(wsi, WSI_TOKEN_GET_URI)
        let post = Self.header(wsi, WSI_TOKEN_POST_URI)
        guard let path = get ?? post else {
            _ = lws_return_http_status(wsi, UInt32(HTTP_STATUS_METHOD_NOT_ALLOWED.rawValue), nil)
            return lws_http_transaction_completed(wsi) != 0 ? -1 : 0
        }
        if let old = request(user) {
            old.dead = true
            finished(old)
            Unmanaged.passUnretained(old).release()
        }
        let r = HTTPRequest(wsi: wsi, isPost: get == nil, path: path)
        httpInFlight += 1
        user.storeBytes(of: Unmanaged.passRetained(r).toOpaque(), as: UnsafeMutableRawPointer?.self)
        if r.isPost {
            if lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0 { routePost(r) }
            return 0
        }
        routeGet(r)
        return 0
    }

    func notFound(_ wsi: OpaquePointer) -> Int32 {
        _ = lws_return_http_status(wsi, UInt32(HTTP_STATUS_NOT_FOUND.rawValue), nil)
        return lws_http_transaction_completed(wsi) != 0 ? -1 : 0
    }

    func httpBody(_ r: HTTPRequest, _ input: UnsafeMutableRawPointer?, _ len: Int) -> Int32 {
        if r.body.count + len > config.limits.maxMessageBytes {
            respond(r, .json(413, Messages.error(ProtocolError(.tooLarge, "body over \(config.limits.maxMessageBytes) bytes"))))
            return 0
        }
        if let input { r.body.append(contentsOf: UnsafeRawBufferPointer(start: input, count: len)) }
        return 0
    }

    func routeGet(_ r: HTTPRequest) {
        let inbox = self.inbox
        let parts = r.path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        switch parts.count {
        case 1 where parts[0] == "healthz":
            backend.health { ok in
                inbox.push(.http(r, ok ? .text(200, "ok\n") : .text(503, "unavailable\n")))
            }
        case 1 where parts[0] == "metrics":
            let text = metrics.render(hubs: hubs.count, extra: config.extraMetrics())
            respond(r, .text(200, text, type: "text/plain; version=0.0.4; charset=utf-8"))
        case 2 where parts == ["api", "trips"]:
            backend.trips { result in
                switch result {
                case let .success(list): inbox.push(.http(r, .json(200, Messages.trips(list))))
                case let .failure(e): inbox.push(.http(r, .json(e.code.httpStatus, Messages.error(e))))
                }
            }
        case 3 where parts[0] == "api" && parts[1] == "trips":
            let trip = parts[2]
            guard Validation.isTripId(trip) else {
                respond(r, .json(404, Messages.error(ProtocolError(.unknownTrip, "unknown trip"))))
                return
            }
            if let hub = hubs[trip], let f = hub.snapshot() {
                respond(r, HTTPResponse(status: 200, contentType: "application/json", body: f))
                return
            }
            backend.snapshot(tripId: trip) { result in
                switch result {
                case let .success(s): inbox.push(.http(r, .json(200, Messages.snapshot(s))))
                case let .failure(e): inbox.push(.http(r, .json(e.code.httpStatus, Messages.error(e))))
                }
            }
        case 4 where parts[0] == "api" && parts[1] == "trips" && parts[3] == "audit":
            let trip = parts[2]
            guard Validation.isTripId(trip) else {
                respond(r, .json(404, Messages.error(ProtocolError(.unknownTrip, "unknown trip"))))
                return
            }
            backend.audit(tripId: trip) { result in
                switch result {
                case let .success(list): inbox.push(.audited(r, trip, list))
                case let .failure(e): inbox.push(.http(r, .json(e.code.httpStatus, Messages.error(e))))
                }
            }
        default:
            respond(r, .json(404, Messages.error(ProtocolError(.badRequest, "no such endpoint: \(r.path)"))))
        }
    }

    /// POST /api/trips/{id}/reserve|confirm|release: the body is the WebSocket request
    /// without `type`; the answer is the WebSocket reply.
    func routePost(_ r: HTTPRequest) {
        let parts = r.path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard parts.count == 4, parts[0] == "api", parts[1] == "trips",
              ["reserve", "confirm", "release"].contains(parts[3]) else {
            respond(r, .json(404, Messages.error(ProtocolError(.badRequest, "no such endpoint: \(r.path)"))))
            return
        }
        let decoded = decoder.decodeHTTP(r.body, type: parts[3], tripId: parts[2])
        let request: Request
        switch decoded {
        case let .failure(e):
            metrics.errors[e.code.rawValue, default: 0] += 1
            respond(r, .json(e.code.httpStatus, Messages.error(e)))
            return
        case let .success(req): request = req
        }
        let command: Command
        switch request.body {
        case let .reserve(t, seats, hold): command = .reserve(tripId: t, seats: seats, hold: hold ?? HoldToken.generate())
        case let .confirm(t, seats, hold): command = .confirm(tripId: t, seats: seats, hold: hold)
        case let .release(t, seats, hold): command = .release(tripId: t, seats: seats, hold: hold)
        default: return
        }
        let type = parts[3]
        metrics.requests[type, default: 0] += 1
        if stopping {
            respond(r, .json(503, Messages.error(ProtocolError(.unavailable, "the server is shutting down; try again", id: request.id))))
            return
        }
        pendingCommands += 1
        let inbox = self.inbox
        let id = request.id
        // Each HTTP request is its own session (negative, so never a WebSocket's id).
        nextSessionId += 1
        backend.execute(command, session: -nextSessionId) { outcome in
            let status: Int
            switch outcome {
            case .reserved, .confirmed, .released: status = 200
            case .rejected: status = 409
            case let .failed(e): status = e.code.httpStatus
            }
            inbox.push(.done(.http(r, .json(status, Self.encode(outcome, id: id, command: command))),
                             outcome: Self.label(type, outcome)))
        }
    }

    func respond(_ r: HTTPRequest, _ response: HTTPResponse) {
        guard !r.dead, r.response == nil else { return }
        r.response = response
        lws_callback_on_writable(r.wsi)
    }

    /// Headers in one WRITEABLE, then the body in chunks, the last one FINAL.
    func httpWritable(_ r: HTTPRequest) -> Int32 {
        guard !r.dead, let resp = r.response else { return 0 }
        let pre = Frame.headroom
        if !r.headersSent {
            var buf = [UInt8](repeating: 0, count: pre + 1024)
            let ok = buf.withUnsafeMutableBufferPointer { b -> Bool in
                let start = b.baseAddress! + pre
                var p: UnsafeMutablePointer<UInt8>? = start
                let end = b.baseAddress! + b.count
                if lws_add_http_common_headers(r.wsi, UInt32(resp.status), resp.contentType,
                                               lws_filepos_t(resp.body.count), &p, end) != 0 { return false }
                let nostore = "no-store"
                if lws_add_http_header_by_name(r.wsi, "cache-control:", nostore, Int32(nostore.utf8.count), &p, end) != 0 {
                    return false
                }
                return lws_finalize_write_http_header(r.wsi, start, &p, end) == 0
            }
            if !ok { return 1 }
            r.headersSent = true
            lws_callback_on_writable(r.wsi)
            return 0
        }
        let chunk = min(32 * 1024, resp.body.count - r.bodyOffset)
        var buf = [UInt8](repeating: 0, count: pre + chunk)
        buf.withUnsafeMutableBytes { b in
            (b.baseAddress! + pre).copyMemory(from: resp.body.payload + r.bodyOffset, byteCount: chunk)
        }
        r.bodyOffset += chunk
        let final = r.bodyOffset >= resp.body.count
        let n = buf.withUnsafeMutableBytes { b in
            seatcast_lws_write_http(r.wsi, b.baseAddress! + pre, chunk, final ? 1 : 0)
        }
        if n < 0 { return -1 }
        if !final {
            lws_callback_on_writable(r.wsi)
            return 0
        }
        finished(r)
        return lws_http_transaction_completed(r.wsi) != 0 ? -1 : 0
    }

    /// The request no longer needs the loop (answered, or its connection is gone).
    func finished(_ r: HTTPRequest) {
        if r.inFlight {
            r.inFlight = false
            httpInFlight -= 1
        }
    }
}
