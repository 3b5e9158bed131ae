import Testing
@testable import SeatcastCore

private let policy = AccessPolicy()
private let buyerConfirmPolicy = AccessPolicy(buyerConfirm: true)
private let scoped = Principal.buyer(BuyerClaims(sub: "u1", exp: 2_000_000_000, trips: ["T1"]))
private let unscoped = Principal.buyer(BuyerClaims(sub: "u2", exp: 2_000_000_000))
private let noTrips = Principal.buyer(BuyerClaims(sub: "u3", exp: 2_000_000_000, trips: []))

private let everyAction: [AccessPolicy.Action] = [
    .read(tripId: "T1"), .reserve(tripId: "T1"), .extend(tripId: "T1"), .releaseOwn(tripId: "T1"),
    .releaseAny(tripId: "T1"), .confirm(tripId: "T1"), .listTrips, .createTrip, .deleteTrip, .refreshToken,
]

/// One test per cell of docs/PROTOCOL.md's "Who may do what" table (version 1.1), by row, then column.
@Suite("AccessPolicy")
struct AccessPolicyTests {
    // MARK: before an HTTP body is read

    /// Only a caller without credentials (with or without --public-read) is refused before
    /// its body is read, and with 401: everyone else may write something, and its body
    /// decides which action it is.
    @Test func beforeTheBody() {
        for p in [policy, AccessPolicy(publicRead: true), buyerConfirmPolicy] {
            #expect(p.decideBeforeBody(.anonymous) == .unauthorized)
            for principal in [Principal.open, .backend, scoped, unscoped, noTrips] {
                #expect(p.decideBeforeBody(principal) == .allowed, "\(principal)")
            }
        }
        // It agrees with the table: every write is unauthorized for anonymous.
        #expect(AccessPolicy.writes.allSatisfy { policy.decide(.anonymous, $0) == .unauthorized })
    }

    // MARK: subscribe, snapshots, GET /api

    /// Open mode: anyone may subscribe, read snapshots and GET /api.
    @Test func readOpen() {
        #expect(policy.decide(.open, .read(tripId: "T1")) == .allowed)
        #expect(policy.decide(.open, .listTrips) == .allowed)
    }

    /// Buyer token: the trips in its claim (every trip without one, none with an empty one); another trip is forbidden.
    @Test func readBuyer() {
        #expect(policy.decide(scoped, .read(tripId: "T1")) == .allowed)
        #expect(policy.decide(scoped, .read(tripId: "T2")) == .forbidden)
        #expect(policy.decide(unscoped, .read(tripId: "T2")) == .allowed)
        #expect(policy.decide(noTrips, .read(tripId: "T1")) == .forbidden)
        #expect(policy.decide(scoped, .listTrips) == .allowed)
    }

    /// Backend key: every trip.
    @Test func readBackend() {
        #expect(policy.decide(.backend, .read(tripId: "T1")) == .allowed)
        #expect(policy.decide(.backend, .read(tripId: "T2")) == .allowed)
        #expect(policy.decide(.backend, .listTrips) == .allowed)
    }

    // MARK: reserve, extend, release of one's own hold

    /// Open mode: anyone may reserve, extend and release its own hold.
    @Test func ownHoldOpen() {
        for action in [AccessPolicy.Action.reserve(tripId: "T1"), .extend(tripId: "T1"), .releaseOwn(tripId: "T1")] {
            #expect(policy.decide(.open, action) == .allowed)
        }
    }

    /// Buyer token: yes, on the trips its claim covers; the hold belongs to `sub`.
    @Test func ownHoldBuyer() {
        for make in [{ AccessPolicy.Action.reserve(tripId: $0) }, { .extend(tripId: $0) }, { .releaseOwn(tripId: $0) }] {
            #expect(policy.decide(scoped, make("T1")) == .allowed)
            #expect(policy.decide(unscoped, make("T9")) == .allowed)
            #expect(policy.decide(scoped, make("T2")) == .forbidden)
            #expect(policy.decide(noTrips, make("T1")) == .forbidden)
        }
        #expect(scoped.holdOwner == "u1")
        #expect(scoped.mayUse(holdOwnedBy: "u1"))
        #expect(!scoped.mayUse(holdOwnedBy: "u2"))
        #expect(!scoped.mayUse(holdOwnedBy: nil))
        // Owners compare byte for byte: a canonically equivalent spelling is another buyer.
        let precomposed = Principal.buyer(BuyerClaims(sub: "\u{C5}sa", exp: 2_000_000_000))
        #expect(precomposed.mayUse(holdOwnedBy: "\u{C5}sa"))
        #expect(!precomposed.mayUse(holdOwnedBy: "A\u{30A}sa"))
        let kelvin = Principal.buyer(BuyerClaims(sub: "\u{212A}1", exp: 2_000_000_000))
        #expect(!kelvin.mayUse(holdOwnedBy: "K1"))
    }

    /// Backend key: yes.
    @Test func ownHoldBackend() {
        for action in [AccessPolicy.Action.reserve(tripId: "T1"), .extend(tripId: "T1"), .releaseOwn(tripId: "T1")] {
            #expect(policy.decide(.backend, action) == .allowed)
        }
        #expect(Principal.backend.holdOwner == nil)
    }

    // MARK: confirm

