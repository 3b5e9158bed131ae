import Foundation
import SeatcastCore

/// A seatcast server a test talks to on 127.0.0.1, in this process (`TestServer`) or in
/// a child process: everything a test does with one goes through its port.
public protocol RunningServer {
    var port: Int { get }
}

extension RunningServer {
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

    /// A subscriber that follows the trip on its own (see `SeatFollower`).
    public func follower(_ tripId: String, name: String) throws -> SeatFollower {
        try SeatFollower(port: port, tripId: tripId, name: name)
    }

    public func http(_ method: String, _ path: String, body: String? = nil, headers: [String: String] = [:]) throws -> (status: Int, body: String) {
        try HTTPClient.request(port: port, method: method, path: path, body: body, headers: headers)
    }

    /// An HTTP request with `Authorization: Bearer credential`.
    public func http(_ method: String, _ path: String, body: String? = nil, bearer: String) throws -> (status: Int, body: String) {
        try http(method, path, body: body, headers: ["Authorization": "Bearer \(bearer)"])
    }

    /// A WebSocket client presenting a buyer token as `?token=` on `path`.
    public func client(_ path: String = "/ws", token: String, headers: [String: String] = [:]) throws -> WSClient {
        try client(path + (path.contains("?") ? "&" : "?") + "token=" + token, headers: headers)
    }

    /// The value of a counter or gauge from GET /metrics: `name` is everything before
    /// the value, labels included (`seatcast_requests_total{type="ping"}`).
    public func metric(_ name: String) throws -> Double {
        let (status, body) = try http("GET", "/metrics")
        guard status == 200 else { throw TestFailure("GET /metrics: \(status)") }
        for line in body.split(separator: "\n") where line.hasPrefix(name + " ") {
            if let v = Double(line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces)) { return v }
        }
        throw TestFailure("no \(name) in /metrics")
    }
}
