import Testing
@testable import SeatcastCore

@Suite("Outbox: replies and closing")
struct OutboxCloseTests {
    // MARK: Replies

    /// Replies are never dropped for the cap; past twice the cap the client is closed with 1008.
    @Test func repliesPastTwiceTheCapClose1008() {
        let h = OutboxHarness(cap: 1000)
        for i in 1...20 { #expect(h.push(frame("r\(i)"), at: 0) == .queued) }
        #expect(h.ob.queuedBytes == 2000)
        #expect(h.ob.resyncTrips.isEmpty)
        #expect(h.push(frame("r21", wire: 10), at: 0) == .close(1008, overflowed: false))
        #expect(h.ob.closeCode == 1008)
        #expect(h.ob.isEmpty)
        #expect(h.next() == .close(1008))
        #expect(h.push(frame("r22"), at: 0) == .dropped)
    }

    /// Stream and reply bytes together count towards the 2x limit for replies.
    @Test func streamBytesCountTowardsReplyLimit() {
        let h = OutboxHarness(cap: 1000)
        #expect(h.push(event("a1", "A", wire: 1000)) == .queued)
        for i in 1...10 { #expect(h.push(frame("r\(i)")) == .queued) }
        #expect(h.push(frame("r11")) == .close(1008, overflowed: false))
    }

    /// One reply larger than twice the cap closes even an empty queue (no reply is that big in practice).
    @Test func singleHugeReplyCloses() {
        let h = OutboxHarness(cap: 1000)
        #expect(h.push(frame("huge", wire: 2001)) == .close(1008, overflowed: false))
    }

    // MARK: Closing

    /// A policy close drops what is queued and any resync; `next` then only closes.
    @Test func policyCloseDropsQueue() {
        let h = OutboxHarness(cap: 1000)
        _ = h.push(frame("r1"))
        _ = h.push(event("a1", "A"))
        #expect(h.resync(tripId: "B"))
        #expect(h.close(1008))
        #expect(h.ob.closeCode == 1008)
        #expect(h.ob.isEmpty)
        #expect(h.ob.queuedBytes == 0)
        #expect(h.ob.resyncTrips.isEmpty)
        #expect(h.ob.hasWork)
        #expect(h.next() == .close(1008))
        // Already closing: a second close (even a draining one) changes nothing.
        #expect(!h.close(1001, drain: true))
        #expect(h.ob.closeCode == 1008)
        #expect(h.push(frame("r2")) == .dropped)
        #expect(h.push(event("a2", "A")) == .dropped)
        #expect(!h.resync(tripId: "A"))
        h.ob.pushSnapshot(event("snap-A", "A"))
        #expect(h.ob.isEmpty)
        #expect(h.next() == .close(1008))
    }

    /// A draining close (1001) writes every queued frame first, stream frames included, then closes.
    @Test func drainingCloseWritesQueueFirst() {
        let h = OutboxHarness(cap: 10_000)
        _ = h.push(frame("r1"))
        _ = h.push(event("a1", "A"))
        _ = h.push(frame("r2"))
        #expect(h.close(1001, drain: true))
        #expect(h.ob.closeCode == 1001)
        #expect(h.ob.pendingFrames == 3)
        #expect(h.next(200) == .write(["r1", "a1"]))
        // New replies are still taken (an answer to a request the server took); new stream frames are not.
        #expect(h.push(frame("r3")) == .queued)
        #expect(h.push(event("a2", "A")) == .dropped)
        #expect(h.push(event("s", "A", wire: 300)) == .dropped)
        h.ob.wrote(2)
        #expect(h.drain(maxBytes: 100) == [.write(["r2"]), .write(["r3"]), .close(1001)])
        #expect(h.next() == .close(1001))
        // A reply taken after the queue drained (the close frame is not sent yet) still goes before it.
        #expect(h.push(frame("r4")) == .queued)
        #expect(h.drain() == [.write(["r4"]), .close(1001)])
    }

    /// A draining close cancels pending resyncs: the close follows the queue, no snapshot.
    @Test func drainingCloseCancelsResyncs() {
        let h = OutboxHarness(cap: 1000, subscriptions: ["A"])
        _ = h.push(frame("r1"))
        _ = h.push(event("a1", "A", wire: 900))
        #expect(h.push(event("a2", "A", wire: 200)) == .overflowed)
        #expect(h.ob.resyncTrips == ["A"])
        #expect(h.close(1001, drain: true))
        #expect(h.ob.resyncTrips.isEmpty)
        #expect(!h.resync(tripId: "A"))
        #expect(h.drain() == [.write(["r1"]), .close(1001)])
        h.ob.pushSnapshot(event("snap-A", "A"))
        #expect(h.next() == .close(1001))
    }

    /// A draining close of an empty queue closes at once.
    @Test func drainingCloseOfEmptyQueue() {
        let h = OutboxHarness()
        #expect(h.close(1001, drain: true))
        #expect(h.ob.hasWork)
        #expect(h.next() == .close(1001))
    }

    /// A policy close during a drain is refused (the first close stands) and the drain goes on.
    @Test func policyCloseDuringDrainIsRefused() {
        let h = OutboxHarness()
        _ = h.push(frame("r1"))
        #expect(h.close(1001, drain: true))
        #expect(!h.close(1013))
        #expect(h.drain() == [.write(["r1"]), .close(1001)])
    }

    /// Replies piling up past twice the cap during a drain: the overflowing reply is not
    /// queued, the ones before it are still written, and the close stays 1001.
    @Test func replyFloodDuringDrain() {
        let h = OutboxHarness(cap: 1000)
        #expect(h.close(1001, drain: true))
        for i in 1...20 { #expect(h.push(frame("r\(i)")) == .queued) }
        let r = h.push(frame("r21"))
        #expect(r != .queued)
        #expect(h.ob.closeCode == 1001)
        #expect(h.drainWritten() == (1...20).map { "r\($0)" })
        #expect(h.next() == .close(1001))
    }

    /// `closed()`: the connection is gone, everything is dropped and nothing is taken.
    @Test func closedDropsEverything() {
        let h = OutboxHarness()
        _ = h.push(frame("r1"))
        _ = h.push(event("a1", "A"))
        #expect(h.resync(tripId: "B"))
        h.ob.closed()
        #expect(h.ob.isClosed)
        #expect(h.ob.isEmpty)
        #expect(h.ob.queuedBytes == 0)
        #expect(h.ob.resyncTrips.isEmpty)
        #expect(!h.ob.hasWork)
        #expect(h.next() == .idle)
        #expect(h.push(frame("r2")) == .dropped)
        #expect(h.push(event("a2", "A")) == .dropped)
        #expect(!h.resync(tripId: "A"))
        #expect(!h.close(1001, drain: true))
        h.ob.pushSnapshot(event("snap-A", "A"))
        #expect(h.ob.isEmpty)
        #expect(h.next() == .idle)
        #expect(h.subscriptionQueries == 0)
    }

    /// `closed()` after a close was started drops the drain too.
    @Test func closedDuringDrain() {
        let h = OutboxHarness()
        _ = h.push(frame("r1"))
        _ = h.close(1001, drain: true)
        h.ob.closed()
        #expect(h.ob.isEmpty)
        #expect(h.push(frame("r2")) == .dropped)
    }
}
