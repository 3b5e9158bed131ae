/// The rights table of docs/PROTOCOL.md (version 1.1, "Who may do what") as a pure
/// function: who (`Principal`) may do what (`Action`), under the server's flags.
///
/// `unauthorized` (HTTP 401) means "present valid credentials": only `anonymous`
/// gets it. `forbidden` (403) means the credentials are valid (or none are needed)
/// and still do not allow the action. Whether a particular hold may be used is the
/// second question, answered by `Principal.mayUse(holdOwnedBy:)` where the hold is
/// looked up.
///
/// Reading of the table: a buyer token's `trips` claim scopes every trip action of
/// that buyer (read, reserve, extend, release, confirm), not only reading: a token
/// minted for trip T1 is forbidden to hold seats on T2.
public struct AccessPolicy: Hashable, Sendable {
    public enum Action: Hashable, Sendable {
        /// `subscribe`, a snapshot, `GET /api/trips/{id}`.
        case read(tripId: String)
        /// `GET /api/trips` (a buyer's list is to be filtered by `BuyerClaims.covers`).
        case listTrips
        case reserve(tripId: String)
        case extend(tripId: String)
        /// `release` with a `hold`: one's own hold.
        case releaseOwn(tripId: String)
        /// `release` with `seats` and no `hold`: any seat, whoever holds it.
        case releaseAny(tripId: String)
        case confirm(tripId: String)
        /// `POST /api/trips`.
        case createTrip
        /// `DELETE /api/trips/{id}`.
        case deleteTrip
        /// `{"type":"auth","token":...}` on a live connection.
        case refreshToken
    }

    public enum Decision: Hashable, Sendable {
        case allowed
        case forbidden
        case unauthorized

        /// The error a refused request is answered with; nil when allowed.
        public var errorCode: ErrorCode? {
            switch self {
            case .allowed: return nil
            case .forbidden: return .forbidden
            case .unauthorized: return .unauthorized
            }
        }
    }

    /// `--buyer-confirm`: buyers may book their own holds themselves.
    public var buyerConfirm: Bool
    /// `--public-read`: connections without a token may read (subscribe, snapshots, GET).
    public var publicRead: Bool

    public init(buyerConfirm: Bool = false, publicRead: Bool = false) {
        self.buyerConfirm = buyerConfirm
        self.publicRead = publicRead
    }

    /// Every action that changes something (an HTTP POST or DELETE).
    public static let writes: [Action] = [.reserve(tripId: "T"), .extend(tripId: "T"), .releaseOwn(tripId: "T"),
                                          .releaseAny(tripId: "T"), .confirm(tripId: "T"), .createTrip, .deleteTrip]

    /// Asked before an HTTP request's body is read: `unauthorized` when `principal` may do
    /// no write at all without credentials (whatever the body would say), so a caller
    /// without credentials learns nothing of how its body parses; otherwise `allowed`,
    /// and the action is decided once the body is read.
    public func decideBeforeBody(_ principal: Principal) -> Decision {
        Self.writes.allSatisfy { decide(principal, $0) == .unauthorized } ? .unauthorized : .allowed
    }

    public func decide(_ principal: Principal, _ action: Action) -> Decision {
        switch principal {
        case .backend:
            return .allowed
        case .open:
            switch action {
            case .read, .listTrips, .reserve, .extend, .releaseOwn, .confirm: return .allowed
            // Only the CLI, which talks to the database directly, manages trips in open mode.
            case .releaseAny, .createTrip, .deleteTrip: return .forbidden
            // There is no token to replace: open mode has no secret to check one with.
            case .refreshToken: return .forbidden
            }
        case .anonymous:
            switch action {
            case .read, .listTrips: return publicRead ? .allowed : .unauthorized
            // A public reader becomes a buyer by presenting a token.
            case .refreshToken: return .allowed
            case .reserve, .extend, .releaseOwn, .releaseAny, .confirm, .createTrip, .deleteTrip: return .unauthorized
            }
        case let .buyer(claims):
            switch action {
            case .listTrips, .refreshToken: return .allowed
            case let .read(tripId), let .reserve(tripId), let .extend(tripId), let .releaseOwn(tripId):
                return claims.covers(tripId: tripId) ? .allowed : .forbidden
            case let .confirm(tripId):
                return buyerConfirm && claims.covers(tripId: tripId) ? .allowed : .forbidden
            case .releaseAny, .createTrip, .deleteTrip: return .forbidden
            }
        }
    }
}
