import ArgumentParser
import Foundation
import SeatcastClient
import SeatcastCore

/// Where a client command connects.
struct ServerOptions: ParsableArguments {
    @Option(help: "Server WebSocket URL (default: ws://127.0.0.1:$PORT or ws://127.0.0.1:8080).")
    var url: String?

    func resolved() throws -> WebSocketURL {
        let text = url ?? "ws://127.0.0.1:\(ProcessInfo.processInfo.environment["PORT"] ?? "8080")"
        guard let u = WebSocketURL(text) else { throw ValidationError("--url must look like ws://HOST:PORT") }
        return u
    }
}

/// The buyer token a client command presents (`?token=` on the WebSocket URL).
struct BuyerTokenOption: ParsableArguments {
    @Option(help: "Buyer token (JWT) for a server run with --token-secret (default: $SEATCAST_TOKEN; mint one with `seatcast token`).")
    var token: String?

    /// What to say when the server refused the handshake with 401.
    static let refused = "the server wants a buyer token: pass --token (mint one with `seatcast token`)"

    var resolved: String? {
        let t = token ?? ProcessInfo.processInfo.environment["SEATCAST_TOKEN"]
        return t.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// `server`'s URL with this token.
    func url(_ server: ServerOptions) throws -> WebSocketURL { try server.resolved().with(token: resolved) }

    /// Words for a failed connection: the hint above for a 401, else how it ended.
    static func describe(_ closed: WebSocketConnection.Closed) -> String {
        closed.unauthorized ? "\(refused) (\(closed.reason))" : "\(closed)"
    }
}

struct Watch: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a trip's live seat map in the terminal (reconnects and resumes by itself).")
    @OptionGroup var server: ServerOptions
    @OptionGroup var auth: BuyerTokenOption
    @Argument(help: "Trip id.") var trip: String
    @Flag(name: .customLong("no-color"), help: "Markers only, no ANSI colours.") var noColor = false

    func run() throws {
        guard Validation.isTripId(trip) else { throw ValidationError("trip id must be 1-64 of A-Z a-z 0-9 _ -") }
        let color = !noColor && isatty(1) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        let watcher = Watcher(url: try auth.url(server), tripId: trip, color: color) { screen in
            FileHandle.standardOutput.write(Data(screen.utf8))
        }
        let fatal = watcher.run()
        let why = watcher.unauthorized ? "\(BuyerTokenOption.refused) (\(fatal))" : fatal
        FileHandle.standardError.write(Data("seatcast watch: \(why)\n".utf8))
        throw ExitCode(1)
    }
}

/// Sends one request and prints the reply; exits 0 on success, 1 when rejected or refused.
func runOneShot(_ server: ServerOptions, _ auth: BuyerTokenOption, type: String, trip: String, seats: [String]?, hold: String?,
                count: Int? = nil, together: Bool = false, seconds: Int? = nil) throws {
    let request = OneShot.request(type: type, tripId: trip, seats: seats, hold: hold,
                                  count: count, together: together, seconds: seconds)
    switch OneShot.run(url: try auth.url(server), request: request) {
    case let .success(reply):
        print(reply.text)
        if !reply.succeeded { throw ExitCode(1) }
    case let .failure(closed):
        FileHandle.standardError.write(Data("seatcast \(type): \(BuyerTokenOption.describe(closed))\n".utf8))
        throw ExitCode(2)
    }
}

struct Reserve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Hold seats, or with --count the best available ones; prints the reply (with the hold token).")
    @OptionGroup var server: ServerOptions
    @OptionGroup var auth: BuyerTokenOption
    @Argument(help: "Trip id.") var trip: String
    @Argument(help: "Seats, e.g. 3A 3B (or none with --count).") var seats: [String] = []
    @Option(help: "Hold token to reserve under (default: the server makes one).") var hold: String?
    @Option(help: "Let the server pick this many of the best available seats instead of naming them.") var count: Int?
    @Flag(help: "With --count: the seats side by side in one row.") var together = false

    func validate() throws {
        if count == nil && seats.isEmpty { throw ValidationError("name the seats or give --count") }
        if count != nil && !seats.isEmpty { throw ValidationError("give either seats or --count, not both") }
        if together && count == nil { throw ValidationError("--together needs --count") }
    }

    func run() throws {
        try runOneShot(server, auth, type: "reserve", trip: trip, seats: seats, hold: hold, count: count, together: together)
    }
}

/// What confirm and release take: a hold and, optionally, some of its seats.
struct HoldArguments: ParsableArguments {
    @OptionGroup var server: ServerOptions
    @OptionGroup var auth: BuyerTokenOption
    @Argument(help: "Trip id.") var trip: String
    @Argument(help: "Hold token.") var hold: String
    @Argument(help: "Seats (default: all of the hold's).") var seats: [String] = []

    func run(_ type: String) throws { try runOneShot(server, auth, type: type, trip: trip, seats: seats, hold: hold) }
}

struct Confirm: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Book the seats of a hold (all of them unless listed).")
    @OptionGroup var arguments: HoldArguments

    func run() throws { try arguments.run("confirm") }
}

struct Release: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Release the seats of a hold (all of them unless listed).")
    @OptionGroup var arguments: HoldArguments

    func run() throws { try arguments.run("release") }
}

struct Extend: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Extend a hold (by the hold TTL unless SECONDS is given, up to the server's --max-hold); prints the reply.")
    @OptionGroup var server: ServerOptions
    @OptionGroup var auth: BuyerTokenOption
    @Argument(help: "Trip id.") var trip: String
    @Argument(help: "Hold token.") var hold: String
    @Argument(help: "Seconds from now (default: the hold TTL).") var seconds: Int?

    func validate() throws {
        if let seconds, seconds < 1 { throw ValidationError("SECONDS must be a whole number of at least 1") }
    }

    func run() throws { try runOneShot(server, auth, type: "extend", trip: trip, seats: nil, hold: hold, seconds: seconds) }
}
