import SeatcastApp
import Testing

/// `MAX_HOLD` (and `--max-hold`, which sets the same field): how long a hold may last from
/// its start, extends included.
@Suite("AppConfig: max hold")
struct MaxHoldConfigTests {
    /// 900 s unless MAX_HOLD says otherwise; MAX_HOLD must be a positive number of seconds.
    @Test func fromEnvironment() throws {
        #expect(try AppConfig.fromEnvironment(["DATABASE_URL": "postgres://x"]).maxHold == 900)
        #expect(try AppConfig.fromEnvironment(["DATABASE_URL": "postgres://x", "MAX_HOLD": "600"]).maxHold == 600)
        #expect(try AppConfig.fromEnvironment(["DATABASE_URL": "postgres://x", "MAX_HOLD": "2.5"]).maxHold == 2.5)
        for bad in ["0", "-1", "ten", ""] {
            #expect(throws: ConfigError.self, "MAX_HOLD=\(bad)") {
                try AppConfig.fromEnvironment(["DATABASE_URL": "postgres://x", "MAX_HOLD": bad])
            }
        }
    }
}
