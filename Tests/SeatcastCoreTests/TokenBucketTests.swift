import Testing
@testable import SeatcastCore

/// Wraps a bucket so `#expect` can call `take` (the macro cannot capture a mutating call on a local `var`).
private final class Bucket {
    var bucket: TokenBucket
    let rate: Double
    let burst: Double

    init(burst: Double = 100, rate: Double = 50, now: Double) {
        bucket = TokenBucket(burst: burst, now: now)
        self.rate = rate
        self.burst = burst
    }

    func take(_ now: Double) -> Bool { bucket.take(now: now, rate: rate, burst: burst) }

    /// Takes tokens at time `now` until refused (or `limit`), returning how many were granted.
    func drain(_ now: Double, limit: Int = 10_000) -> Int {
        var n = 0
        while n < limit, take(now) { n += 1 }
        return n
    }
}

@Suite("TokenBucket")
struct TokenBucketTests {
    /// A full bucket allows exactly `burst` messages at once, then refuses.
    @Test func burstThenRefusal() {
        let b = Bucket(now: 1000)
        for _ in 0..<100 { #expect(b.take(1000)) }
        #expect(!b.take(1000))
        #expect(!b.take(1000))
    }

    /// After draining, one second refills `rate` tokens.
    @Test func refillOneSecond() {
        let b = Bucket(now: 0)
        #expect(b.drain(0) == 100)
        #expect(b.drain(1) == 50)
        #expect(b.drain(1) == 0)
    }

    /// Refill is proportional to elapsed time: 20 ms at 50/s gives one token, 10 ms gives none.
    @Test func partialRefill() {
        let b = Bucket(now: 0)
        #expect(b.drain(0) == 100)
        #expect(!b.take(0.01))
        #expect(b.take(0.02))
        #expect(!b.take(0.02))
        #expect(b.drain(0.5) == 24)
    }

    /// The bucket never holds more than `burst` tokens, however long it waits.
    @Test func refillCappedAtBurst() {
        let b = Bucket(now: 0)
        #expect(b.drain(0) == 100)
        #expect(b.drain(3600) == 100)
    }

    /// A sustained stream below the rate is never refused once the burst is spent.
    @Test func sustainedRate() {
        let b = Bucket(now: 0)
        #expect(b.drain(0) == 100)
        var refused = 0
        for k in 1...500 where !b.take(Double(k) / 40) { refused += 1 }
        #expect(refused == 0)
    }

    /// Over a long simulated flood the grants stay within burst plus rate times elapsed time.
    @Test func floodIsLimited() {
        let b = Bucket(now: 0)
        var granted = 0
        for k in 0..<10_000 where b.take(Double(k) * 0.001) { granted += 1 }
        // 10 s at 50/s plus the burst of 100, give or take a couple for rounding.
        #expect(granted >= 598 && granted <= 600)
    }

    /// A clock that goes backwards neither refills nor breaks the bucket.
    @Test func clockGoingBackwards() {
        let b = Bucket(burst: 2, now: 10)
        #expect(b.drain(10) == 2)
        #expect(!b.take(5))
        #expect(b.take(5.02))
    }

    /// A small burst and a slow rate behave the same way.
    @Test func smallBucket() {
        let b = Bucket(burst: 1, rate: 0.5, now: 0)
        #expect(b.take(0))
        #expect(!b.take(1))
        #expect(b.take(2))
        #expect(!b.take(2))
    }

    /// A large monotonic clock value (long uptime) does not disturb refill.
    @Test func largeClockValues() {
        let t0 = 9_000_000.0
        let b = Bucket(now: t0)
        #expect(b.drain(t0) == 100)
        #expect(b.drain(t0 + 1) == 50)
    }
}
