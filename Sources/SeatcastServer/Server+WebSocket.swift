import CLibWebSockets
import SeatcastCore

extension Server {
    // MARK: Connection lifecycle (loop thread)

    func established(_ wsi: OpaquePointer, _ user: UnsafeMutableRawPointer?) -> Int32 {
        guard let user else { return -1 }
        let path = Self.header(wsi, WSI_TOKEN_GET_URI) ?? "/ws"
        let origin = Self.header(wsi, WSI_TOKEN_ORIGIN)
        nextSessionId += 1
        let s = Session(wsi: wsi, id: nextSessionId, limits: config.limits, now: Timestamp.monotonicSeconds())
        user.storeBytes(of: Unmanaged.passRetained(s).toOpaque(), as: UnsafeMutableRawPointer?.self)
        sessions[ObjectIdentifier(s)] = s
        metrics.connections += 1
        metrics.connectionsTotal += 1
        if stopping {
            close(s, code: 1001)
            return 0
        }
        if let origin, !config.allowedOrigins.isEmpty, !config.allowedOrigins.contains(origin) {
            close(s, code: 1008)
            return 0
        }
        if let trip = Self.webSocketTrip(path), !trip.isEmpty {
            subscribe(s, tripId: trip, since: nil, id: nil)
        }
        return 0
    }

    func closed(_ s: Session) {
        s.closed = true
        for hub in s.subscriptions { leave(hub, s) }
        metrics.subscriptions -= s.subscriptions.count
        s.subscriptions.removeAll()
        s.queue.removeAll()
        s.resuming.removeAll()
        sessions[ObjectIdentifier(s)] = nil
        metrics.connections -= 1
        Unmanaged.passUnretained(s).release()
    }

    /// Asks lws for a WRITEABLE in which the session is closed with `code`. A graceful close
    /// (`drain`, at shutdown) first sends what is queued, so no answer to a request the
    /// server took is lost; a policy close drops it.
    func close(_ s: Session, code: UInt16, drain: Bool = false) {
        guard !s.closed, s.closeCode == 0 else { return }
        s.closeCode = code
        s.drainBeforeClose = drain
        if !drain {
            s.queue.removeAll()
            s.head = 0
            s.queuedBytes = 0
        }
        requestWritable(s)
    }

    // MARK: Receive

    func receive(_ s: Session, _ input: UnsafeMutableRawPointer?, _ len: Int) -> Int32 {
        if s.closeCode != 0 { return 0 }
        let final = lws_is_final_fragment(s.wsi) != 0 && lws_remaining_packet_payload(s.wsi) == 0
        if s.rx.count + len > config.limits.maxMessageBytes {
            // The one input whose only safe answer is closing (PROTOCOL.md: 1009).
            var reason = Array("message too large".utf8)
            lws_close_reason(s.wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, &reason, reason.count)
            return -1
        }
        if final && s.rx.isEmpty {
            let bytes = UnsafeRawBufferPointer(start: input, count: len)
            handleMessage(s, bytes, binary: lws_frame_is_binary(s.wsi) != 0)
        } else {
            if let input { s.rx.append(contentsOf: UnsafeRawBufferPointer(start: input, count: len)) }
            if final {
                let message = s.rx
                s.rx = []
                message.withUnsafeBytes { handleMessage(s, $0, binary: lws_frame_is_binary(s.wsi) != 0) }
            }
        }
        return 0
    }

    func handleMessage(_ s: Session, _ bytes: UnsafeRawBufferPointer, binary: Bool) {
        metrics.messagesReceived += 1
        guard s.bucket.take(now: Timestamp.monotonicSeconds(), rate: config.limits.messagesPerSecond,
                            burst: config.limits.messageBurst) else {
            metrics.rateLimited += 1
            // One error per refused message would let a flooder grow its own queue without
            // bound; answer while the queue is short, drop silently beyond that.
            if s.queuedBytes < 4096 {
                reply(s, ProtocolError(.rateLimited, "more than \(Int(config.limits.messagesPerSecond)) messages per second; slow down"))
            }
            return
        }
        if binary {
            reply(s, ProtocolError(.badRequest, "binary frames are not supported; send JSON text"))
            return
        }
        switch decoder.decode(bytes) {
        case let .failure(e): reply(s, e)
        case let .success(r): handle(s, r)
        }
    }

