import Foundation
import SeatcastApp
import SeatcastCore
import SeatcastTesting
import Testing

/// Server settings for the issue 10 tests (docs/PROTOCOL.md 1.1, "Who may do what").
struct Secured: Sendable {
    var apiKey = true
    var tokenSecret = true
    var publicRead = false
    var buyerConfirm = false
    var maxHeld = 10
    var skew = BuyerToken.defaultSkew
    var allowedOrigins: [String] = []

    static let open = Secured(apiKey: false, tokenSecret: false)

    func apply(_ c: inout AppConfig) {
        if apiKey { c.apiKey = TestTokens.apiKey }
        if tokenSecret { c.tokenSecret = TestTokens.secret }
        c.publicRead = publicRead
        c.buyerConfirm = buyerConfirm
        c.maxHeld = maxHeld
        c.tokenSkew = skew
        c.allowedOrigins = allowedOrigins
    }
}

extension TestServer {
    /// `withTrip` with the given credentials configured.
    static func withTrip(_ secured: Secured, rows: Int = 4, cols: Int = 4, _ body: (TestServer, String) throws -> Void) throws {
        try withTrip(rows: rows, cols: cols, configure: { secured.apply(&$0) }, body)
    }
}

/// What a test compares to prove a refusal changed nothing: every seat's state and the
/// trip's events.
struct TripState: Equatable, CustomStringConvertible {
    var seats: [String]
    var events: Int

    init(_ trip: String, db: TestDatabase = .shared) throws {
        seats = try db.snapshot(trip).seats.map { "\($0.seatNo)=\($0.status.name)" }
        let r = try db.sql("SELECT count(*) FROM seat_events WHERE trip_id = $1", [trip])
        events = Int(r.string(0, 0) ?? "") ?? -1
    }

    var description: String { "\(events) events; " + seats.filter { !$0.hasSuffix("=available") }.joined(separator: " ") }
}

/// A WebSocket upgrade request for `path` with extra headers.
func upgrade(_ path: String, headers: [String: String] = [:], host: String = "127.0.0.1") -> String {
    var s = "GET \(path) HTTP/1.1\r\nHost: \(host)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    s += "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    for (k, v) in headers.sorted(by: { $0.key < $1.key }) { s += "\(k): \(v)\r\n" }
    return s + "\r\n"
}

/// The answer to an upgrade: 101 (read until its head is in) or the refusal with its body.
func handshake(_ server: TestServer, _ path: String, headers: [String: String] = [:], host: String = "127.0.0.1") throws -> RawResponse? {
    let x = try RawHTTP.exchange(port: server.port, upgrade(path, headers: headers, host: host), timeout: 5) {
        guard let head = $0.responses(headOnly: true).first else { return false }
        return head.status == 101 || !$0.responses().isEmpty
    }
    guard let head = x.responses(headOnly: true).first else { return nil }
    return head.status == 101 ? head : x.responses().first
}

extension WSClient {
    /// Sends `json` (with `"id":"<id>"` added) and returns the reply to it.
    func ask(_ json: String, id: String = "q\(UInt32.random(in: 0...UInt32.max))", timeout: Double = 5) throws -> JSON {
        var text = json
        text.removeLast()
        try send(text + #","id":"\#(id)"}"#)
        return try reply(id: id, timeout: timeout)
    }
}

extension JSON {
    var type: String? { self["type"]?.stringValue }
    var code: String? { self["code"]?.stringValue }
}

/// The status and parsed body of an HTTP answer.
func parsed(_ answer: (status: Int, body: String)) -> (status: Int, json: JSON?) {
    (answer.status, try? JSON.parse(answer.body))
}
