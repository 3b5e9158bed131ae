/// Encoders for every server-to-client message of PROTOCOL.md. Key order follows
/// the examples there. Each returns the UTF-8 JSON of one text frame.
public enum Messages {
    private static func begin(_ type: String, id: String?) -> JSONWriter {
        var w = JSONWriter()
        w.beginObject()
        w.field("type", type)
        if let id { w.field("id", id) }
        return w
    }

    private static func until(_ w: inout JSONWriter, _ ms: Int64) {
        w.key("until")
        var b: [UInt8] = [UInt8(ascii: "\"")]
        Timestamp.append(ms: ms, to: &b)
        b.append(UInt8(ascii: "\""))
        w.raw(b)
    }

    public static func reserved(id: String?, tripId: String, seats: [String], hold: String, untilMs: Int64) -> [UInt8] {
        var w = begin("reserved", id: id)
        w.field("tripId", tripId)
        w.field("seats", strings: seats)
        w.field("hold", hold)
        until(&w, untilMs)
        w.endObject()
        return w.bytes
    }

    /// The answer to `extend` (version 1.1): the hold's seats and its new `until`.
    public static func extended(id: String?, tripId: String, hold: String, seats: [String], untilMs: Int64) -> [UInt8] {
        var w = begin("extended", id: id)
        w.field("tripId", tripId)
        w.field("hold", hold)
        w.field("seats", strings: seats)
        until(&w, untilMs)
        w.endObject()
        return w.bytes
    }

    public static func confirmed(id: String?, tripId: String, seats: [String]) -> [UInt8] {
        var w = begin("confirmed", id: id)
        w.field("tripId", tripId)
        w.field("seats", strings: seats)
        w.endObject()
        return w.bytes
    }

    public static func released(id: String?, tripId: String, seats: [String]) -> [UInt8] {
        var w = begin("released", id: id)
        w.field("tripId", tripId)
        w.field("seats", strings: seats)
        w.endObject()
        return w.bytes
    }

    public static func rejected(id: String?, tripId: String, reason: RejectReason, seats: [String]) -> [UInt8] {
        var w = begin("rejected", id: id)
        w.field("tripId", tripId)
        w.field("reason", reason.rawValue)
        w.field("seats", strings: seats)
        w.endObject()
        return w.bytes
    }

    public static func pong(id: String?) -> [UInt8] {
        var w = begin("pong", id: id)
        w.endObject()
        return w.bytes
    }

    public static func help(id: String?) -> [UInt8] {
        var w = begin("help", id: id)
        w.field("text", RequestDecoder.helpText)
        w.endObject()
        return w.bytes
    }

    public static func error(_ e: ProtocolError) -> [UInt8] {
        var w = begin("error", id: e.id)
        w.field("code", e.code.rawValue)
        w.field("message", e.message)
        w.endObject()
        return w.bytes
    }

    public static func subscribed(id: String?, tripId: String, epoch: String, seq: Int64) -> [UInt8] {
        var w = begin("subscribed", id: id)
        w.field("tripId", tripId)
        w.field("epoch", epoch)
        w.field("seq", seq)
        w.endObject()
        return w.bytes
    }

    public static func unsubscribed(id: String?, tripId: String) -> [UInt8] {
        var w = begin("unsubscribed", id: id)
        w.field("tripId", tripId)
        w.endObject()
        return w.bytes
    }

    /// A trip event, encoded once and sent to every subscriber as is.
    public static func event(_ e: TripEvent) -> [UInt8] {
        var w = JSONWriter(reserving: 112)
        w.beginObject()
        w.field("type", e.kind.typeName)
        w.field("tripId", e.tripId)
        w.field("seatNo", e.seatNo)
        w.field("seq", e.seq)
        if e.kind == .locked, let u = e.untilMs { until(&w, u) }
        if e.kind == .released { w.field("reason", e.reason ?? "released") }
        w.endObject()
        return w.bytes
    }

    public static func snapshot(_ s: TripSnapshot) -> [UInt8] {
        var w = JSONWriter(reserving: 96 + s.seats.count * 56)
        w.beginObject()
        w.field("type", "snapshot")
        w.field("tripId", s.tripId)
        w.field("name", s.name)
        w.field("epoch", s.epoch)
        w.field("seq", s.seq)
        w.field("rows", s.rows)
        w.field("cols", s.cols)
        w.key("seats")
        w.beginArray()
        for seat in s.seats {
            w.beginObject()
            w.field("seatNo", seat.seatNo)
            w.field("row", seat.row)
            w.field("col", seat.col)
            w.field("status", seat.status.name)
            if seat.status == .held, let u = seat.untilMs { until(&w, u) }
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }

    /// `{"tripId":"T1","violations":[{"seatNo":"1A","problem":"..."}]}`
    public static func audit(tripId: String, _ list: [AuditViolation]) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.field("tripId", tripId)
        w.key("violations")
        w.beginArray()
        for v in list {
            w.beginObject()
            w.key("seatNo")
            if let s = v.seatNo { w.string(s) } else { w.null() }
            w.field("problem", v.problem)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }

    public static func trips(_ list: [TripSummary]) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("trips")
        w.beginArray()
        for t in list {
            w.beginObject()
            w.field("tripId", t.tripId)
            w.field("name", t.name)
            w.field("seats", t.seats)
            w.field("available", t.available)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }
}
