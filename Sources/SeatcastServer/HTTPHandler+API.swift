import SeatcastCore

// Owns: what each HTTP route answers (GET, POST, DELETE), with every API request checked
// against `AccessPolicy` for its principal first (docs/PROTOCOL.md 1.1, "Who may do what"),
// and the commands' `HoldScope`. Thread: loop. The connection handling (parsing, holding,
// writing, closing) is HTTPHandler.swift's.

extension HTTPHandler {
    /// An answer for a refused request: 401 (with `WWW-Authenticate: Bearer`) or 403, the
    /// WebSocket error as body. Counted by code.
    func refusal(_ code: ErrorCode, id: String? = nil, message: String? = nil) -> HTTPResponse {
        assertOnLoop()
        metrics.errors[code.rawValue, default: 0] += 1
        var e = ConnectionAuth.refusal(code, id: id)
        if let message { e.message = message }
        var answer = HTTPResponse.json(code.httpStatus, Messages.error(e))
        if code == .unauthorized { answer.headers = [HTTPHeader("www-authenticate", "Bearer")] }
        return answer
    }

    /// Whether the request's principal may do `action`; if not, it is answered.
    private func allows(_ r: HTTPRequest, _ action: AccessPolicy.Action, id: String? = nil, message: String? = nil) -> Bool {
        assertOnLoop()
        guard let code = config.policy.decide(r.principal, action).errorCode else { return true }
        respond(r, refusal(code, id: id, message: code == .forbidden ? message : nil))
        return false
    }

    private func notFound(_ r: HTTPRequest) {
        respond(r, .json(404, Messages.error(ProtocolError(.badRequest, "no such endpoint: \(r.path)"))))
    }

    func routeGet(_ r: HTTPRequest) {
        assertOnLoop()
        switch r.route {
        case .health:
            backend.health(reply: entry.healthReply(to: r))
        case .metrics:
            let text = metrics.render(hubs: trips.tripCount, extra: config.extraMetrics())
            respond(r, .text(200, text, type: "text/plain; version=0.0.4; charset=utf-8"))
        case .trips:
            guard allows(r, .listTrips) else { return }
            switch TripPage.parse(limit: r.query["limit"], after: r.query["after"]) {
            case let .success(p):
                // A buyer sees the trips its token covers (its page may hold fewer than `limit`).
                var only: BuyerClaims?
                if case let .buyer(claims) = r.principal, claims.trips != nil { only = claims }
                if let limit = p.limit {
                    backend.trips(limit: limit + 1, after: p.after, reply: entry.tripsReply(to: r, limit: limit, only: only))
                } else {
                    backend.trips(reply: entry.tripsReply(to: r, limit: nil, only: only))
                }
            case let .failure(e):
                respond(r, .json(400, Messages.error(e)))
            }
        case let .trip(trip):
            guard allows(r, .read(tripId: trip)) else { return }
            guard Validation.isTripId(trip) else {
                respond(r, .json(404, Messages.error(ProtocolError(.unknownTrip, "unknown trip"))))
                return
            }
            let compact = LWSHeader.isSet(r.query["compact"])
            if let f = trips.snapshot(trip, compact: compact) {
                respond(r, HTTPResponse(status: 200, contentType: "application/json", body: f))
                return
            }
            backend.snapshot(tripId: trip, reply: entry.snapshotReply(to: r, compact: compact))
        case let .audit(trip):
            guard allows(r, .read(tripId: trip)) else { return }
            guard Validation.isTripId(trip) else {
                respond(r, .json(404, Messages.error(ProtocolError(.unknownTrip, "unknown trip"))))
                return
            }
            backend.audit(tripId: trip, reply: entry.auditReply(to: r, tripId: trip))
        case .file:
            respond(r, staticFile(r))
        case .command, .unknownEndpoint:
            notFound(r)
        }
    }

    /// A file under the public folder, a 304 when the client's copy is current, or 404.
    private func staticFile(_ r: HTTPRequest) -> HTTPResponse {
        assertOnLoop()
        switch StaticFiles.load(r.path, publicDir: config.publicDir) {
        case .notFound:
            return .text(404, "not found\n")
        case .tooLarge:
            return .text(500, "file too large to serve\n")
        case let .file(bytes, type, etag):
            var resp = HTTPResponse(status: 200, contentType: type, body: Frame(bytes),
                                    cacheControl: "must-revalidate, private, max-age=60",
                                    headers: [HTTPHeader("etag", etag)])
            if let inm = r.ifNoneMatch, StaticFiles.ifNoneMatch(inm, matches: etag) { resp.status = 304 }
            return resp
        }
    }

