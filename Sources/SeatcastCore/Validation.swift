/// Syntax of identifiers on the wire. Validated before anything reaches the database.
public enum Validation {
    /// Trip sizes (`trip create`, the `trips` table's checks, migration 0006): rows and
    /// columns 1 to 1,000 each, at most 100,000 seats.
    public static let maxTripRows = 1000
    public static let maxTripCols = 1000
    public static let maxTripSeats = 100_000

    public static func isTripSize(rows: Int, cols: Int) -> Bool {
        (1...maxTripRows).contains(rows) && (1...maxTripCols).contains(cols) && rows * cols <= maxTripSeats
    }

    /// Trip ids: 1 to 64 of `A-Z a-z 0-9 _ -`.
    public static func isTripId(_ s: String) -> Bool { isWord(s, min: 1, max: 64, extra: UInt8(ascii: "_")) }

    /// Seat numbers: 1 to 16 of `A-Z a-z 0-9 -` (`12C`, `3-27`).
    public static func isSeatNo(_ s: String) -> Bool { isWord(s, min: 1, max: 16, extra: nil) }

    /// Hold tokens: 16 to 128 of `A-Z a-z 0-9 _ -` (docs/PROTOCOL.md).
    public static func isHoldToken(_ s: String) -> Bool { isWord(s, min: 16, max: 128, extra: UInt8(ascii: "_")) }

    private static func isWord(_ s: String, min: Int, max: Int, extra: UInt8?) -> Bool {
        var n = 0
        for c in s.utf8 {
            n += 1
            if n > max { return false }
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"):
                continue
            default:
                if let extra, c == extra { continue }
                return false
            }
        }
        return n >= min
    }
}
