import Foundation
import SeatcastApp
import SeatcastCore
import SeatcastTesting
import Testing

/// `seatcast serve`'s credentials (docs/PROTOCOL.md 1.1): unusable secrets are refused at
/// start with a clear message that never repeats them; good ones are taken from flags or
/// the environment.
@Suite(.timeLimit(.minutes(2)))
struct AuthConfigTests {
    let url = ["DATABASE_URL": "postgresql://x"]

    /// The environment: SEATCAST_API_KEY, SEATCAST_TOKEN_SECRET, MAX_HELD.
    @Test func fromEnvironment() throws {
        let c = try AppConfig.fromEnvironment(url.merging(["SEATCAST_API_KEY": "k-1", "SEATCAST_TOKEN_SECRET": String(repeating: "s", count: 32),
                                                           "MAX_HELD": "0"]) { $1 })
        #expect(c.apiKey == "k-1")
        #expect(c.tokenSecret?.utf8.count == 32)
        #expect(c.maxHeld == 0)
        #expect(try AppConfig.fromEnvironment(url).maxHeld == 10)
        #expect(try AppConfig.fromEnvironment(url).tokenSkew == 30)
        #expect(try AppConfig.fromEnvironment(url.merging(["TOKEN_SKEW": "1.5"]) { $1 }).tokenSkew == 1.5)
        #expect(try AppConfig.fromEnvironment(url).tokenSecret == nil)
    }

    /// A key that is not a token68 (or empty), a secret under 32 bytes (or empty), a negative MAX_HELD, a TOKEN_SKEW outside 0-300 s: refused, secret not echoed.
    @Test(arguments: [["SEATCAST_API_KEY": ""], ["SEATCAST_API_KEY": "has space"], ["SEATCAST_API_KEY": "k=x"],
                      ["SEATCAST_TOKEN_SECRET": ""], ["SEATCAST_TOKEN_SECRET": "31-bytes-secret-0123456789abcde"],
                      ["MAX_HELD": "-1"], ["MAX_HELD": "ten"], ["TOKEN_SKEW": "-1"], ["TOKEN_SKEW": "301"], ["TOKEN_SKEW": "soon"]])
    func refused(env: [String: String]) {
        do {
            _ = try AppConfig.fromEnvironment(url.merging(env) { $1 })
            Issue.record("accepted \(env)")
        } catch {
            let text = "\(error)"
            for (k, v) in env where k.hasPrefix("SEATCAST_") && v.count > 3 { #expect(!text.contains(v), "\(text)") }
        }
    }

    /// --public-read and --buyer-confirm need a token secret; an invalid config makes start throw.
    @Test func flagsNeedASecret() throws {
        var c = AppConfig(databaseURL: "postgresql://x")
        c.publicRead = true
        #expect(throws: ConfigError.self) { try c.validateSecrets() }
        c.publicRead = false
        c.buyerConfirm = true
        #expect(throws: ConfigError.self) { try c.validateSecrets() }
        c.buyerConfirm = false
        c.tokenSecret = "short"
        #expect(throws: ConfigError.self) { try Application(c).start() }
    }

    /// `seatcast serve` exits non-zero with a message naming the flag, never the secret.
    @Test func serveRefusesBadSecrets() throws {
        for (args, secret) in [(["--token-secret", "too-short-secret"], "too-short-secret"), (["--api-key", "not a token68"], "not a token68"),
                               (["--max-held", "-3"], "")] {
            let r = try runSeatcast(["serve", "--port", "0", "--host", "127.0.0.1"] + args, env: ["DATABASE_URL": TestDatabase.shared.url])
            #expect(r.status != 0, "\(args)")
            #expect(r.err.contains(args[0].dropFirst(2)) || r.err.contains("API key") || r.err.contains("token secret"), "\(r.err)")
            if !secret.isEmpty { #expect(!r.err.contains(secret), "\(r.err)") }
        }
    }
}
