import CLibWebSockets
import Glibc
import SeatcastCore

// Owns: the send side of every WebSocket: it carries out what each session's `Outbox`
// (SeatcastCore's pure state machine: queue, cap, resync, closes) returns, keeps the flush
// list and the scratch buffer, and writes to the sockets. Thread: loop.
//
// A delivery is one copy of a pre-framed message into the socket. Frames pushed during a
// loop pass are written at the end of that pass (`flushPendingWrites`), all of a
// session's frames in one send(): the events of one NOTIFY batch, or a stampede's
// replies, cost one syscall per connection. Only when the socket would block does the
// session wait for WRITEABLE; a partly sent write is handed whole to lws, which sends
// its rest before anything else (its own pings, pongs and close frames included), so
// frames are never split or interleaved.

final class Sender: LoopConfined {
    let loopThread: LoopThread
    private let policy: Outbox.Policy
    private let metrics: Metrics
    /// Snapshots for resyncs, and the resumes an overflow makes moot. Set once, right after
    /// both exist (each needs the other).
    unowned var trips: TripRouter!
    /// Sessions with frames pushed during this loop pass, written when the pass ends.
    private var flushList: [Session] = []
    /// The list being written this pass (swapped with `flushList`, kept for its capacity).
    private var flushing: [Session] = []
    /// Reused for coalesced writes and the rest of short ones (lws copies what it keeps).
    private var scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 72 * 1024, alignment: 16)

    /// The most one write carries; a long backlog goes on at the next WRITEABLE after
    /// `maxWritesPerFlush` writes, so one client cannot hold the loop.
    private let writeChunk = 64 * 1024
    private let maxWritesPerFlush = 4

    /// Big passes are written by two threads (`SendPass`); nil: one.
    private let pass: SendPass?
    /// The sessions of the pass's jobs, in job order.
    private var gathered: [Session] = []
    /// Passes with fewer sessions are written by the loop alone: waking the second thread
    /// costs about as much as a few dozen send()s.
    private let parallelFrom: Int
    /// A job carries at most this many frames (iovecs); a longer backlog is the loop's.
    private let maxFramesPerJob = 64

    init(policy: Outbox.Policy, metrics: Metrics, loopThread: LoopThread, parallelFrom: Int? = nil) {
        self.policy = policy
        self.metrics = metrics
        self.loopThread = loopThread
        pass = parallelFrom.map { _ in SendPass() }
        self.parallelFrom = max(2, parallelFrom ?? 2)
    }

    deinit { scratch.deallocate() }

    /// Starts the second send thread (when configured). Loop thread, at start.
    func start() { pass?.startThread() }

    /// Ends the second send thread. Loop thread, after the last pass.
    func stop() { pass?.stopThread() }

    /// Queues a frame for a session. On the fan-out path: nothing is allocated here.
    func send(_ s: Session, _ f: Frame, now: Double = Timestamp.monotonicSeconds()) {
        assertOnLoop()
        if s.closed { return }
        switch s.outbox.push(f, now: now, policy, subscriptions: s.subscribedTripIds) {
        case .queued:
            scheduleFlush(s)
        case .dropped:
            break
        case .overflowed:
            metrics.queueOverflows += 1
            // Resumes in flight are superseded by the snapshots.
            trips.queueOverflowed(s)
            scheduleFlush(s)
        case let .close(code, overflowed):
            if overflowed { metrics.queueOverflows += 1 }
            if code == 1013 { metrics.slowClientsClosed += 1 }
            requestWritable(s)
        }
    }

    /// An `error` reply, counted by code.
    func sendError(_ s: Session, _ e: ProtocolError) {
        assertOnLoop()
        metrics.errors[e.code.rawValue, default: 0] += 1
        send(s, Frame(Messages.error(e)))
    }

    /// A snapshot of `tripId` once the session's queue drains (its resume was abandoned).
    func resync(_ s: Session, tripId: String) {
        assertOnLoop()
        metrics.queueOverflows += 1
        if s.outbox.resync(tripId: tripId) { scheduleFlush(s) }
    }

    /// Closes the session with `code` at its next WRITEABLE. A graceful close (`drain`, at
    /// shutdown) first sends what is queued, so no answer to a request the server took is
    /// lost; a policy close drops it.
    func close(_ s: Session, code: UInt16, drain: Bool = false) {
        assertOnLoop()
        guard !s.closed else { return }
        if s.outbox.close(code, drain: drain) { requestWritable(s) }
    }

    private func scheduleFlush(_ s: Session) {
        assertOnLoop()
        guard !s.flushPending else { return }
        s.flushPending = true
        flushList.append(s)
    }

    /// Asks lws for a WRITEABLE callback (once; the outbox remembers it is waiting).
    private func requestWritable(_ s: Session) {
        assertOnLoop()
        if s.outbox.blocked(now: Timestamp.monotonicSeconds()) { lws_callback_on_writable(s.wsi) }
    }

    /// End of a loop pass (after lws's service returned): writes what the pass queued,
    /// straight to the sockets that are free. Outside any lws callback.
    func flushPendingWrites() {
        assertOnLoop()
        guard !flushList.isEmpty else { return }
        // Two lists swapped each pass: copying the list and emptying it in place would
        // allocate a fresh buffer every pass (the copy still shares the old one).
        swap(&flushList, &flushing)
        defer { flushing.removeAll(keepingCapacity: true) }
        if let pass, pass.hasThread, flushing.count >= parallelFrom {
            flushInParallel(pass)
            return
        }
        for s in flushing where takeFromFlushList(s) {
            _ = flush(s, inCallback: false)
        }
    }

    /// Takes `s` off the flush list; whether it may be written to now (open, not waiting
    /// for WRITEABLE, lws holding none of its bytes).
    private func takeFromFlushList(_ s: Session) -> Bool {
        s.flushPending = false
        if s.closed || s.broken || s.outbox.isWaiting { return false }
        if lws_partial_buffered(s.wsi) != 0 {
            // lws still holds the rest of an earlier write; it asks for POLLOUT itself.
            requestWritable(s)
            return false
        }
        return true
    }

    /// A big pass: gathers each free session's next write, lets two threads send them
    /// (`SendPass.run`), then carries out every result here, as `write` does for its own.
    private func flushInParallel(_ pass: SendPass) {
        assertOnLoop()
        pass.reset()
        defer { gathered.removeAll(keepingCapacity: true) }
        for s in flushing where takeFromFlushList(s) {
            if let frames = s.outbox.peekWrite(maxBytes: writeChunk), frames.count <= maxFramesPerJob {
                pass.add(fd: lws_get_socket_fd(s.wsi), frames: frames)
                gathered.append(s)
            } else {
                _ = flush(s, inCallback: false)
            }
        }
        pass.run()
        metrics.parallelPasses += 1
        for (i, s) in gathered.enumerated() {
            // Only appends can have reached these outboxes since the gathering (a resync
            // snapshot of a session flushed above is its own): their first `frames` are
            // the ones sent.
            let job = pass.jobs[i]
            let frames = Int(job.iov_count)
            if frames > 1 {
                metrics.coalescedWrites += 1
                metrics.coalescedFrames += frames
            }
            let result = settle(s, frames: frames, length: job.length, sent: job.result, err: job.err) { sent in
                let room = roomForRest(job.length - sent)
                pass.copyUnsent(job: i, into: room)
                return room
            }
            switch result {
            case .complete:
                if s.outbox.hasWork { _ = flush(s, inCallback: false) }
            case .blocked:
                requestWritable(s)
            case .failed:
                s.broken = true
                requestWritable(s)
            }
        }
    }

    /// LWS_CALLBACK_SERVER_WRITEABLE.
    func writable(_ s: Session) -> Int32 {
        assertOnLoop()
        s.outbox.writable()
        if s.broken { return -1 }
        return flush(s, inCallback: true)
    }

    /// Writes the session's queue until it is empty or the socket would block. Inside a
    /// WRITEABLE callback a close is carried out (returns -1); outside, it waits for one.
    private func flush(_ s: Session, inCallback: Bool) -> Int32 {
        assertOnLoop()
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
                let expired = code == 1008 && s.auth?.expired == true
                var reason = Array((code == 1001 ? "server shutdown" : code == 1013 ? "too slow; reconnect"
                    : expired ? "token expired" : "policy").utf8)
                lws_close_reason(s.wsi, lws_close_status(rawValue: UInt32(code)), &reason, reason.count)
                return -1
            case let .snapshot(tripId):
                // Caught up after an overflow: the current map replaces what was dropped
                // (a trip still loading answers the session when its snapshot arrives).
                guard s.subscriptions.contains(tripId) else { continue }
                if let f = trips.resyncSnapshot(for: s, tripId: tripId) {
                    metrics.resyncSnapshots += 1
                    s.outbox.pushSnapshot(f)
                }
            case let .write(frames):
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

    private enum WriteResult { case complete, blocked, failed }

    /// One non-blocking send() of these frames, in order. What the kernel does not take
    /// is copied whole into lws's own buffer (`lws_write` of raw bytes), which lws sends
    /// before anything else; the frames then count as written.
    private func write(_ s: Session, _ frames: ArraySlice<Frame>) -> WriteResult {
        assertOnLoop()
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
        return settle(s, frames: frames.count, length: length, sent: n, err: n < 0 ? errno : 0) { sent in
            if inScratch { return base + pre + sent }
            // One frame, which may be larger than the scratch buffer (a large trip's snapshot).
            let room = roomForRest(length - sent)
            room.copyMemory(from: start + sent, byteCount: length - sent)
            return room
        }
    }

    /// Carries out what one send() of `length` bytes (`frames` whole frames) did: `sent`
    /// bytes, or -1 with `err`. All of them: the frames are written. EAGAIN (or EINTR):
    /// blocked. A short write: `placeRest(sent)` puts the unsent rest in the scratch buffer
    /// behind `Frame.headroom` (lws_write needs LWS_PRE bytes before it) and returns where;
    /// lws takes it whole, the frames count as written, and the session waits for
    /// WRITEABLE. Any other error: failed. Both write paths (`write`, `flushInParallel`).
    private func settle(_ s: Session, frames: Int, length: Int, sent: Int, err: Int32,
                        placeRest: (Int) -> UnsafeMutableRawPointer) -> WriteResult {
        assertOnLoop()
        if sent == length {
            s.outbox.wrote(frames)
            metrics.directWrites += 1
            return .complete
        }
        if sent < 0 { return err == EAGAIN || err == EWOULDBLOCK || err == EINTR ? .blocked : .failed }
        metrics.partialWrites += 1
        let rest = placeRest(sent)
        s.outbox.wrote(frames)
        if seatcast_lws_write_raw(s.wsi, rest.assumingMemoryBound(to: UInt8.self), length - sent) < 0 { return .failed }
        return .blocked
    }

    /// Room for `count` bytes in the scratch buffer, behind `Frame.headroom`; grows it when
    /// they do not fit (what it held is gone then).
    private func roomForRest(_ count: Int) -> UnsafeMutableRawPointer {
        if Frame.headroom + count > scratch.count {
            scratch.deallocate()
            scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: Frame.headroom + count, alignment: 16)
        }
        return scratch.baseAddress! + Frame.headroom
    }
}