    func handle(_ s: Session, _ r: Request) {
        switch r.body {
        case let .subscribe(trip, since):
            metrics.requests["subscribe", default: 0] += 1
            subscribe(s, tripId: trip, since: since, id: r.id)
        case let .unsubscribe(trip):
            metrics.requests["unsubscribe", default: 0] += 1
            if let i = s.subscriptions.firstIndex(where: { $0.tripId == trip }) {
                let hub = s.subscriptions.remove(at: i)
                metrics.subscriptions -= 1
                s.resuming[trip] = nil
                leave(hub, s)
            }
            send(s, Frame(Messages.unsubscribed(id: r.id, tripId: trip)))
        case .ping:
            metrics.requests["ping", default: 0] += 1
            send(s, Frame(Messages.pong(id: r.id)))
        case .help:
            metrics.requests["help", default: 0] += 1
            send(s, Frame(Messages.help(id: r.id)))
        case let .reserve(trip, seats, hold):
            run(s, id: r.id, .reserve(tripId: trip, seats: seats, hold: hold ?? HoldToken.generate()), type: "reserve")
        case let .confirm(trip, seats, hold):
            run(s, id: r.id, .confirm(tripId: trip, seats: seats, hold: hold), type: "confirm")
        case let .release(trip, seats, hold):
            run(s, id: r.id, .release(tripId: trip, seats: seats, hold: hold), type: "release")
        }
    }

    func reply(_ s: Session, _ e: ProtocolError) {
        metrics.errors[e.code.rawValue, default: 0] += 1
        send(s, Frame(Messages.error(e)))
    }

    /// Hands a command to the store; the reply is encoded on the store's thread.
    func run(_ s: Session, id: String?, _ c: Command, type: String) {
        metrics.requests[type, default: 0] += 1
        if stopping {
            reply(s, ProtocolError(.unavailable, "the server is shutting down; try again", id: id))
            return
        }
        pendingCommands += 1
        let inbox = self.inbox
        backend.execute(c, session: s.id) { outcome in
            inbox.push(.done(.send(s, Frame(Self.encode(outcome, id: id, command: c))), outcome: Self.label(type, outcome)))
        }
    }

    /// `reserve:reserved`, `confirm:rejected:hold_expired`, `release:error:unknown_seat`...
    static func label(_ type: String, _ o: CommandOutcome) -> String {
        switch o {
        case .reserved: return "\(type):reserved"
        case .confirmed: return "\(type):confirmed"
        case .released: return "\(type):released"
        case let .rejected(reason, _): return "\(type):rejected:\(reason.rawValue)"
        case let .failed(e): return "\(type):error:\(e.code.rawValue)"
        }
    }

    /// The reply to a command, as PROTOCOL.md shapes it.
    static func encode(_ o: CommandOutcome, id: String?, command c: Command) -> [UInt8] {
        switch o {
        case let .reserved(seats, until):
            guard case let .reserve(_, _, hold) = c else { return [] }
            return Messages.reserved(id: id, tripId: c.tripId, seats: seats, hold: hold, untilMs: until)
        case let .confirmed(seats): return Messages.confirmed(id: id, tripId: c.tripId, seats: seats)
        case let .released(seats): return Messages.released(id: id, tripId: c.tripId, seats: seats)
        case let .rejected(reason, seats): return Messages.rejected(id: id, tripId: c.tripId, reason: reason, seats: seats)
        case var .failed(e):
            e.id = id
            return Messages.error(e)
        }
    }

    // MARK: Send

    func requestWritable(_ s: Session) {
        if !s.writableRequested {
            s.writableRequested = true
            s.waitingSince = Timestamp.monotonicSeconds()
            lws_callback_on_writable(s.wsi)
        }
    }

    /// lws has not let us write to this client for `stalledSeconds`.
    func isStalled(_ s: Session) -> Bool {
        s.writableRequested && Timestamp.monotonicSeconds() - s.waitingSince > config.limits.stalledSeconds
    }

    /// Queues a frame. A stream frame that would push the queue past its cap drops the
    /// queued stream frames instead, and the session gets fresh snapshots once it drains.
    func send(_ s: Session, _ f: Frame) {
        if s.closed || (s.closeCode != 0 && !(s.drainBeforeClose && !f.isStream)) { return }
        if f.isStream {
            // Waiting to resync this frame's trip: its snapshot will replace the frame. A
            // client that stays stalled meanwhile is counted once.
            if !s.resyncTrips.isEmpty, s.resyncTrips.contains(where: { $0.tripId == f.tripId }) {
                if !s.resyncCounted && isStalled(s) { countResync(s) }
                return
            }
            // An empty queue always takes one frame, so a snapshot larger than the cap
            // still reaches a client that keeps up.
            if s.queuedBytes > 0 && s.queuedBytes + f.count > config.limits.maxQueuedBytes {
                overflow(s)
                return
            }
        } else if s.queuedBytes + f.count > 2 * config.limits.maxQueuedBytes {
            // Replies only pile up this far when a client sends and never reads.
            close(s, code: 1008)
            return
        }
        s.queue.append(f)
        s.queuedBytes += f.count
        requestWritable(s)
    }

