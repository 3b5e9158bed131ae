import SeatcastCore

/// A client's view of a trip, built the way PROTOCOL.md tells clients to: take a
/// snapshot, apply later events in seq order, replace everything on a new snapshot.
public struct ClientMap: Sendable {
    public private(set) var map: TripMap
    public var seq: Int64 { map.seq }

    public init(snapshot json: JSON) throws {
        map = TripMap(try Self.parseSnapshot(json))
    }

    public static func parseSnapshot(_ j: JSON) throws -> TripSnapshot {
        guard j["type"]?.stringValue == "snapshot", let trip = j["tripId"]?.stringValue, let seq = j["seq"]?.int64Value,
              let epoch = j["epoch"]?.stringValue, let rows = j["rows"]?.int64Value, let cols = j["cols"]?.int64Value,
              let seats = j["seats"]?.arrayValue else { throw TestFailure("not a snapshot: \(j.text.prefix(200))") }
        return TripSnapshot(tripId: trip, name: j["name"]?.stringValue ?? "", rows: Int(rows), cols: Int(cols), epoch: epoch, seq: seq,
                            seats: try seats.map { s in
                                guard let no = s["seatNo"]?.stringValue, let st = s["status"]?.stringValue.flatMap(SeatStatus.init(name:)),
                                      let r = s["row"]?.int64Value, let c = s["col"]?.int64Value else { throw TestFailure("bad seat") }
                                return SeatState(seatNo: no, row: Int(r), col: Int(c), status: st,
                                                 untilMs: s["until"]?.stringValue.flatMap(Self.parseMs))
                            })
    }

    /// Applies one message: an event (must be the next seq) or a snapshot. Other messages are ignored.
    public mutating func apply(_ j: JSON) throws {
        switch j["type"]?.stringValue {
        case "snapshot":
            map = TripMap(try Self.parseSnapshot(j))
        case "seat_locked", "seat_released", "seat_booked":
            guard j["tripId"]?.stringValue == map.tripId else { return }
            let kind: TripEvent.Kind = j["type"]!.stringValue == "seat_locked" ? .locked : j["type"]!.stringValue == "seat_booked" ? .booked : .released
            let e = TripEvent(tripId: map.tripId, seq: j["seq"]?.int64Value ?? -1, seatNo: j["seatNo"]?.stringValue ?? "",
                              kind: kind, untilMs: j["until"]?.stringValue.flatMap(Self.parseMs), reason: j["reason"]?.stringValue)
            let r = map.apply(e)
            guard r == .applied else { throw TestFailure("event seq \(e.seq) on map at \(map.seq): \(r)") }
        default:
            return
        }
    }

    /// Status of every seat, for comparisons (until is compared separately when needed).
    public var statuses: [String: SeatStatus] {
        Dictionary(uniqueKeysWithValues: map.snapshot.seats.map { ($0.seatNo, $0.status) })
    }

    /// Parses `2026-11-21T19:30:00.000Z` to ms since the epoch.
    public static func parseMs(_ s: String) -> Int64? {
        let u = Array(s.utf8)
        guard u.count == 24, u[23] == UInt8(ascii: "Z") else { return nil }
        func num(_ a: Int, _ b: Int) -> Int64? { Int64(String(decoding: u[a..<b], as: UTF8.self)) }
        guard let y = num(0, 4), let mo = num(5, 7), let d = num(8, 10), let h = num(11, 13), let mi = num(14, 16),
              let se = num(17, 19), let ms = num(20, 23) else { return nil }
        // days from civil (Howard Hinnant)
        let yy = mo <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return ((days * 24 + h) * 60 + mi) * 60_000 + se * 1000 + ms
    }
}