    /// Open mode: anyone with the hold (knowing the hold token is enough, as in version 1).
    @Test func confirmOpen() {
        #expect(policy.decide(.open, .confirm(tripId: "T1")) == .allowed)
        #expect(Principal.open.holdOwner == nil)
        #expect(Principal.open.mayUse(holdOwnedBy: nil))
        #expect(Principal.open.mayUse(holdOwnedBy: "u1"))
    }

    /// Buyer token: forbidden unless `--buyer-confirm`; then its own holds on its trips.
    @Test func confirmBuyer() {
        #expect(policy.decide(scoped, .confirm(tripId: "T1")) == .forbidden)
        #expect(policy.decide(unscoped, .confirm(tripId: "T1")) == .forbidden)
        #expect(buyerConfirmPolicy.decide(scoped, .confirm(tripId: "T1")) == .allowed)
        #expect(buyerConfirmPolicy.decide(unscoped, .confirm(tripId: "T1")) == .allowed)
        #expect(buyerConfirmPolicy.decide(scoped, .confirm(tripId: "T2")) == .forbidden)
    }

    /// Backend key: any hold, with or without `--buyer-confirm`.
    @Test func confirmBackend() {
        #expect(policy.decide(.backend, .confirm(tripId: "T1")) == .allowed)
        #expect(buyerConfirmPolicy.decide(.backend, .confirm(tripId: "T1")) == .allowed)
        #expect(Principal.backend.mayUse(holdOwnedBy: "u1"))
        #expect(Principal.backend.mayUse(holdOwnedBy: nil))
    }

    // MARK: release any seat

    /// Open mode: no.
    @Test func releaseAnyOpen() {
        #expect(policy.decide(.open, .releaseAny(tripId: "T1")) == .forbidden)
    }

    /// Buyer token: no, not even on its own trips nor with `--buyer-confirm`.
    @Test func releaseAnyBuyer() {
        #expect(policy.decide(scoped, .releaseAny(tripId: "T1")) == .forbidden)
        #expect(buyerConfirmPolicy.decide(unscoped, .releaseAny(tripId: "T1")) == .forbidden)
    }

    /// Backend key: yes.
    @Test func releaseAnyBackend() {
        #expect(policy.decide(.backend, .releaseAny(tripId: "T1")) == .allowed)
    }

    // MARK: create / delete trips

    /// Open mode: CLI only, so forbidden over the network.
    @Test func tripsAdminOpen() {
        #expect(policy.decide(.open, .createTrip) == .forbidden)
        #expect(policy.decide(.open, .deleteTrip) == .forbidden)
    }

    /// Buyer token: no.
    @Test func tripsAdminBuyer() {
        #expect(policy.decide(unscoped, .createTrip) == .forbidden)
        #expect(policy.decide(unscoped, .deleteTrip) == .forbidden)
        #expect(buyerConfirmPolicy.decide(scoped, .deleteTrip) == .forbidden)
    }

    /// Backend key: yes.
    @Test func tripsAdminBackend() {
        #expect(policy.decide(.backend, .createTrip) == .allowed)
        #expect(policy.decide(.backend, .deleteTrip) == .allowed)
    }

    // MARK: beyond the table

    /// Backend key: everything, under every flag combination.
    @Test func backendMayDoEverything() {
        for p in [AccessPolicy(), AccessPolicy(buyerConfirm: true), AccessPolicy(publicRead: true)] {
            for action in everyAction { #expect(p.decide(.backend, action) == .allowed, "\(action)") }
        }
    }

    /// Without credentials where secrets are configured: unauthorized, except reading under
    /// `--public-read` and presenting a token (`auth`); an anonymous caller may use no hold.
    @Test func anonymous() {
        for action in everyAction where action != .refreshToken {
            #expect(policy.decide(.anonymous, action) == .unauthorized, "\(action)")
        }
        let publicRead = AccessPolicy(publicRead: true)
        #expect(publicRead.decide(.anonymous, .read(tripId: "T1")) == .allowed)
        #expect(publicRead.decide(.anonymous, .listTrips) == .allowed)
        #expect(publicRead.decide(.anonymous, .reserve(tripId: "T1")) == .unauthorized)
        #expect(publicRead.decide(.anonymous, .confirm(tripId: "T1")) == .unauthorized)
        #expect(policy.decide(.anonymous, .refreshToken) == .allowed)
        #expect(!Principal.anonymous.mayUse(holdOwnedBy: nil))
        #expect(Principal.anonymous.holdOwner == nil)
    }

    /// Token refresh: buyers may replace their token; open mode has none to replace.
    @Test func refreshToken() {
        #expect(policy.decide(scoped, .refreshToken) == .allowed)
        #expect(policy.decide(noTrips, .refreshToken) == .allowed)
        #expect(policy.decide(.open, .refreshToken) == .forbidden)
    }

    /// `--public-read` changes nothing for open mode and buyers.
    @Test func publicReadOnlyConcernsAnonymous() {
        let publicRead = AccessPolicy(publicRead: true)
        for principal in [Principal.open, scoped, unscoped, noTrips] {
            for action in everyAction {
                #expect(publicRead.decide(principal, action) == policy.decide(principal, action), "\(principal) \(action)")
            }
        }
    }

    /// Decisions map to the protocol's error codes; `allowed` to none.
    @Test func decisionCodes() {
        #expect(AccessPolicy.Decision.allowed.errorCode == nil)
        #expect(AccessPolicy.Decision.forbidden.errorCode == .forbidden)
        #expect(AccessPolicy.Decision.unauthorized.errorCode == .unauthorized)
    }
}
