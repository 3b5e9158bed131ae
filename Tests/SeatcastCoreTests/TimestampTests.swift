import Testing
@testable import SeatcastCore

/// An independent oracle: formats `ms` by counting whole years and months from 1970 (or back from it).
private func naiveISO(_ ms: Int64) -> String {
    func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }
    func monthLengths(_ y: Int) -> [Int] { [31, isLeap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] }
    var totalSeconds = ms / 1000
    var millis = ms % 1000
    if millis < 0 { millis += 1000; totalSeconds -= 1 }
    var days = Int(totalSeconds / 86400)
    var secs = Int(totalSeconds % 86400)
    if secs < 0 { secs += 86400; days -= 1 }
    var year = 1970
    while days < 0 { year -= 1; days += isLeap(year) ? 366 : 365 }
    while days >= (isLeap(year) ? 366 : 365) { days -= isLeap(year) ? 366 : 365; year += 1 }
    var month = 1
    for len in monthLengths(year) {
        if days < len { break }
        days -= len
        month += 1
    }
    func pad(_ v: Int, _ n: Int) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, n - s.count)) + s
    }
    return "\(pad(year, 4))-\(pad(month, 2))-\(pad(days + 1, 2))T\(pad(secs / 3600, 2)):\(pad(secs % 3600 / 60, 2)):\(pad(secs % 60, 2)).\(pad(Int(millis), 3))Z"
}

@Suite("Timestamp")
struct TimestampTests {
    /// Known instants (seconds checked with `date -u -d @SECONDS`) format to their ISO 8601 text.
    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000Z"),
        (1_795_289_400_000, "2026-11-21T19:30:00.000Z"),
        (1_709_164_800_000, "2024-02-29T00:00:00.000Z"),
        (1_709_210_096_789, "2024-02-29T12:34:56.789Z"),
        (1_709_251_199_999, "2024-02-29T23:59:59.999Z"),
        (1_709_251_200_000, "2024-03-01T00:00:00.000Z"),
        (951_782_400_000, "2000-02-29T00:00:00.000Z"),
        (4_107_456_000_000, "2100-02-28T00:00:00.000Z"),
        (4_107_542_400_000, "2100-03-01T00:00:00.000Z"),
        (68_169_600_000, "1972-02-29T00:00:00.000Z"),
        (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
    ])
    func knownInstants(ms: Int64, expected: String) {
        #expect(Timestamp.iso8601(ms: ms) == expected)
    }

    /// Instants before 1970 (negative ms) format correctly, including the millisecond part.
    @Test(arguments: [
        (Int64(-1), "1969-12-31T23:59:59.999Z"),
        (-999, "1969-12-31T23:59:59.001Z"),
        (-1000, "1969-12-31T23:59:59.000Z"),
        (-1001, "1969-12-31T23:59:58.999Z"),
        (-86_400_000, "1969-12-31T00:00:00.000Z"),
        (-86_400_001, "1969-12-30T23:59:59.999Z"),
        (-2_208_988_800_000, "1900-01-01T00:00:00.000Z"),
        (-2_203_891_200_000, "1900-03-01T00:00:00.000Z"),
        (-62_135_596_800_000, "0001-01-01T00:00:00.000Z"),
    ])
    func beforeEpoch(ms: Int64, expected: String) {
        #expect(Timestamp.iso8601(ms: ms) == expected)
    }

    /// Milliseconds are always three digits, zero-padded.
    @Test(arguments: [(Int64(5), ".005Z"), (50, ".050Z"), (500, ".500Z"), (7, ".007Z"), (999, ".999Z"), (1010, ".010Z")])
    func millisecondPadding(ms: Int64, suffix: String) {
        let s = Timestamp.iso8601(ms: ms)
        #expect(s.hasSuffix(suffix))
        #expect(s.utf8.count == 24)
    }

    /// Formatting agrees with a naive day-counting oracle across 1600 to 2400.
    @Test func agreesWithOracle() {
        var ms: Int64 = -11_676_096_000_000 // 1600-01-01
        let end: Int64 = 13_569_465_600_000 // 2400-01-01
        var k: Int64 = 0
        var mismatches: [String] = []
        while ms < end {
            let got = Timestamp.iso8601(ms: ms)
            let want = naiveISO(ms)
            if got != want { mismatches.append("\(ms): \(got) != \(want)") }
            // Steps of about 4.3 days that are not whole days, so all times of day and dates get visited.
            ms += 371_234_567 + (k % 7) * 1_000_003
            k += 1
        }
        #expect(k > 60_000)
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }

    /// `append` writes the same text after existing bytes.
    @Test func appendKeepsPrefix() {
        var out = Array("x".utf8)
        Timestamp.append(ms: 1_795_289_400_000, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "x2026-11-21T19:30:00.000Z")
    }

    /// `civil(days:)` maps day 0 to 1970-01-01 and day -1 to 1969-12-31.
    @Test func civilDays() {
        #expect(Timestamp.civil(days: 0) == (1970, 1, 1))
        #expect(Timestamp.civil(days: -1) == (1969, 12, 31))
        #expect(Timestamp.civil(days: 19782) == (2024, 2, 29))
    }

    /// The wall clock reads a time after 2024 and the monotonic clock never goes back.
    @Test func clocks() {
        #expect(Timestamp.nowMs() > 1_704_067_200_000)
        let a = Timestamp.monotonicSeconds()
        let b = Timestamp.monotonicSeconds()
        #expect(b >= a)
    }
}
