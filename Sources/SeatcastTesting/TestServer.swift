import Foundation
import SeatcastApp
import SeatcastCore

/// A seatcast server in this process on a free port, against the test database.
public final class TestServer: Sendable {
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

    /// A WebSocket client connected to `path` (default `/ws`).
    public func client(_ path: String = "/ws", headers: [String: String] = [:], receiveBuffer: Int? = nil) throws -> WSClient {
        try WSClient(port: port, path: path, headers: headers, receiveBuffer: receiveBuffer)
    }

    /// A client subscribed to the trip by URL, its snapshot already received.
    public func subscriber(_ tripId: String) throws -> (WSClient, ClientMap) {
        let c = try client("/ws/trips/\(tripId)")
        let snap = try c.next(type: "snapshot")
        return (c, try ClientMap(snapshot: snap))
    }

    public func http(_ method: String, _ path: String, body: String? = nil) throws -> (status: Int, body: String) {
        try HTTPClient.request(port: port, method: method, path: path, body: body)
    }
}
