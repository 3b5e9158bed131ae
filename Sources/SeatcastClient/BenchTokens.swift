import Foundation
import SeatcastCore

// Owns: the buyer tokens of `seatcast bench --token-secret`: one per load client (sub
// "bench-<n>"), minted here with BuyerToken.mint, and the paths that carry them (`?token=`),
// so a benchmark runs the same against a server with buyer tokens as in open mode.

/// Mints (and keeps) one buyer token per load client.
public final class BenchTokens {
    let secret: [UInt8]
    let ttl: Double
    let now: Double
    private var minted: [Int: String] = [:]

    /// `ttl`: seconds each token lasts (default a day: longer than any run).
    public init(secret: String, ttl: Double = 86_400, now: Double = Date().timeIntervalSince1970) {
        precondition(!secret.isEmpty, "empty token secret")
        self.secret = Array(secret.utf8)
        self.ttl = ttl
        self.now = now
    }

    /// Load client `n`'s token (sub "bench-<n>"), the same on every call.
    public func token(_ n: Int) -> String {
        if let t = minted[n] { return t }
        let t = BuyerToken.mint(sub: "bench-\(n)", ttl: ttl, secret: secret, now: now)
        minted[n] = t
        return t
    }
}

extension Bench {
    /// Queues `n` connections to `path` on `lc`, each with its own token when `tokens` is given
    /// (connection i carries token(i)); returns the index of the first.
    @discardableResult
    static func connect(_ lc: LoadClient, _ n: Int, path: String, tokens: BenchTokens?) -> Int {
        guard let tokens else { return lc.connect(n, path: path) }
        let first = lc.count
        for i in first..<(first + n) { lc.connect(1, path: WebSocketURL.path(path, token: tokens.token(i))) }
        return first
    }
}
