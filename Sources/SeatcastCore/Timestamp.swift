/// Wire timestamps: UTC, millisecond precision, `2026-11-21T19:30:00.000Z`.
public enum Timestamp {
    /// Formats milliseconds since the Unix epoch. Pure arithmetic (civil-from-days),
    /// no Foundation, no locale.
    public static func iso8601(ms: Int64) -> String {
        var out = [UInt8]()
        out.reserveCapacity(24)
        append(ms: ms, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public static func append(ms: Int64, to out: inout [UInt8]) {
        let millis = Int(((ms % 1000) + 1000) % 1000)
        let secs = (ms - Int64(millis)) / 1000
        var days = secs / 86400
        var rem = secs % 86400
        if rem < 0 { rem += 86400; days -= 1 }
        let (y, m, d) = civil(days: days)
        func two(_ v: Int) { out.append(UInt8(48 + v / 10)); out.append(UInt8(48 + v % 10)) }
        let year = Int(y)
        out.append(UInt8(48 + (year / 1000) % 10)); out.append(UInt8(48 + (year / 100) % 10))
        two(year % 100)
        out.append(UInt8(ascii: "-")); two(m)
        out.append(UInt8(ascii: "-")); two(d)
        out.append(UInt8(ascii: "T")); two(Int(rem / 3600))
        out.append(UInt8(ascii: ":")); two(Int(rem % 3600 / 60))
        out.append(UInt8(ascii: ":")); two(Int(rem % 60))
        out.append(UInt8(ascii: "."))
        out.append(UInt8(48 + millis / 100)); out.append(UInt8(48 + millis / 10 % 10)); out.append(UInt8(48 + millis % 10))
        out.append(UInt8(ascii: "Z"))
    }

    /// Howard Hinnant's days-to-civil algorithm.
    static func civil(days z0: Int64) -> (Int64, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = Int(doy - (153 * mp + 2) / 5 + 1)
        let m = Int(mp < 10 ? mp + 3 : mp - 9)
        return (m <= 2 ? y + 1 : y, m, d)
    }

    /// Milliseconds since the Unix epoch, from the realtime clock.
    public static func nowMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// Monotonic seconds, for rate limits and timeouts.
    public static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Timestamp {
    /// Parses `2026-11-21T19:30:00.000Z` (the form `append(ms:to:)` writes) to ms since the epoch.
    public static func parse(_ s: String) -> Int64? {
        let u = Array(s.utf8)
        guard u.count == 24, u[23] == UInt8(ascii: "Z") else { return nil }
        func num(_ a: Int, _ b: Int) -> Int64? { Int64(String(decoding: u[a..<b], as: UTF8.self)) }
        guard let y = num(0, 4), let mo = num(5, 7), let d = num(8, 10), let h = num(11, 13), let mi = num(14, 16),
              let se = num(17, 19), let ms = num(20, 23) else { return nil }
        let yy = mo <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return ((days * 24 + h) * 60 + mi) * 60_000 + se * 1000 + ms
    }
}