    /// Drops the queued stream frames; a snapshot follows once the queue drains. Only a
    /// stalled client's overflow counts towards closing it: one that is draining a large
    /// burst just gets the (smaller) snapshot instead.
    func overflow(_ s: Session) {
        metrics.queueOverflows += 1
        s.resyncCounted = false
        if isStalled(s) {
            countResync(s)
            if s.closeCode != 0 { return }
        }
        let kept = s.queue[s.head...].filter { !$0.isStream }
        s.queue = Array(kept)
        s.head = 0
        s.queuedBytes = kept.reduce(0) { $0 + $1.count }
        s.resyncTrips = s.subscriptions
        // Buffered resumes are superseded by the snapshots.
        s.resuming.removeAll()
        requestWritable(s)
    }

    /// A resync the client caused by stalling; too many in the window close it with 1013.
    func countResync(_ s: Session) {
        s.resyncCounted = true
        let now = Timestamp.monotonicSeconds()
        if now - s.resyncWindowStart > config.limits.resyncWindowSeconds {
            s.resyncWindowStart = now
            s.resyncCount = 0
        }
        s.resyncCount += 1
        if s.resyncCount > config.limits.maxResyncs {
            metrics.slowClientsClosed += 1
            close(s, code: 1013)
        }
    }

    func writable(_ s: Session) -> Int32 {
        s.writableRequested = false
        if s.closeCode != 0 && !(s.drainBeforeClose && s.head < s.queue.count) {
            var reason = Array((s.closeCode == 1001 ? "server shutdown" : s.closeCode == 1013 ? "too slow; reconnect" : "policy").utf8)
            lws_close_reason(s.wsi, lws_close_status(rawValue: UInt32(s.closeCode)), &reason, reason.count)
            return -1
        }
        // Caught up after an overflow: the current map replaces what was dropped, one trip's
        // snapshot per WRITEABLE (an empty queue always takes it, however large).
        while s.head == s.queue.count, !s.resyncTrips.isEmpty {
            let hub = s.resyncTrips.removeFirst()
            guard s.isSubscribed(hub) else { continue }
            if let f = hub.snapshot() {
                metrics.resyncSnapshots += 1
                s.queue.append(f)
                s.queuedBytes += f.count
            } else if !hub.waiting.contains(where: { $0.0 === s }) {
                hub.waiting.append((s, nil, nil))
            }
        }
        guard s.head < s.queue.count else { return 0 }
        let written: Int32
        if s.queue.count - s.head >= 2, s.queue[s.head].count + 10 <= coalesceLimit {
            written = writeCoalesced(s)
        } else {
            let f = s.queue[s.head]
            s.head += 1
            s.queuedBytes -= f.count
            written = seatcast_lws_write_text(s.wsi, f.payload, f.count)
        }
        if s.head == s.queue.count {
            s.queue.removeAll(keepingCapacity: s.queue.capacity <= 16)
            s.head = 0
        } else if s.head >= 64 && s.head * 2 >= s.queue.count {
            // A client that stays behind never empties its queue: let go of sent frames.
            s.queue.removeFirst(s.head)
            s.head = 0
        }
        if written < 0 { return -1 }
        if s.head < s.queue.count || !s.resyncTrips.isEmpty || s.closeCode != 0 { requestWritable(s) }
        return 0
    }

    var coalesceLimit: Int { 64 * 1024 }

    /// Several queued messages in one write: each framed here as lws would (a final text
    /// frame, unmasked, as a server sends), then sent as raw bytes. One send() and one
    /// POLLOUT round trip for the whole backlog of a client that fell behind.
    func writeCoalesced(_ s: Session) -> Int32 {
        let pre = Frame.headroom
        var out = pre
        let first = s.head
        let base = scratch.baseAddress!
        while s.head < s.queue.count {
            let f = s.queue[s.head]
            let header = f.count < 126 ? 2 : f.count < 65536 ? 4 : 10
            if out - pre + header + f.count > coalesceLimit { break }
            let p = (base + out).assumingMemoryBound(to: UInt8.self)
            p[0] = 0x81
            if header == 2 {
                p[1] = UInt8(f.count)
            } else if header == 4 {
                p[1] = 126
                p[2] = UInt8(f.count >> 8)
                p[3] = UInt8(f.count & 0xFF)
            } else {
                p[1] = 127
                for i in 0..<8 { p[2 + i] = UInt8((f.count >> (8 * (7 - i))) & 0xFF) }
            }
            (base + out + header).copyMemory(from: f.payload, byteCount: f.count)
            out += header + f.count
            s.head += 1
            s.queuedBytes -= f.count
        }
        metrics.coalescedWrites += 1
        metrics.coalescedFrames += s.head - first
        return seatcast_lws_write_raw(s.wsi, (base + pre).assumingMemoryBound(to: UInt8.self), out - pre)
    }
}
