/// The credential of an `Authorization: Bearer <credential>` header (RFC 6750,
/// section 2.1): the scheme is case-insensitive, one or more spaces follow it, and
/// the credential is a token68 (`isToken68`), which covers both JWTs and API keys.
public enum BearerCredential {
    /// The credential, or nil when `header` (the field value, without the name) is
    /// not a Bearer authorization.
    public static func parse(_ header: String) -> String? {
        let bytes = Array(header.utf8)
        let scheme = Array("bearer".utf8)
        guard bytes.count > scheme.count,
              zip(bytes, scheme).allSatisfy({ lower($0) == $1 }),
              bytes[scheme.count] == UInt8(ascii: " ")
        else { return nil }
        var i = scheme.count
        while i < bytes.count, bytes[i] == UInt8(ascii: " ") { i += 1 }
        let credential = bytes[i...]
        guard isToken68(credential) else { return nil }
        return String(decoding: credential, as: UTF8.self)
    }

    /// RFC 7235's token68: one or more of `A-Z a-z 0-9 - . _ ~ + /`, then any
    /// number of `=`.
    public static func isToken68(_ bytes: some Collection<UInt8>) -> Bool {
        var chars = 0
        var padding = false
        for c in bytes {
            switch c {
            case UInt8(ascii: "="):
                padding = true
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                 UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "+"), UInt8(ascii: "/"):
                if padding { return false }
                chars += 1
            default:
                return false
            }
        }
        return chars > 0
    }

    private static func lower(_ c: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(c) ? c | 0x20 : c
    }
}
