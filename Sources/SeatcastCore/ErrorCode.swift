/// The `code` of a protocol `error` reply (docs/PROTOCOL.md, semantics 8). Extensible:
/// new codes are new `static let`s, never renames.
public struct ErrorCode: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    public static let badRequest = ErrorCode("bad_request")
    public static let unknownType = ErrorCode("unknown_type")
    public static let unknownTrip = ErrorCode("unknown_trip")
    public static let unknownSeat = ErrorCode("unknown_seat")
    public static let tooLarge = ErrorCode("too_large")
    public static let rateLimited = ErrorCode("rate_limited")
    public static let unavailable = ErrorCode("unavailable")
    public static let `internal` = ErrorCode("internal")
    /// No credentials, or bad ones (version 1.1): a missing, malformed, expired or
    /// wrongly signed token, a wrong API key.
    public static let unauthorized = ErrorCode("unauthorized")
    /// Valid credentials (or none needed) that do not allow the action (version 1.1).
    public static let forbidden = ErrorCode("forbidden")
    /// `POST /api/trips` with the id of a trip that exists (version 1.1; HTTP 409).
    public static let tripExists = ErrorCode("trip_exists")

    /// The HTTP status the HTTP mirror of the API answers with for this code.
    public var httpStatus: Int {
        switch self {
        case .unauthorized: return 401
        case .forbidden: return 403
        case .tripExists: return 409
        case .unknownTrip, .unknownSeat: return 404
        case .tooLarge: return 413
        case .rateLimited: return 429
        case .unavailable: return 503
        case .internal: return 500
        default: return 400
        }
    }
}

/// Why a request was `rejected` (a legitimate race outcome, not an error).
public struct RejectReason: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    public static let seatTaken = RejectReason("seat_taken")
    public static let notHeld = RejectReason("not_held")
    public static let holdExpired = RejectReason("hold_expired")
    /// An `extend` of a hold already at its cap (the hold's start + max hold; version 1.1).
    public static let extendLimit = RejectReason("extend_limit")
    /// A best-available `reserve` the trip has no room for (version 1.1).
    public static let notEnoughSeats = RejectReason("not_enough_seats")
    /// A reserve that would take the holder past `--max-held` (version 1.1).
    public static let quota = RejectReason("quota")
}

/// A request that cannot be served, with the code and message the client sees.
public struct ProtocolError: Error, Equatable, Sendable {
    public var code: ErrorCode
    public var message: String
    public var id: String?

    public init(_ code: ErrorCode, _ message: String, id: String? = nil) {
        self.code = code
        self.message = message
        self.id = id
    }
}
