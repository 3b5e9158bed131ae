import SeatcastCore

// Owns: the server's settings, as SeatcastApp builds them. A value: read on any thread.

public struct ServerConfig: Sendable {
    /// Interface or address to listen on; nil for all.
    public var host: String?
    /// 0 lets the kernel choose (see `Server.port`).
    public var port: Int = 8080
    /// Directory of static files served at `/`.
    public var publicDir: String = "Public"
    public var limits = Limits()
    /// Allowed `Origin` values for WebSocket upgrades; empty allows any, or, when a secret is
    /// configured (`auth.hasSecrets`), only the server's own origin (`http://` or `https://`
    /// and the request's Host). A request with no Origin (websocat, CLIs) is always allowed.
    public var allowedOrigins: [String] = []
    /// Who is asking: the API key, the token secret, `--public-read`, the clock skew
    /// (docs/PROTOCOL.md 1.1, "Who may do what"). The default is open mode.
    public var auth = Authenticator()
    /// `--buyer-confirm`: buyers may confirm their own holds.
    public var buyerConfirm = false
    /// `--max-held`: seats one holder may hold at once; 0 = no quota.
    public var maxHeld = 10
    /// Recent events kept per trip for `since` resumes without the database.
    public var ringCapacity = 1024
    /// Seconds of silence before lws pings a WebSocket, and before it hangs up.
    public var pingSeconds: UInt16 = 30
    public var hangupSeconds: UInt16 = 75
    /// SO_SNDBUF for each WebSocket (nil: the kernel's default). Small values make writes
    /// come back short, which tests use to exercise the partial-write path.
    public var socketSendBuffer: Int?
    /// Run lws on libev (epoll) instead of its built-in poll(): poll() walks every
    /// connection on every loop pass. Falls back to poll() when the libev plugin is missing.
    public var useEpoll = true
    /// Flush passes with at least this many sessions to write (a fan-out) are written by
    /// two threads, the loop and one send thread; nil: the loop alone. Never on a one-CPU
    /// machine.
    public var parallelSendFrom: Int? = 32
    /// How the server logs (one line per notable thing). Called on the loop thread.
    public var log: @Sendable (String) -> Void = { _ in }
    /// Extra Prometheus text appended to /metrics (for example the store's counters).
    public var extraMetrics: @Sendable () -> String = { "" }

    public init() {}

    /// The rights table under these flags.
    var policy: AccessPolicy { AccessPolicy(buyerConfirm: buyerConfirm, publicRead: auth.publicRead) }
}
