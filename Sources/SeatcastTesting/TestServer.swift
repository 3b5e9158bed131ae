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
