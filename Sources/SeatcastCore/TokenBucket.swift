/// The per-connection message rate limit: `rate` tokens a second, at most `burst` saved.
public struct TokenBucket: Sendable {
    private var tokens: Float
    private var last: Double

    public init(burst: Double, now: Double) {
        tokens = Float(burst)
        last = now
    }

    /// Takes one token; false when the bucket is empty (the message is refused).
    public mutating func take(now: Double, rate: Double, burst: Double) -> Bool {
        let elapsed = now - last
        last = now
        if elapsed > 0 { tokens = min(Float(burst), tokens + Float(elapsed * rate)) }
        if tokens >= 1 {
            tokens -= 1
            return true
        }
        return false
    }
}
