/// A stream position to resume from (`since` of `subscribe`).
public struct StreamPosition: Sendable, Equatable {
    public var epoch: String
    public var seq: Int64
    public init(epoch: String, seq: Int64) {
        self.epoch = epoch
        self.seq = seq
    }
}

/// What a `reserve` asks for: seats by name, or the best `count` seats, which the store
/// picks in the same transaction (docs/PROTOCOL.md 1.1, "Best available"). An array literal is
/// a list of seats: `.reserve(tripId: "T1", seats: ["3A"], hold: h)`.
public enum SeatSelection: Sendable, Equatable, ExpressibleByArrayLiteral {
    /// These seats, all or none.
    case listed([String])
    /// The best `count` available seats: lowest row first, then nearest the middle column
    /// (of two equally near, the lower column). With `together`, `count` consecutive
    /// columns of one row: lowest row, then the block whose centre is nearest the middle,
    /// then the lower first column.
    case best(count: Int, together: Bool)

    public init(arrayLiteral seats: String...) { self = .listed(seats) }
}

/// A seat-changing request as the store executes it. The hold token is always
/// present here: the server generates one for a `reserve` that has none.
public enum Command: Sendable, Equatable {
    case reserve(tripId: String, seats: SeatSelection, hold: String)
    /// `seats == nil`: every seat of the hold on that trip.
    case confirm(tripId: String, seats: [String]?, hold: String)
    case release(tripId: String, seats: [String]?, hold: String)
    /// Moves the hold's `until` to now + min(`seconds`, hold TTL) (nil: the TTL), never
    /// past the hold's start + the store's max hold (docs/PROTOCOL.md 1.1, "Extend").
    case extend(tripId: String, hold: String, seconds: Int?)
    /// `release` with `seats` and no `hold` (the backend key only, version 1.1): frees
    /// the listed seats whoever holds them, booked ones included (a cancellation).
    case releaseSeats(tripId: String, seats: [String])

    public var tripId: String {
        switch self {
        case let .reserve(t, _, _), let .confirm(t, _, _), let .release(t, _, _), let .extend(t, _, _): return t
        case let .releaseSeats(t, _): return t
        }
    }
}

/// Whom a command runs for, as the store needs to know it (docs/PROTOCOL.md 1.1, "Who
/// may do what" and "Hold quota"): under which key the seats it holds are recorded and
/// counted, whether it may only touch holds recorded under that key, and the quota.
public struct HoldScope: Sendable, Equatable {
    /// The key the seats a reserve takes are recorded under (`seats.hold_owner`) and
    /// counted by for the quota: a buyer's `sub`; in open mode one key per connection
    /// (or HTTP request); nil for the backend key (its holds belong to nobody and have
    /// no quota).
    public var holder: String?
    /// A buyer: confirm, release, extend and a reserve's retry only find seats recorded
    /// under `holder`; a hold token of another holder is answered as if it held nothing.
    public var ownHoldsOnly: Bool
    /// Seats `holder` may hold at once, across trips, connections and instances; 0 = no
    /// quota. Checked in the reserve's own transaction.
    public var maxHeld: Int

    public init(holder: String?, ownHoldsOnly: Bool, maxHeld: Int) {
        self.holder = holder
        self.ownHoldsOnly = ownHoldsOnly
        self.maxHeld = maxHeld
    }

    /// Version 1 behaviour: no holder, no quota, any hold token works.
    public static let unrestricted = HoldScope(holder: nil, ownHoldsOnly: false, maxHeld: 0)
}

/// What the store answers to a `Command`.
public enum CommandOutcome: Sendable, Equatable {
    case reserved(seats: [String], untilMs: Int64)
    /// An `extend`: the hold's seats and its `until` (the earliest of its seats').
    case extended(seats: [String], untilMs: Int64)
    case confirmed(seats: [String])
    case released(seats: [String])
    case rejected(RejectReason, seats: [String])
    /// A reserve past the hold quota: `rejected`, reason `quota`, with the `limit`.
    case overQuota(seats: [String], limit: Int)
    case failed(ProtocolError)
}

/// One client request, decoded from a text frame (JSON or terminal words).
public struct Request: Sendable, Equatable {
    public enum Body: Sendable, Equatable {
        case subscribe(tripId: String, since: StreamPosition?)
        case unsubscribe(tripId: String)
        case reserve(tripId: String, seats: SeatSelection, hold: String?)
        case confirm(tripId: String, seats: [String]?, hold: String)
        case release(tripId: String, seats: [String]?, hold: String)
        /// `release` with `seats` and no `hold` (version 1.1): any listed seat, whoever holds
        /// it, booked ones included. The backend key only (`Command.releaseSeats`).
        case releaseSeats(tripId: String, seats: [String])
        /// `seconds` nil: the hold TTL.
        case extend(tripId: String, hold: String, seconds: Int?)
        /// `{"type":"auth","token":"JWT"}` (version 1.1): replaces the connection's buyer token.
        case auth(token: String)
        case ping
        case help
    }

    public var id: String?
    public var body: Body
    /// `subscribe` only: `"compact":true`, the client wants compact snapshots.
    public var compact = false

    public init(id: String? = nil, _ body: Body, compact: Bool = false) {
        self.id = id
        self.body = body
        self.compact = compact
    }
}
