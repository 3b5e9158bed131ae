import Testing
@testable import SeatcastCore

@Suite("Outbox: resync snapshots and compaction")
struct OutboxResyncTests {
    // MARK: Resync and snapshots

    /// `resync(tripId:)` schedules each trip once, in order; a trip can be scheduled again once its step was taken.
    @Test func resyncDedup() {
        let h = OutboxHarness()
        #expect(h.resync(tripId: "A"))
        #expect(!h.resync(tripId: "A"))
        #expect(h.resync(tripId: "B"))
        #expect(!h.resync(tripId: "B"))
        #expect(h.ob.resyncTrips == ["A", "B"])
        #expect(h.ob.hasWork)
        #expect(h.ob.isEmpty)
        #expect(h.next() == .snapshot("A"))
        #expect(h.ob.resyncTrips == ["B"])
        #expect(h.resync(tripId: "A"))
        #expect(h.ob.resyncTrips == ["B", "A"])
        #expect(h.drain() == [.snapshot("B"), .write(["snap-B"]), .snapshot("A"), .write(["snap-A"]), .idle])
    }

    /// A resync asked for while frames are queued comes after them; the trip's stream
    /// frames pushed meanwhile are dropped (its snapshot replaces them).
    @Test func resyncAfterQueuedFrames() {
        let h = OutboxHarness(cap: 10_000)
        _ = h.push(event("a1", "A"))
        _ = h.push(frame("r1"))
        #expect(h.resync(tripId: "A"))
        #expect(h.push(event("a2", "A")) == .dropped)
        #expect(h.push(event("b1", "B")) == .queued)
        #expect(h.drainWritten() == ["a1", "r1", "b1", "snap-A"])
    }

    /// A `.snapshot` step the server skips (no longer subscribed) just moves on.
    @Test func skippedSnapshotStep() {
        let h = OutboxHarness()
        _ = h.resync(tripId: "A")
        _ = h.resync(tripId: "B")
        #expect(h.next() == .snapshot("A"))
        #expect(h.next() == .snapshot("B"))
        #expect(h.next() == .idle)
        #expect(!h.ob.hasWork)
    }

    /// `pushSnapshot` takes the snapshot whatever its size and whatever is queued, without overflowing.
    @Test func pushSnapshotIgnoresTheCap() {
        let h = OutboxHarness(cap: 1000, subscriptions: ["A"])
        _ = h.push(frame("r1", wire: 900))
        _ = h.resync(tripId: "A")
        #expect(h.writeOnce() == ["r1"])
        #expect(h.next() == .snapshot("A"))
        _ = h.push(frame("r2", wire: 900))
        h.ob.pushSnapshot(event("snap-A", "A", wire: 50_000))
        #expect(h.ob.queuedBytes == 50_900)
        #expect(h.ob.resyncTrips.isEmpty)
        #expect(h.subscriptionQueries == 0)
        #expect(h.drainWritten() == ["r2", "snap-A"])
    }

    // MARK: Compaction

    /// 1,000 frames written in random chunks, with pushes in between: each comes out once,
    /// in order, and the byte count always matches what is left (exercises the compaction
    /// of written frames in `wrote`).
    @Test(arguments: [1, 2, 3, 42, 2024])
    func compactionKeepsOrder(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let h = OutboxHarness(cap: Int.max / 4)
        var pushed: [String] = []
        var sizes: [String: Int] = [:]
        func pushOne() {
            let l = "f\(pushed.count)"
            let wire = [10, 100, 127, 130, 600, 3000][Int(rng.next() % 6)]
            #expect(h.push(Bool.random(using: &rng) ? frame(l, wire: wire) : event(l, "A", wire: wire)) == .queued)
            pushed.append(l)
            sizes[l] = wire
        }
        for _ in 0..<500 { pushOne() }
        var written: [String] = []
        var guardSteps = 0
        while written.count < 1000 && guardSteps < 100_000 {
            guardSteps += 1
            if pushed.count < 1000, rng.next() % 3 == 0 {
                for _ in 0..<Int(rng.next() % 20) where pushed.count < 1000 { pushOne() }
            }
            let maxBytes = Int(rng.next() % 8000)
            guard case let .write(frames) = h.ob.next(maxBytes: maxBytes) else {
                #expect(pushed.count < 1000, "idle with \(pushed.count - written.count) unwritten")
                if pushed.count < 1000 { pushOne() }
                continue
            }
            #expect(frames.count >= 1)
            #expect(frames.count == 1 || frames.reduce(0) { $0 + $1.wireCount } <= maxBytes)
            let n = Int(rng.next() % UInt64(frames.count + 1))
            written += frames.prefix(n).map(label)
            h.ob.wrote(n)
            let left = pushed[written.count...].reduce(0) { $0 + sizes[$1]! }
            #expect(h.ob.queuedBytes == left)
            #expect(h.ob.pendingFrames == pushed.count - written.count)
        }
        #expect(written == pushed)
        #expect(written.count == 1000)
        #expect(Set(written).count == 1000)
        #expect(h.next() == .idle)
        #expect(h.ob.queuedBytes == 0)
    }

    /// A client that stays behind: the queue never empties while 10,000 frames pass through it.
    @Test func compactionWhileNeverEmpty() {
        let h = OutboxHarness(cap: Int.max / 4)
        var next = 0
        var written: [String] = []
        for _ in 0..<100 { _ = h.push(frame("f\(next)")); next += 1 }
        while next < 10_000 {
            for _ in 0..<3 { _ = h.push(frame("f\(next)")); next += 1 }
            written += h.writeOnce(300)
            #expect(!h.ob.isEmpty)
        }
        written += h.drainWritten()
        #expect(written == (0..<10_000).map { "f\($0)" })
    }
}

/// A small seeded generator, so a failing run can be repeated.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
