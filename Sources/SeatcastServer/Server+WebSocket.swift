import CLibWebSockets
import Glibc
import SeatcastCore

extension Server {
    // MARK: Connection lifecycle (loop thread)

    func established(_ wsi: OpaquePointer) -> Int32 {
        let path = Self.header(wsi, WSI_TOKEN_GET_URI) ?? "/ws"
        let origin = Self.header(wsi, WSI_TOKEN_ORIGIN)
        nextSessionId += 1
        let s = Session(wsi: wsi, id: nextSessionId, limits: config.limits, now: Timestamp.monotonicSeconds())
        lws_set_opaque_user_data(wsi, Unmanaged.passRetained(s).toOpaque())
        sessions[ObjectIdentifier(s)] = s
        if var size = config.socketSendBuffer.map(Int32.init) {
            _ = setsockopt(lws_get_socket_fd(wsi), SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
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
        s.outbox.closed()
        s.resuming.removeAll()
        sessions[ObjectIdentifier(s)] = nil
        metrics.connections -= 1
        Unmanaged.passUnretained(s).release()
    }

    /// Closes the session with `code` at its next WRITEABLE. A graceful close (`drain`, at
    /// shutdown) first sends what is queued, so no answer to a request the server took is
    /// lost; a policy close drops it.
    func close(_ s: Session, code: UInt16, drain: Bool = false) {
        guard !s.closed else { return }
        if s.outbox.close(code, drain: drain) { requestWritable(s) }
    }

    // MARK: Receive

    func receive(_ s: Session, _ input: UnsafeMutableRawPointer?, _ len: Int) -> Int32 {
        if s.outbox.closeCode != 0 { return 0 }
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
            if s.outbox.queuedBytes < 4096 {
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
        case .extend: // not routed yet (issue 11): answered as before the decoder knew it
            reply(s, ProtocolError(.unknownType, "unknown type \"extend\"", id: r.id))
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
        case .extended: return "\(type):extended"
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
        case let .extended(seats, until):
            guard case let .extend(_, hold, _) = c else { return [] }
            return Messages.extended(id: id, tripId: c.tripId, hold: hold, seats: seats, untilMs: until)
        case let .confirmed(seats): return Messages.confirmed(id: id, tripId: c.tripId, seats: seats)
        case let .released(seats): return Messages.released(id: id, tripId: c.tripId, seats: seats)
        case let .rejected(reason, seats): return Messages.rejected(id: id, tripId: c.tripId, reason: reason, seats: seats)
        case var .failed(e):
            e.id = id
            return Messages.error(e)
        }
    }

    // MARK: Send (loop thread)
    //
    // A delivery is one copy of a pre-framed message into the socket. Frames pushed during
    // a loop pass are written at the end of that pass (`flushPendingWrites`), all of a
    // session's frames in one send(): the events of one NOTIFY batch, or a stampede's
    // replies, cost one syscall per connection. Only when the socket would block does the
    // session wait for WRITEABLE; a partly sent write is handed whole to lws, which sends
    // its rest before anything else (its own pings, pongs and close frames included), so
    // frames are never split or interleaved. The policy (cap, resync, closes) is the pure
    // `Outbox` of SeatcastCore; this code only carries out what it returns.

    /// Queues a frame for a session.
    func send(_ s: Session, _ f: Frame, now: Double = Timestamp.monotonicSeconds()) {
        if s.closed { return }
        switch s.outbox.push(f, now: now, outboxPolicy, subscriptions: s.subscribedTripIds) {
        case .queued:
            scheduleFlush(s)
        case .dropped:
            break
        case .overflowed:
            metrics.queueOverflows += 1
            // Buffered resumes are superseded by the snapshots.
            s.resuming.removeAll()
            scheduleFlush(s)
        case let .close(code, overflowed):
            if overflowed { metrics.queueOverflows += 1 }
            if code == 1013 { metrics.slowClientsClosed += 1 }
            requestWritable(s)
        }
    }

    func scheduleFlush(_ s: Session) {
        guard !s.flushPending else { return }
        s.flushPending = true
        flushList.append(s)
    }

    /// Asks lws for a WRITEABLE callback (once; the outbox remembers it is waiting).
    func requestWritable(_ s: Session) {
        if s.outbox.blocked(now: Timestamp.monotonicSeconds()) { lws_callback_on_writable(s.wsi) }
    }

    /// End of a loop pass (after `lws_service` returned): writes what the pass queued,
    /// straight to the sockets that are free. Loop thread, outside any lws callback.
    func flushPendingWrites() {
        guard !flushList.isEmpty else { return }
        let list = flushList
        flushList.removeAll(keepingCapacity: true)
        for s in list {
            s.flushPending = false
            if s.closed || s.broken || s.outbox.isWaiting { continue }
            if lws_partial_buffered(s.wsi) != 0 {
                // lws still holds the rest of an earlier write; it asks for POLLOUT itself.
                requestWritable(s)
                continue
            }
            _ = flush(s, inCallback: false)
        }
    }

    func writable(_ s: Session) -> Int32 {
        s.outbox.writable()
        if s.broken { return -1 }
        return flush(s, inCallback: true)
    }

    /// Writes the session's queue until it is empty or the socket would block. Inside a
    /// WRITEABLE callback a close is carried out (returns -1); outside, it waits for one.
    func flush(_ s: Session, inCallback: Bool) -> Int32 {
        var writes = 0
        while true {
            switch s.outbox.next(maxBytes: writeChunk) {
            case .idle:
                return 0
            case let .close(code):
                guard inCallback else {
                    requestWritable(s)
                    return 0
                }
                var reason = Array((code == 1001 ? "server shutdown" : code == 1013 ? "too slow; reconnect" : "policy").utf8)
                lws_close_reason(s.wsi, lws_close_status(rawValue: UInt32(code)), &reason, reason.count)
                return -1
            case let .snapshot(tripId):
                // Caught up after an overflow: the current map replaces what was dropped.
                guard let hub = s.subscriptions.first(where: { $0.tripId == tripId }) else { continue }
                if let f = hub.snapshot() {
                    metrics.resyncSnapshots += 1
                    s.outbox.pushSnapshot(f)
                } else if !hub.waiting.contains(where: { $0.0 === s }) {
                    hub.waiting.append((s, nil, nil))
                }
            case let .write(frames):
                // A long backlog goes on at the next WRITEABLE, so one client cannot hold
                // the loop.
                if writes == maxWritesPerFlush {
                    requestWritable(s)
                    return 0
                }
                writes += 1
                switch write(s, frames) {
                case .complete:
                    continue
                case .blocked:
                    requestWritable(s)
                    return 0
                case .failed:
                    s.broken = true
                    if inCallback { return -1 }
                    requestWritable(s)
                    return 0
                }
            }
        }
    }

    var writeChunk: Int { 64 * 1024 }
    var maxWritesPerFlush: Int { 4 }

    enum WriteResult { case complete, blocked, failed }

    /// One non-blocking send() of these frames, in order. What the kernel does not take
    /// is copied whole into lws's own buffer (`lws_write` of raw bytes), which lws sends
    /// before anything else; the frames then count as written.
    func write(_ s: Session, _ frames: ArraySlice<Frame>) -> WriteResult {
        let pre = Frame.headroom
        let base = scratch.baseAddress!
        var start: UnsafeRawPointer
        var length: Int
        var inScratch = false
        if frames.count == 1, let f = frames.first {
            start = UnsafeRawPointer(f.wire)
            length = f.wireCount
        } else {
            length = 0
            for f in frames {
                (base + pre + length).copyMemory(from: f.wire, byteCount: f.wireCount)
                length += f.wireCount
            }
            start = UnsafeRawPointer(base + pre)
            inScratch = true
            metrics.coalescedWrites += 1
            metrics.coalescedFrames += frames.count
        }
        let n = seatcast_send_nonblocking(lws_get_socket_fd(s.wsi), start, length)
        if n == length {
            s.outbox.wrote(frames.count)
            metrics.directWrites += 1
            return .complete
        }
        if n < 0 {
            let e = errno
            return e == EAGAIN || e == EWOULDBLOCK || e == EINTR ? .blocked : .failed
        }
        // A short write: lws takes the rest (lws_write needs LWS_PRE bytes of headroom).
        metrics.partialWrites += 1
        let rest = length - n
        let restStart: UnsafeMutableRawPointer
        if inScratch {
            restStart = base + pre + n
        } else {
            // One frame, which may be larger than the scratch buffer (a large trip's snapshot).
            if pre + rest > scratch.count {
                scratch.deallocate()
                scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: pre + rest, alignment: 16)
            }
            restStart = scratch.baseAddress! + pre
            restStart.copyMemory(from: start + n, byteCount: rest)
        }
        s.outbox.wrote(frames.count)
        if seatcast_lws_write_raw(s.wsi, restStart.assumingMemoryBound(to: UInt8.self), rest) < 0 { return .failed }
        return .blocked
    }
}
