import Foundation
import SeatcastApp
import SeatcastCore

/// A seatcast server in this process on a free port, against the test database.
public final class TestServer: RunningServer, Sendable {
    public let app: Application

    public init(database: TestDatabase = .shared, configure: (inout AppConfig) -> Void = { _ in }) throws {
        var c = AppConfig(databaseURL: database.url)
        c.port = 0
        c.host = "127.0.0.1"
        c.quiet = true
        c.publicDir = TestDatabase.packageRoot + "/Public"
        configure(&c)
        app = Application(c)
        try app.start()
    }

    public var port: Int { app.port }

    public func stop() { app.stop() }
}

extension TestServer {
    /// Where most server tests start: a fresh trip (`rows` x `cols`) on `database` and a
    /// server; runs `body` with both and stops the server however `body` ends.
    public static func withTrip(rows: Int = 12, cols: Int = 4, name: String = "Test trip", database: TestDatabase = .shared,
                                configure: (inout AppConfig) -> Void = { _ in },
                                _ body: (_ server: TestServer, _ trip: String) throws -> Void) throws {
        let trip = try database.createTrip(rows: rows, cols: cols, name: name)
        let server = try TestServer(database: database, configure: configure)
        defer { server.stop() }
        try body(server, trip)
    }
}
