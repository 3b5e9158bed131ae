/// Hold tokens: the secret that names a hold. Generated ones carry 144 random bits
/// from the system generator, as 24 base64url characters (about 143 bits once the first
/// character is kept alphanumeric).
public enum HoldToken {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    public static func generate() -> String {
        var rng = SystemRandomNumberGenerator()
        var out = [UInt8]()
        out.reserveCapacity(24)
        for _ in 0..<4 {
            var v: UInt64 = rng.next()
            for _ in 0..<6 {
                out.append(alphabet[Int(v & 63)])
                v >>= 6
            }
        }
        // A leading '-' would read as an option on a command line.
        if out[0] == UInt8(ascii: "-") || out[0] == UInt8(ascii: "_") { out[0] = UInt8(ascii: "h") }
        return String(decoding: out, as: UTF8.self)
    }
}