    /// POST /api/trips/{id}/reserve|confirm|release|extend: the body is the WebSocket
    /// request without `type`; the answer is the WebSocket reply. POST /api/trips: create.
    func routePost(_ r: HTTPRequest) {
        assertOnLoop()
        if r.route == .trips {
            createTrip(r)
            return
        }
        guard case let .command(tripId, type) = r.route else {
            notFound(r)
            return
        }
        let request: Request
        switch decoder.decodeHTTP(r.body, type: type, tripId: tripId) {
        case let .failure(e):
            metrics.errors[e.code.rawValue, default: 0] += 1
            respond(r, .json(e.code.httpStatus, Messages.error(e)))
            return
        case let .success(req): request = req
        }
        let command: Command
        let action: AccessPolicy.Action
        switch request.body {
        case let .reserve(t, seats, hold):
            command = .reserve(tripId: t, seats: seats, hold: hold ?? HoldToken.generate())
            action = .reserve(tripId: t)
        case let .confirm(t, seats, hold):
            command = .confirm(tripId: t, seats: seats, hold: hold)
            action = .confirm(tripId: t)
        case let .release(t, seats, hold):
            command = .release(tripId: t, seats: seats, hold: hold)
            action = .releaseOwn(tripId: t)
        case let .releaseSeats(t, seats):
            command = .releaseSeats(tripId: t, seats: seats)
            action = .releaseAny(tripId: t)
        case let .extend(t, hold, seconds):
            command = .extend(tripId: t, hold: hold, seconds: seconds)
            action = .extend(tripId: t)
        default:
            notFound(r)
            return
        }
        metrics.requests[type, default: 0] += 1
        guard allows(r, action, id: request.id) else { return }
        guard gate.admit() else {
            respond(r, .json(503, Messages.error(ProtocolError(.unavailable, "the server is shutting down; try again", id: request.id))))
            return
        }
        lastCommandSession += 1
        backend.execute(command, session: -lastCommandSession, scope: auth.scope(r.principal, session: -lastCommandSession),
                        reply: entry.commandReply(to: r, id: request.id, command: command, type: type))
    }

    /// POST /api/trips `{"tripId","name","rows","cols"}`: the backend key only.
    private func createTrip(_ r: HTTPRequest) {
        assertOnLoop()
        metrics.requests["create_trip", default: 0] += 1
        guard allows(r, .createTrip, message: Self.openModeTrips(r)) else { return }
        switch TripSpec.decode(r.body) {
        case let .failure(e):
            metrics.errors[e.code.rawValue, default: 0] += 1
            respond(r, .json(e.code.httpStatus, Messages.error(e)))
        case let .success(spec):
            backend.createTrip(id: spec.tripId, name: spec.name, rows: spec.rows, cols: spec.cols,
                               reply: entry.createTripReply(to: r, spec))
        }
    }

    /// DELETE /api/trips/{id}: the backend key only.
    func routeDelete(_ r: HTTPRequest) {
        assertOnLoop()
        guard case let .trip(trip) = r.route else {
            notFound(r)
            return
        }
        metrics.requests["delete_trip", default: 0] += 1
        guard allows(r, .deleteTrip, message: Self.openModeTrips(r)) else { return }
        guard Validation.isTripId(trip) else {
            respond(r, .json(404, Messages.error(ProtocolError(.unknownTrip, "unknown trip"))))
            return
        }
        backend.deleteTrip(id: trip, reply: entry.deleteTripReply(to: r, tripId: trip))
    }

    /// Why open mode refuses to create or delete trips (the CLI does it); nil otherwise.
    private static func openModeTrips(_ r: HTTPRequest) -> String? {
        r.principal == .open ? "trips are managed with the CLI in open mode" : nil
    }

    /// An audit's findings: counted, then answered.
    func audited(_ r: HTTPRequest, tripId: String, _ list: [AuditViolation]) {
        assertOnLoop()
        metrics.auditViolations += list.count
        respond(r, .json(200, Messages.audit(tripId: tripId, list)))
    }
}
