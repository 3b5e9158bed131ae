extension BuyerToken {
    /// The longest lifetime `parseTTL` accepts: a year. Buyer tokens are meant to
    /// live minutes and be refreshed; anything longer is a typo.
    public static let maxTTL: Double = 365 * 24 * 3600

    /// A token lifetime as the CLI takes it: `90s`, `15m`, `2h`, or plain seconds
    /// (`600`); a positive whole number of at most `maxTTL` seconds. Nil otherwise.
    public static func parseTTL(_ text: String) -> Double? {
        var digits = Substring(text)
        var unit: Double = 1
        switch text.last {
        case "s": unit = 1; digits = digits.dropLast()
        case "m": unit = 60; digits = digits.dropLast()
        case "h": unit = 3600; digits = digits.dropLast()
        default: break
        }
        guard !digits.isEmpty, digits.utf8.count <= 12,
              digits.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
              let n = Double(digits)
        else { return nil }
        let seconds = n * unit
        guard seconds > 0, seconds <= maxTTL else { return nil }
        return seconds
    }
}
