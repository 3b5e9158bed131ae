import SeatcastCore

/// Everything `seatcast serve` can be told, with its defaults.
public struct AppConfig: Sendable {
    public var databaseURL: String
    public var host: String?
    public var port = 8080
    /// Seconds a hold lasts.
    public var holdTTL: Double = 120
    /// Seconds a hold may last from its start, extends included.
    public var maxHold: Double = 900
    public var publicDir = "Public"
    public var limits = Limits()
    public var allowedOrigins: [String] = []
    public var quiet = false
    /// Seconds between sweeps that release expired holds.
    public var sweepInterval: Double = 1
    /// Outbox retention per trip: the last N events, none older than this many minutes.
    public var retainEvents: Int64 = 10_000
    public var retainMinutes: Double = 24 * 60
    /// Seconds of silence before a WebSocket is pinged, and before it is hung up.
    public var pingSeconds: UInt16 = 30
    public var hangupSeconds: UInt16 = 75
    /// SO_SNDBUF per WebSocket; nil keeps the kernel's default (tests make it tiny).
    public var socketSendBuffer: Int?
    /// libev/epoll event loop (false: lws's own poll(); env SEATCAST_EVENT_LOOP=poll).
    public var useEpoll = true
    /// `--api-key` (env SEATCAST_API_KEY): the site backend's key; nil: none.
    public var apiKey: String?
    /// `--token-secret` (env SEATCAST_TOKEN_SECRET): buyer tokens; nil: open mode.
    public var tokenSecret: String?
    /// `--public-read`: connections without a token may read.
    public var publicRead = false
    /// `--buyer-confirm`: buyers may confirm their own holds.
    public var buyerConfirm = false
    /// `--max-held` (env MAX_HELD): seats one holder may hold at once; 0 = no quota.
    public var maxHeld = 10
    /// Clock skew tolerated on token times, seconds (env TOKEN_SKEW, 0 to 300): 30, the
    /// documented value; tests make it small to watch an expiry without waiting 30 s.
    public var tokenSkew = BuyerToken.defaultSkew

    /// The shortest token secret accepted: 32 bytes, HMAC-SHA256's output size (RFC 7518
    /// section 3.2 requires a key at least that long for HS256).
    public static let minTokenSecretBytes = 32
    /// Flush passes of at least this many sessions are written by two threads (nil: the
    /// loop alone; env SEATCAST_SEND_THREADS=1). Tests make it small.
    public var parallelSendFrom: Int? = 32

    public init(databaseURL: String) { self.databaseURL = databaseURL }

    /// The environment's settings over the defaults: DATABASE_URL, PORT, HOLD_TTL, MAX_HOLD,
    /// PUBLIC_DIR, ALLOWED_ORIGINS (comma-separated), HOST, RATE_LIMIT (messages per second
    /// per connection; the burst becomes twice that), RETAIN_EVENTS, RETAIN_MINUTES, MAX_HELD
    /// (0 or more), TOKEN_SKEW (0 to 300 s), SEATCAST_API_KEY, SEATCAST_TOKEN_SECRET (set but
    /// empty is refused too), SEATCAST_SEND_THREADS (1: one thread writes).
    public static func fromEnvironment(_ env: [String: String]) throws -> AppConfig {
        guard let url = env["DATABASE_URL"], !url.isEmpty else {
            throw ConfigError("DATABASE_URL is not set (make run starts a private PostgreSQL and sets it)")
        }
        var c = AppConfig(databaseURL: url)
        if env["SEATCAST_EVENT_LOOP"] == "poll" { c.useEpoll = false }
        if env["SEATCAST_SEND_THREADS"] == "1" { c.parallelSendFrom = nil }
        if let p = env["PORT"] {
            guard let v = Int(p), (0...65535).contains(v) else { throw ConfigError("PORT must be 0...65535, got \(p)") }
            c.port = v
        }
        /// A positive number from the environment, or nil when the variable is unset.
        func positive<T: Numeric & Comparable & LosslessStringConvertible>(_ key: String, _ what: String) throws -> T? {
            guard let text = env[key] else { return nil }
            guard let v = T(text), v > 0 else { throw ConfigError("\(key) must be a positive \(what), got \(text)") }
            return v
        }
        if let v: Double = try positive("HOLD_TTL", "number of seconds") { c.holdTTL = v }
        if let v: Double = try positive("MAX_HOLD", "number of seconds") { c.maxHold = v }
        if let v: Int64 = try positive("RETAIN_EVENTS", "integer") { c.retainEvents = v }
        if let v: Double = try positive("RETAIN_MINUTES", "number") { c.retainMinutes = v }
        if let v: Double = try positive("RATE_LIMIT", "number of messages per second") {
            c.limits.messagesPerSecond = v
            c.limits.messageBurst = max(c.limits.messageBurst, 2 * v)
        }
        if let d = env["PUBLIC_DIR"], !d.isEmpty { c.publicDir = d }
        if let h = env["HOST"], !h.isEmpty { c.host = h }
        if let o = env["ALLOWED_ORIGINS"] {
            c.allowedOrigins = o.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        if let m = env["MAX_HELD"] {
            guard let v = Int(m), v >= 0 else { throw ConfigError("MAX_HELD must be a whole number, 0 or more, got \(m)") }
            c.maxHeld = v
        }
        if let k = env["TOKEN_SKEW"] {
            guard let v = Double(k), v >= 0, v <= 300 else { throw ConfigError("TOKEN_SKEW must be 0 to 300 seconds, got \(k)") }
            c.tokenSkew = v
        }
        c.apiKey = env["SEATCAST_API_KEY"]
        c.tokenSecret = env["SEATCAST_TOKEN_SECRET"]
        try c.validateSecrets()
        return c
    }

    /// Refuses secrets that could never work, before anything starts. The messages never
    /// repeat a secret.
    public func validateSecrets() throws {
        if let apiKey, BackendKey(apiKey) == nil {
            throw ConfigError("the API key (--api-key / SEATCAST_API_KEY) must be a non-empty token68: letters, digits, - . _ ~ + / then = padding")
        }
        if let tokenSecret, tokenSecret.utf8.count < Self.minTokenSecretBytes {
            throw ConfigError("the token secret (--token-secret / SEATCAST_TOKEN_SECRET) must be at least \(Self.minTokenSecretBytes) bytes")
        }
        if publicRead, tokenSecret == nil {
            throw ConfigError("--public-read needs a token secret (without one every connection may read anyway)")
        }
        if buyerConfirm, tokenSecret == nil {
            throw ConfigError("--buyer-confirm needs a token secret (without one there are no buyers)")
        }
    }

    /// Who is asking, as the server checks it; the configuration must have passed
    /// `validateSecrets`.
    public var authenticator: Authenticator {
        Authenticator(apiKey: apiKey.flatMap(BackendKey.init), tokenSecret: tokenSecret.map { Array($0.utf8) },
                      publicRead: publicRead, skew: tokenSkew)
    }
}

public struct ConfigError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

import Foundation
