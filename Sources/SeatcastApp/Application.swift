import Foundation
import SeatcastCore
import SeatcastPostgres
import SeatcastServer

/// A running seatcast: the PostgreSQL backend and the server, wired together.
public final class Application: Sendable {
    public let config: AppConfig
    public let backend: PostgresBackend
    public let server: Server

    /// Builds the application without starting anything.
    public init(_ config: AppConfig) {
        self.config = config
        var bc = PostgresBackend.Config(url: config.databaseURL, holdTTLSeconds: config.holdTTL)
        bc.sweepIntervalSeconds = config.sweepInterval
        bc.maxHoldSeconds = config.maxHold
        bc.retainEvents = config.retainEvents
        bc.retainSeconds = config.retainMinutes * 60
        let backend = PostgresBackend(bc)
        var sc = ServerConfig()
        sc.host = config.host
        sc.port = config.port
        sc.publicDir = config.publicDir
        sc.limits = config.limits
        sc.allowedOrigins = config.allowedOrigins
        sc.pingSeconds = config.pingSeconds
        sc.hangupSeconds = config.hangupSeconds
        sc.socketSendBuffer = config.socketSendBuffer
        sc.useEpoll = config.useEpoll
        // Invalid secrets make `start` throw; until then the server keeps open mode's default.
        if (try? config.validateSecrets()) != nil { sc.auth = config.authenticator }
        sc.buyerConfirm = config.buyerConfirm
        sc.maxHeld = config.maxHeld
        sc.parallelSendFrom = config.parallelSendFrom
        if !config.quiet {
            sc.log = { line in FileHandle.standardError.write(Data("seatcast: \(line)\n".utf8)) }
        }
        sc.extraMetrics = { [weak backend] in
            guard let backend else { return "" }
            return """
            # HELP seatcast_db_connected Whether the writer and listener connections are up.
            # TYPE seatcast_db_connected gauge
            seatcast_db_connected \(backend.isConnected ? 1 : 0)
            # HELP seatcast_listener_reconnects_total Times the LISTEN connection was re-established.
            # TYPE seatcast_listener_reconnects_total counter
            seatcast_listener_reconnects_total \(backend.listenerReconnects)
            # HELP seatcast_db_transactions_total Batched write transactions committed.
            # TYPE seatcast_db_transactions_total counter
            seatcast_db_transactions_total \(backend.transactions)
            # HELP seatcast_holds_expired_total Seats released by this instance's expiry sweeps.
            # TYPE seatcast_holds_expired_total counter
            seatcast_holds_expired_total \(backend.holdsExpired)
            # HELP seatcast_events_pruned_total Outbox rows removed by retention.
            # TYPE seatcast_events_pruned_total counter
            seatcast_events_pruned_total \(backend.eventsPruned)

            """
        }
        let server = Server(config: sc, backend: backend)
        backend.setEventSink(server)
        self.backend = backend
        self.server = server
    }

    /// Starts the database threads, then the server. Returns once the port is open.
    public func start() throws {
        try config.validateSecrets()
        backend.start()
        do {
            try server.start()
        } catch {
            backend.stop()
            throw error
        }
    }

    /// Closes every client with 1001, finishes queued database work, closes connections.
    public func stop() {
        server.stop()
        backend.stop()
    }

    public var port: Int { server.port }

    /// Applies pending migrations; returns the versions applied.
    @discardableResult
    public static func migrate(databaseURL: String) throws -> [Int] {
        let db = try PGConnection(databaseURL)
        return try Migrator.migrate(db)
    }

    /// The demo trip of `make run`: 12 rows of 4 seats, 1A..12D.
    public static let demoTrip = (id: "demo", name: "Demo coach: Accra - Kumasi 08:00", rows: 12, cols: 4)

    /// Creates the demo trip unless it exists. Returns whether it was created.
    @discardableResult
    public static func seedDemo(databaseURL: String) throws -> Bool {
        let db = try PGConnection(databaseURL)
        let d = demoTrip
        return try SeatStore(db).createTrip(id: d.id, name: d.name, rows: d.rows, cols: d.cols) == .created
    }
}
