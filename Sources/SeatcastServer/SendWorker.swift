import CLibWebSockets
import Dispatch
import Foundation
import Glibc
import SeatcastCore

// Owns: the second thread of a big flush pass, and the pass's jobs (which socket gets
// which bytes) while it runs. Thread: the loop fills and reads the jobs; the worker runs
// its half of them between `start` and `finish`, touching nothing else.
//
// A fan-out pass is one send() per subscriber, and almost all of its cost is the
// kernel's (on loopback the sender also pays for the receiver's TCP work). One thread
// caps a pass at one core; with the pass split in two, a 2,000-subscriber event reaches
// its last subscriber in about half the time when the second core is free. Nothing of
// lws or of the outboxes is touched off the loop: the loop gathers the writes, both
// threads only call send(), the loop waits for the worker, then carries out every result
// itself (short writes, EAGAIN, errors), exactly as after a write of its own.

/// A flush pass's writes, and the thread that runs half of them.
final class SendPass: @unchecked Sendable {
    /// The jobs of the pass being gathered or run. Loop-owned except that, between
    /// `start` and `finish`, the worker runs (and writes the results of) `jobs[0..<split]`.
    private(set) var jobs: UnsafeMutablePointer<seatcast_send_job>
    private(set) var count = 0
    private var capacity: Int
    private var iov: UnsafeMutablePointer<iovec>
    private var iovCount = 0
    private var iovCapacity: Int
    private var split = 0

    private let go = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    private var stopping = false
    private var thread: Thread?

    init() {
        capacity = 1024
        jobs = .allocate(capacity: capacity)
        iovCapacity = 2048
        iov = .allocate(capacity: iovCapacity)
    }

    deinit {
        jobs.deallocate()
        iov.deallocate()
    }

    /// Starts the worker thread (once).
    func startThread() {
        guard thread == nil else { return }
        let t = Thread { [unowned self] in self.work() }
        t.name = "seatcast-send"
        thread = t
        t.start()
    }

    /// Ends the worker thread; no pass may be running.
    func stopThread() {
        guard thread != nil else { return }
        stopping = true
        go.signal()
        done.wait()
        thread = nil
    }

    var hasThread: Bool { thread != nil }

    func reset() {
        count = 0
        iovCount = 0
    }

    /// Adds a write of `frames` (whole wire frames, in order) to `fd`.
    func add(fd: Int32, frames: ArraySlice<Frame>) {
        if count == capacity { grow(&jobs, &capacity, keeping: count) }
        while iovCount + frames.count > iovCapacity { grow(&iov, &iovCapacity, keeping: iovCount) }
        let first = iovCount
        var length = 0
        for f in frames {
            iov[iovCount] = iovec(iov_base: UnsafeMutableRawPointer(mutating: f.wire), iov_len: f.wireCount)
            iovCount += 1
            length += f.wireCount
        }
        jobs[count] = seatcast_send_job(fd: fd, iov_count: Int32(frames.count), iov_start: first, length: length,
                                        result: 0, err: 0)
        count += 1
    }

    /// Copies what job `i` did not send (everything after its `result` bytes) to `into`.
    func copyUnsent(job i: Int, into: UnsafeMutableRawPointer) {
        let job = jobs[i]
        var skip = job.result
        var out = into
        for k in job.iov_start..<(job.iov_start + Int(job.iov_count)) {
            let v = iov[k]
            if skip >= v.iov_len {
                skip -= v.iov_len
                continue
            }
            let n = v.iov_len - skip
            out.copyMemory(from: v.iov_base! + skip, byteCount: n)
            out += n
            skip = 0
        }
    }

    /// Runs every job, the first half on the worker thread (when there is one) and the
    /// rest on the calling thread; returns when all are done.
    func run() {
        guard count > 0 else { return }
        guard thread != nil, count >= 2 else {
            seatcast_send_jobs(jobs, count, iov)
            return
        }
        split = count / 2
        go.signal()
        seatcast_send_jobs(jobs + split, count - split, iov)
        done.wait()
    }

    private func work() {
        while true {
            go.wait()
            if stopping {
                done.signal()
                return
            }
            seatcast_send_jobs(jobs, split, iov)
            done.signal()
        }
    }

    private func grow<T>(_ p: inout UnsafeMutablePointer<T>, _ cap: inout Int, keeping n: Int) {
        let bigger = UnsafeMutablePointer<T>.allocate(capacity: cap * 2)
        bigger.moveInitialize(from: p, count: n)
        p.deallocate()
        p = bigger
        cap *= 2
    }
}
