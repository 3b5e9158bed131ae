import Foundation
import SeatcastCore

/// `seatcast watch`: a live seat map in the terminal. Subscribes, redraws on every
/// snapshot and event, and after a lost connection reconnects with backoff and jitter,
/// resuming from its last `seq` (docs/PROTOCOL.md semantics 6).
public final class Watcher {
    let base: WebSocketURL
    let tripId: String
    let color: Bool
    let write: (String) -> Void
    var map: TripMap?
    var state = "connecting"
    /// Set when the server answers with an error that retrying cannot fix.
    public private(set) var fatal: String?
    /// The server refused the handshake with 401 (no, a bad or an expired buyer token): fatal
    /// too, since the same token would be refused again.
    public private(set) var unauthorized = false

    public init(url: WebSocketURL, tripId: String, color: Bool, write: @escaping (String) -> Void) {
        base = url
        self.tripId = tripId
        self.color = color
        self.write = write
    }

    /// Runs until a fatal error (returned) or the process ends.
    public func run() -> String {
        var backoff = 0.25
        while fatal == nil {
            let conn = WebSocketConnection(url: base.with(path: "/ws"))
            let ended = conn.run { [self] c, event in
                switch event {
                case .open:
                    state = "live"
                    backoff = 0.25
                    subscribe(c)
                case let .message(text):
                    handle(text, c)
                }
            }
            if fatal != nil { break }
            if ended.unauthorized {
                unauthorized = true
                fatal = "unauthorized: the server refused the connection (HTTP 401): \(ended.reason)"
                break
            }
            let wait = backoff * Double.random(in: 0.5...1.5)
            state = "reconnecting in \(String(format: "%.1f", wait)) s (\(ended))"
            draw()
            Thread.sleep(forTimeInterval: wait)
            backoff = min(backoff * 2, 8)
        }
        return fatal ?? ""
    }

    func subscribe(_ c: WebSocketConnection) {
        var w = JSONWriter()
        w.beginObject()
        w.field("type", "subscribe")
        w.field("tripId", tripId)
        if let map {
            w.key("since")
            w.beginObject()
            w.field("epoch", map.epoch)
            w.field("seq", map.seq)
            w.endObject()
        }
        w.endObject()
        c.send(String(decoding: w.bytes, as: UTF8.self))
    }

    func handle(_ text: String, _ c: WebSocketConnection) {
        guard let j = try? JSON.parse(text) else { return }
        switch j["type"]?.stringValue {
        case "snapshot":
            if let s = try? Self.snapshot(j) { map = TripMap(s) }
        case "seat_locked", "seat_released", "seat_booked":
            guard var m = map, let e = Self.event(j, tripId: tripId) else { return }
            switch m.apply(e) {
            case .applied: map = m
            case .stale: return
            case .gap, .unknownSeat: subscribe(c)  // resume from our seq
            }
        case "error":
            let code = j["code"]?.stringValue ?? "error"
            let message = j["message"]?.stringValue ?? ""
            // An unknown trip, or one this buyer token is not for: retrying cannot help.
            if code == "unknown_trip" || code == "forbidden" || code == "unauthorized" {
                fatal = "\(code): \(message)"
                c.close()
            }
            state = "live (\(code): \(message))"
        default:
            return
        }
        draw()
    }

    func draw() {
        var screen = "\u{1B}[H\u{1B}[2J"
        if let map {
            screen += SeatMapRenderer.render(map.snapshot, status: state, color: color)
        } else {
            screen += "seatcast watch \(tripId): \(state)\n"
        }
        write(screen)
    }

    static func snapshot(_ j: JSON) throws -> TripSnapshot {
        guard let trip = j["tripId"]?.stringValue, let seq = j["seq"]?.int64Value, let epoch = j["epoch"]?.stringValue,
              let rows = j["rows"]?.int64Value, let cols = j["cols"]?.int64Value, let seats = j["seats"]?.arrayValue else {
            throw ProtocolError(.badRequest, "not a snapshot")
        }
        return TripSnapshot(tripId: trip, name: j["name"]?.stringValue ?? trip, rows: Int(rows), cols: Int(cols), epoch: epoch,
                            seq: seq, seats: seats.compactMap { s in
                                guard let no = s["seatNo"]?.stringValue, let r = s["row"]?.int64Value, let c = s["col"]?.int64Value,
                                      let st = s["status"]?.stringValue.flatMap(SeatStatus.init(name:)) else { return nil }
                                return SeatState(seatNo: no, row: Int(r), col: Int(c), status: st)
                            })
    }

    static func event(_ j: JSON, tripId: String) -> TripEvent? {
        guard j["tripId"]?.stringValue == tripId, let seq = j["seq"]?.int64Value, let seat = j["seatNo"]?.stringValue else { return nil }
        let kind: TripEvent.Kind
        switch j["type"]?.stringValue {
        case "seat_locked": kind = .locked
        case "seat_booked": kind = .booked
        default: kind = .released
        }
        return TripEvent(tripId: tripId, seq: seq, seatNo: seat, kind: kind, reason: j["reason"]?.stringValue)
    }
}
