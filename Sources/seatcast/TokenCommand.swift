import ArgumentParser
import Foundation
import SeatcastCore

/// `seatcast token`: prints one buyer token (HS256 JWT) signed with the token
/// secret, for scripts, tests and trying the server by hand. Sites mint their own.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Print a buyer token (HS256 JWT) signed with the token secret.",
        discussion: "The secret comes from --secret or $SEATCAST_TOKEN_SECRET; prefer the environment: other users can read a process's arguments."
    )

    @Option(help: "Buyer id (the sub claim): 1-128 characters, no control characters.") var sub: String
    @Option(help: "Comma-separated trip ids the token is for (default: every trip).") var trips: String?
    @Option(help: "Lifetime: 90s, 15m, 2h, or plain seconds.") var ttl: String = "15m"
    @Option(help: "Token secret (default: $SEATCAST_TOKEN_SECRET).") var secret: String?

    func validate() throws {
        guard BuyerClaims.isValidSub(sub) else {
            throw ValidationError("--sub must be 1-128 characters without control characters")
        }
        guard tripIds?.allSatisfy(Validation.isTripId) ?? true else {
            throw ValidationError("--trips must be trip ids (1-64 of A-Z a-z 0-9 _ -) separated by commas")
        }
        guard BuyerToken.parseTTL(ttl) != nil else {
            throw ValidationError("--ttl must be a positive duration of at most a year: 90s, 15m, 2h or plain seconds (got \"\(ttl)\")")
        }
        guard !tokenSecret.isEmpty else {
            throw ValidationError("no token secret: pass --secret or set SEATCAST_TOKEN_SECRET (it must not be empty)")
        }
    }

    func run() throws {
        print(BuyerToken.mint(sub: sub, trips: tripIds, ttl: BuyerToken.parseTTL(ttl)!,
                              secret: Array(tokenSecret.utf8), now: Date().timeIntervalSince1970))
    }

    private var tripIds: [String]? {
        trips.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }

    private var tokenSecret: String {
        secret ?? ProcessInfo.processInfo.environment["SEATCAST_TOKEN_SECRET"] ?? ""
    }
}
