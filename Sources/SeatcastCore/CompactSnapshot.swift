/// The compact form of a snapshot (docs/PROTOCOL.md, "Compact snapshot"): one character per
/// seat, row-major (`a` available, `h` held, `b` booked), plus `until` of each held seat
/// keyed by its 0-based index. Seat names are not sent: a client derives them from row
/// and column with `SeatNumbering`.
///
/// It is offered only for a trip whose seats are exactly its `rows` x `cols` grid, in
/// row-major order, each named as `SeatNumbering` names it: every trip `createTrip`
/// (CLI, `POST /api/trips`) makes. A trip whose seats were changed by hand (a seat
/// deleted, renamed or added outside the grid) could not be described by one character
/// per grid cell, so it gets the full snapshot even when the client asked for compact;
/// a client tells the two apart by `compact` (or `seats`) in the message.
public enum CompactSnapshot {
    /// Whether `seats` (in snapshot order: row, then column) is exactly the grid.
    public static func isGrid(rows: Int, cols: Int, seats: [SeatState]) -> Bool {
        guard rows > 0, cols > 0, seats.count == rows * cols else { return false }
        var i = 0
        while i < seats.count {
            let s = seats[i]
            let row = i / cols + 1, col = i % cols + 1
            guard s.row == row, s.col == col,
                  let p = SeatNumbering.position(of: s.seatNo, cols: cols), p.row == row, p.col == col else { return false }
            i += 1
        }
        return true
    }

    public static func isGrid(_ s: TripSnapshot) -> Bool { isGrid(rows: s.rows, cols: s.cols, seats: s.seats) }

    /// The compact snapshot message. Precondition: `isGrid(s)`.
    public static func encode(_ s: TripSnapshot) -> [UInt8] {
        var held = 0
        for seat in s.seats where seat.status == .held { held += 1 }
        var w = JSONWriter(reserving: 160 + s.seats.count + held * 36)
        w.beginObject()
        Messages.snapshotHeader(&w, s)
        w.key("compact")
        w.bool(true)
        var status: [UInt8] = []
        status.reserveCapacity(s.seats.count + 2)
        status.append(UInt8(ascii: "\""))
        for seat in s.seats {
            switch seat.status {
            case .available: status.append(UInt8(ascii: "a"))
            case .held: status.append(UInt8(ascii: "h"))
            case .booked: status.append(UInt8(ascii: "b"))
            }
        }
        status.append(UInt8(ascii: "\""))
        w.key("status")
        w.raw(status)
        w.key("until")
        w.beginObject()
        var i = 0
        while i < s.seats.count {
            if s.seats[i].status == .held, let u = s.seats[i].untilMs {
                w.key(String(i))
                var b: [UInt8] = [UInt8(ascii: "\"")]
                Timestamp.append(ms: u, to: &b)
                b.append(UInt8(ascii: "\""))
                w.raw(b)
            }
            i += 1
        }
        w.endObject()
        w.endObject()
        return w.bytes
    }

    /// The compact form when the trip is a grid, else the full one.
    public static func encodeIfGrid(_ s: TripSnapshot) -> [UInt8] {
        isGrid(s) ? encode(s) : Messages.snapshot(s)
    }

    /// Reads a compact snapshot message back into a `TripSnapshot` (seat names from
    /// `SeatNumbering`), as a client does; nil when `j` is not one.
    public static func decode(_ j: JSON) -> TripSnapshot? {
        guard j["type"]?.stringValue == "snapshot", j["compact"] == .bool(true),
              let trip = j["tripId"]?.stringValue, let epoch = j["epoch"]?.stringValue,
              let seq = j["seq"]?.int64Value, let rows = j["rows"]?.int64Value, let cols = j["cols"]?.int64Value,
              rows > 0, cols > 0, let status = j["status"]?.stringValue else { return nil }
        let codes = Array(status.utf8)
        guard codes.count == Int(rows * cols) else { return nil }
        var untils: [Int: Int64] = [:]
        if case let .object(members)? = j["until"] {
            for (k, v) in members {
                guard let i = Int(k), let t = v.stringValue, let ms = Timestamp.parse(t) else { return nil }
                untils[i] = ms
            }
        }
        var seats: [SeatState] = []
        seats.reserveCapacity(codes.count)
        let c = Int(cols)
        for (i, code) in codes.enumerated() {
            let st: SeatStatus
            switch code {
            case UInt8(ascii: "a"): st = .available
            case UInt8(ascii: "h"): st = .held
            case UInt8(ascii: "b"): st = .booked
            default: return nil
            }
            let row = i / c + 1, col = i % c + 1
            seats.append(SeatState(seatNo: SeatNumbering.seatNo(row: row, col: col, cols: c), row: row, col: col,
                                   status: st, untilMs: st == .held ? untils[i] : nil))
        }
        return TripSnapshot(tripId: trip, name: j["name"]?.stringValue ?? "", rows: Int(rows), cols: c,
                            epoch: epoch, seq: seq, seats: seats)
    }
}
