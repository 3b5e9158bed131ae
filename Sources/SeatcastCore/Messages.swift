/// Encoders for every server-to-client message of docs/PROTOCOL.md. Key order follows
/// the examples there. Each returns the UTF-8 JSON of one text frame.
public enum Messages {
    /// A reply: `type`, then `id` when the request had one, then what `members` writes.
    private static func reply(_ type: String, id: String?, _ members: (inout JSONWriter) -> Void = { _ in }) -> [UInt8] {
        JSONWriter.object { w in
            w.field("type", type)
            if let id { w.field("id", id) }
            members(&w)
        }
    }

    /// `confirmed` and `released`: the seats a command changed.
    private static func seatsReply(_ type: String, id: String?, tripId: String, seats: [String]) -> [UInt8] {
        reply(type, id: id) { w in
            w.field("tripId", tripId)
            w.field("seats", strings: seats)
        }
    }

    private static func until(_ w: inout JSONWriter, _ ms: Int64) {
        w.key("until")
        var b: [UInt8] = [UInt8(ascii: "\"")]
        Timestamp.append(ms: ms, to: &b)
        b.append(UInt8(ascii: "\""))
        w.raw(b)
    }

    public static func reserved(id: String?, tripId: String, seats: [String], hold: String, untilMs: Int64) -> [UInt8] {
        reply("reserved", id: id) { w in
            w.field("tripId", tripId)
            w.field("seats", strings: seats)
            w.field("hold", hold)
            until(&w, untilMs)
        }
    }

    /// The answer to `extend` (version 1.1): the hold's seats and its new `until`.
    public static func extended(id: String?, tripId: String, hold: String, seats: [String], untilMs: Int64) -> [UInt8] {
        reply("extended", id: id) { w in
            w.field("tripId", tripId)
            w.field("hold", hold)
            w.field("seats", strings: seats)
            until(&w, untilMs)
        }
    }

    public static func confirmed(id: String?, tripId: String, seats: [String]) -> [UInt8] {
        seatsReply("confirmed", id: id, tripId: tripId, seats: seats)
    }

    public static func released(id: String?, tripId: String, seats: [String]) -> [UInt8] {
        seatsReply("released", id: id, tripId: tripId, seats: seats)
    }

    public static func rejected(id: String?, tripId: String, reason: RejectReason, seats: [String], limit: Int? = nil) -> [UInt8] {
        reply("rejected", id: id) { w in
            w.field("tripId", tripId)
            w.field("reason", reason.rawValue)
            w.field("seats", strings: seats)
            if let limit { w.field("limit", limit) }
        }
    }

    public static func pong(id: String?) -> [UInt8] { reply("pong", id: id) }

    public static func help(id: String?) -> [UInt8] {
        reply("help", id: id) { $0.field("text", RequestDecoder.helpText) }
    }

    /// `tripId`: the trip an error is about when it is not a reply (a subscription the new
    /// token of an `auth` does not cover, version 1.1).
    public static func error(_ e: ProtocolError, tripId: String? = nil) -> [UInt8] {
        reply("error", id: e.id) { w in
            w.field("code", e.code.rawValue)
            w.field("message", e.message)
            if let tripId { w.field("tripId", tripId) }
        }
    }

    /// The answer to `auth` (version 1.1): the new token's buyer and expiry (seconds since
    /// the Unix epoch; a whole number when it is one, as tokens carry it).
    public static func authed(id: String?, sub: String, exp: Double) -> [UInt8] {
        reply("authed", id: id) { w in
            w.field("sub", sub)
            w.key("exp")
            if exp == exp.rounded(), abs(exp) < 1e15 { w.int(Int64(exp)) } else { w.raw(Array("\(exp)".utf8)) }
        }
    }

    /// `POST /api/trips` (version 1.1): the trip created, as `GET /api/trips` lists it.
    public static func trip(_ t: TripSummary) -> [UInt8] {
        JSONWriter.object { w in
            w.field("tripId", t.tripId)
            w.field("name", t.name)
            w.field("seats", t.seats)
            w.field("available", t.available)
        }
    }

    /// `DELETE /api/trips/{id}` (version 1.1).
    public static func tripDeleted(tripId: String) -> [UInt8] {
        JSONWriter.object { w in
            w.field("tripId", tripId)
            w.key("deleted")
            w.bool(true)
        }
    }

    public static func subscribed(id: String?, tripId: String, epoch: String, seq: Int64) -> [UInt8] {
        reply("subscribed", id: id) { w in
            w.field("tripId", tripId)
            w.field("epoch", epoch)
            w.field("seq", seq)
        }
    }

    public static func unsubscribed(id: String?, tripId: String) -> [UInt8] {
        reply("unsubscribed", id: id) { $0.field("tripId", tripId) }
    }

    /// A trip event, encoded once and sent to every subscriber as is.
    public static func event(_ e: TripEvent) -> [UInt8] {
        JSONWriter.object(reserving: 112) { w in
            w.field("type", e.kind.typeName)
            w.field("tripId", e.tripId)
            w.field("seatNo", e.seatNo)
            w.field("seq", e.seq)
            if e.kind == .locked, let u = e.untilMs { until(&w, u) }
            if e.kind == .released { w.field("reason", e.reason ?? "released") }
        }
    }

    /// The members both snapshot forms start with, in the order docs/PROTOCOL.md shows.
    static func snapshotHeader(_ w: inout JSONWriter, _ s: TripSnapshot) {
        w.field("type", "snapshot")
        w.field("tripId", s.tripId)
        w.field("name", s.name)
        w.field("epoch", s.epoch)
        w.field("seq", s.seq)
        w.field("rows", s.rows)
        w.field("cols", s.cols)
    }

    public static func snapshot(_ s: TripSnapshot) -> [UInt8] {
        JSONWriter.object(reserving: 96 + s.seats.count * 56) { w in
            snapshotHeader(&w, s)
            w.field("seats", objects: s.seats) { w, seat in
                w.field("seatNo", seat.seatNo)
                w.field("row", seat.row)
                w.field("col", seat.col)
                w.field("status", seat.status.name)
                if seat.status == .held, let u = seat.untilMs { until(&w, u) }
            }
        }
    }

    /// `{"tripId":"T1","violations":[{"seatNo":"1A","problem":"..."}]}`
    public static func audit(tripId: String, _ list: [AuditViolation]) -> [UInt8] {
        JSONWriter.object { w in
            w.field("tripId", tripId)
            w.field("violations", objects: list) { w, v in
                w.key("seatNo")
                if let s = v.seatNo { w.string(s) } else { w.null() }
                w.field("problem", v.problem)
            }
        }
    }

    public static func trips(_ list: [TripSummary]) -> [UInt8] {
        JSONWriter.object { w in
            w.field("trips", objects: list) { w, t in
                w.field("tripId", t.tripId)
                w.field("name", t.name)
                w.field("seats", t.seats)
                w.field("available", t.available)
            }
        }
    }
}
