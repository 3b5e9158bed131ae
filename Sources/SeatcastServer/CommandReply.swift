import SeatcastCore

// Owns: how a command's outcome is answered (docs/PROTOCOL.md's reply shapes and HTTP statuses)
// and labelled in metrics. Pure; called on the database threads, in reply closures.

enum CommandReply {
    /// The reply to a command, as docs/PROTOCOL.md shapes it.
    static func encode(_ o: CommandOutcome, id: String?, command c: Command) -> [UInt8] {
        switch o {
        case let .reserved(seats, until):
            guard case let .reserve(_, _, hold) = c else { return [] }
            return Messages.reserved(id: id, tripId: c.tripId, seats: seats, hold: hold, untilMs: until)
        case let .extended(seats, until):
            guard case let .extend(_, hold, _) = c else { return [] }
            return Messages.extended(id: id, tripId: c.tripId, hold: hold, seats: seats, untilMs: until)
        case let .confirmed(seats): return Messages.confirmed(id: id, tripId: c.tripId, seats: seats)
        case let .released(seats): return Messages.released(id: id, tripId: c.tripId, seats: seats)
        case let .rejected(reason, seats): return Messages.rejected(id: id, tripId: c.tripId, reason: reason, seats: seats)
        case let .overQuota(seats, limit):
            return Messages.rejected(id: id, tripId: c.tripId, reason: .quota, seats: seats, limit: limit)
        case var .failed(e):
            e.id = id
            return Messages.error(e)
        }
    }

    /// The HTTP status of a command's answer (docs/PROTOCOL.md, "HTTP").
    static func httpStatus(_ o: CommandOutcome) -> Int {
        switch o {
        case .reserved, .extended, .confirmed, .released: return 200
        case .rejected, .overQuota: return 409
        case let .failed(e): return e.code.httpStatus
        }
    }

    /// `reserve:reserved`, `confirm:rejected:hold_expired`, `release:error:unknown_seat`...
    static func label(_ type: String, _ o: CommandOutcome) -> String {
        switch o {
        case .reserved: return "\(type):reserved"
        case .extended: return "\(type):extended"
        case .confirmed: return "\(type):confirmed"
        case .released: return "\(type):released"
        case let .rejected(reason, _): return "\(type):rejected:\(reason.rawValue)"
        case .overQuota: return "\(type):rejected:quota"
        case let .failed(e): return "\(type):error:\(e.code.rawValue)"
        }
    }
}
