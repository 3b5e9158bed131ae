/// A seat's status as the database and every client see it; the raw value is that name
/// (`seats.status`, a snapshot's `status`).
public enum SeatStatus: String, Sendable {
    case available, held, booked

    public var name: String { rawValue }

    public init?(name: String) { self.init(rawValue: name) }
}

/// One seat of a snapshot.
public struct SeatState: Sendable, Equatable {
    public var seatNo: String
    public var row: Int
    public var col: Int
    public var status: SeatStatus
    /// Expiry of a hold, ms since the Unix epoch; nil unless `status == .held`.
    public var untilMs: Int64?

    public init(seatNo: String, row: Int, col: Int, status: SeatStatus, untilMs: Int64? = nil) {
        self.seatNo = seatNo
        self.row = row
        self.col = col
        self.status = status
        self.untilMs = untilMs
    }
}

/// A trip's seats and their stream position, read in one database snapshot.
public struct TripSnapshot: Sendable, Equatable {
    public var tripId: String
    public var name: String
    public var rows: Int
    public var cols: Int
    public var epoch: String
    public var seq: Int64
    public var seats: [SeatState]

    public init(tripId: String, name: String, rows: Int, cols: Int, epoch: String, seq: Int64, seats: [SeatState]) {
        self.tripId = tripId
        self.name = name
        self.rows = rows
        self.cols = cols
        self.epoch = epoch
        self.seq = seq
        self.seats = seats
    }
}

/// One committed seat change from the `seat_events` outbox.
public struct TripEvent: Sendable, Equatable {
    /// The raw value is the outbox's `kind` column.
    public enum Kind: String, Sendable {
        case locked, released, booked

        public var typeName: String {
            switch self {
            case .locked: return "seat_locked"
            case .released: return "seat_released"
            case .booked: return "seat_booked"
            }
        }
    }

    public var tripId: String
    public var seq: Int64
    public var seatNo: String
    public var kind: Kind
    public var untilMs: Int64?
    /// `released` or `expired` for `seat_released`.
    public var reason: String?
    /// When the database wrote the event (ms since the Unix epoch), for latency metrics;
    /// not part of the wire format.
    public var atMs: Int64?

    public init(tripId: String, seq: Int64, seatNo: String, kind: Kind, untilMs: Int64? = nil, reason: String? = nil,
                atMs: Int64? = nil) {
        self.tripId = tripId
        self.seq = seq
        self.seatNo = seatNo
        self.kind = kind
        self.untilMs = untilMs
        self.reason = reason
        self.atMs = atMs
    }

    /// Equality of what clients see (the write time is not part of it).
    public static func == (a: TripEvent, b: TripEvent) -> Bool {
        a.tripId == b.tripId && a.seq == b.seq && a.seatNo == b.seatNo && a.kind == b.kind
            && a.untilMs == b.untilMs && a.reason == b.reason
    }
}

/// A line of `GET /api/trips`.
public struct TripSummary: Sendable, Equatable {
    public var tripId: String
    public var name: String
    public var seats: Int
    public var available: Int

    public init(tripId: String, name: String, seats: Int, available: Int) {
        self.tripId = tripId
        self.name = name
        self.seats = seats
        self.available = available
    }
}

/// One finding of `GET /api/trips/{id}/audit`.
public struct AuditViolation: Sendable, Equatable {
    /// nil for findings about the whole trip.
    public var seatNo: String?
    public var problem: String

    public init(seatNo: String?, problem: String) {
        self.seatNo = seatNo
        self.problem = problem
    }
}
