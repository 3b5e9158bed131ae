import ArgumentParser
import Foundation
import SeatcastApp
import SeatcastCore
import SeatcastPostgres

struct Seatcast: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seatcast",
        abstract: "Real-time seat broadcaster: atomic reserves in PostgreSQL, events to every subscriber.",
        subcommands: [Serve.self, Migrate.self, Trip.self, Watch.self, Reserve.self, Confirm.self, Release.self, Extend.self, BenchCommand.self, TokenCommand.self]
    )
}

/// Options every command that talks to the database shares.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .customLong("database-url"), help: "libpq URL (default: $DATABASE_URL).")
    var databaseURL: String?

    func url() throws -> String {
        if let databaseURL { return databaseURL }
        if let env = ProcessInfo.processInfo.environment["DATABASE_URL"], !env.isEmpty { return env }
        throw ValidationError("no database: pass --database-url or set DATABASE_URL")
    }
}

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the seat map, the WebSocket and the HTTP API.")

    @OptionGroup var db: DatabaseOptions
    @Option(help: "Port (default: $PORT or 8080; 0 picks a free one).") var port: Int?
    @Option(help: "Address to listen on (default: $HOST or all).") var host: String?
    @Option(name: .customLong("hold-ttl"), help: "Seconds a hold lasts (default: $HOLD_TTL or 120).") var holdTTL: Double?
    @Option(name: .customLong("max-hold"), help: "Seconds a hold may last from its start, extends included (default: $MAX_HOLD or 900).")
    var maxHold: Double?
    @Option(name: .customLong("public-dir"), help: "Static files (default: $PUBLIC_DIR or Public).") var publicDir: String?
    @Option(name: .customLong("allowed-origin"), help: "Allowed WebSocket Origin; repeat for several (default: any in open mode; the server's own origin once a secret is set).")
    var allowedOrigins: [String] = []
    @Option(name: .customLong("retain-events"), help: "Outbox events kept per trip (default: $RETAIN_EVENTS or 10000).")
    var retainEvents: Int64?
    @Option(name: .customLong("retain-minutes"), help: "Outbox events older than this are dropped (default: $RETAIN_MINUTES or 1440).")
    var retainMinutes: Double?
    @Option(name: .customLong("rate-limit"), help: "Messages per second per connection (default: $RATE_LIMIT or 50; burst twice that, at least 100).")
    var rateLimit: Double?
    @Option(name: .customLong("api-key"), help: "The site backend's key, for HTTP as Authorization: Bearer KEY (default: $SEATCAST_API_KEY; prefer the environment).")
    var apiKey: String?
    @Option(name: .customLong("token-secret"), help: "HS256 secret of buyer tokens, at least 32 bytes (default: $SEATCAST_TOKEN_SECRET; prefer the environment). Without it: open mode.")
    var tokenSecret: String?
    @Flag(name: .customLong("public-read"), help: "With a token secret: connections without a token may subscribe and read.")
    var publicRead = false
    @Flag(name: .customLong("buyer-confirm"), help: "With a token secret: buyers may confirm their own holds.")
    var buyerConfirm = false
    @Option(name: .customLong("max-held"), help: "Seats one buyer (open mode: one connection) may hold at once; 0 = no quota (default: $MAX_HELD or 10).")
    var maxHeld: Int?
    @Flag(help: "Apply pending migrations first.") var migrate = false
    @Flag(name: .customLong("seed-demo"), help: "Create the demo trip if it is missing.") var seedDemo = false

    func run() throws {
        var env = ProcessInfo.processInfo.environment
        env["DATABASE_URL"] = try db.url()
        var config: AppConfig
        do {
            config = try AppConfig.fromEnvironment(env)
        } catch {
            throw ValidationError("\(error)")
        }
        if let port { config.port = port }
        if let host { config.host = host }
        if let holdTTL {
            guard holdTTL > 0 else { throw ValidationError("--hold-ttl must be positive") }
            config.holdTTL = holdTTL
        }
        if let maxHold {
            guard maxHold > 0 else { throw ValidationError("--max-hold must be positive") }
            config.maxHold = maxHold
        }
        if let publicDir { config.publicDir = publicDir }
        if let rateLimit {
            guard rateLimit > 0 else { throw ValidationError("--rate-limit must be positive") }
            config.limits.messagesPerSecond = rateLimit
            config.limits.messageBurst = max(100, 2 * rateLimit)
        }
        if let retainEvents {
            guard retainEvents > 0 else { throw ValidationError("--retain-events must be positive") }
            config.retainEvents = retainEvents
        }
        if let retainMinutes {
            guard retainMinutes > 0 else { throw ValidationError("--retain-minutes must be positive") }
            config.retainMinutes = retainMinutes
        }
        if !allowedOrigins.isEmpty { config.allowedOrigins = allowedOrigins }
        if let apiKey { config.apiKey = apiKey }
        if let tokenSecret { config.tokenSecret = tokenSecret }
        config.publicRead = publicRead
        config.buyerConfirm = buyerConfirm
        if let maxHeld {
            guard maxHeld >= 0 else { throw ValidationError("--max-held must be 0 or more") }
            config.maxHeld = maxHeld
        }
        do {
            try config.validateSecrets()
        } catch {
            throw ValidationError("\(error)")
        }
        if migrate { try Application.migrate(databaseURL: config.databaseURL) }
        if seedDemo { try Application.seedDemo(databaseURL: config.databaseURL) }

        let app = Application(config)
        try app.start()
        FileHandle.standardOutput.write(Data("seatcast: serving on http://127.0.0.1:\(app.port)/  (WebSocket ws://127.0.0.1:\(app.port)/ws)\n".utf8))
        // Which credentials are in force; never the secrets themselves.
        let mode = config.tokenSecret == nil ? "open mode" : "buyer tokens required" + (config.publicRead ? " (public read)" : "")
        FileHandle.standardOutput.write(Data("seatcast: \(mode)\(config.apiKey == nil ? "" : ", backend key set"), hold quota \(config.maxHeld == 0 ? "off" : String(config.maxHeld))\n".utf8))
        let sig = Signals.waitForTermination()
        FileHandle.standardError.write(Data("seatcast: signal \(sig), shutting down\n".utf8))
        app.stop()
    }
}

struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending database migrations.")
    @OptionGroup var db: DatabaseOptions

    func run() throws {
        let applied = try Application.migrate(databaseURL: try db.url())
        print(applied.isEmpty ? "schema up to date" : "applied migration(s) \(applied.map(String.init).joined(separator: ", "))")
    }
}

struct Trip: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create and list trips.", subcommands: [Create.self, List.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a trip with ROWS x COLS available seats.")
        @OptionGroup var db: DatabaseOptions
        @Argument(help: "Trip id: 1-64 of A-Z a-z 0-9 _ -") var id: String
        @Option(help: "Display name.") var name: String
        @Option(help: "Rows (1-1000); rows x cols at most 100,000.") var rows: Int
        @Option(help: "Seats per row (1-1000); up to 26 are lettered (12C), more are row-col (12-27).") var cols: Int

        func validate() throws {
            guard Validation.isTripId(id) else { throw ValidationError("trip id must be 1-64 of A-Z a-z 0-9 _ -") }
            guard (1...Validation.maxTripRows).contains(rows) else { throw ValidationError("--rows must be 1...\(Validation.maxTripRows)") }
            guard (1...Validation.maxTripCols).contains(cols) else { throw ValidationError("--cols must be 1...\(Validation.maxTripCols)") }
            guard Validation.isTripSize(rows: rows, cols: cols) else {
                throw ValidationError("--rows x --cols must be at most \(Validation.maxTripSeats) seats")
            }
            guard !name.isEmpty, name.count <= 200 else { throw ValidationError("--name must be 1-200 characters") }
        }

        func run() throws {
            let conn = try PGConnection(try db.url())
            switch try SeatStore(conn).createTrip(id: id, name: name, rows: rows, cols: cols) {
            case .created: print("created trip \(id): \(rows * cols) seats")
            case .exists: throw ValidationError("trip \(id) already exists")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List trips with seat counts.")
        @OptionGroup var db: DatabaseOptions

        func run() throws {
            let trips = try SeatStore(try PGConnection(try db.url())).trips()
            if trips.isEmpty { print("no trips"); return }
            for t in trips { print("\(t.tripId)\t\(t.available)/\(t.seats) available\t\(t.name)") }
        }
    }
}

extension PGError: LocalizedError {
    public var errorDescription: String? { description }
}
