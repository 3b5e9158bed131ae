/// What a verified buyer token says (docs/PROTOCOL.md, version 1.1, "Who may do what").
public struct BuyerClaims: Hashable, Sendable {
    /// The buyer id: 1 to 128 Unicode scalars, no control characters.
    public var sub: String
    /// Expiry, seconds since the Unix epoch.
    public var exp: Double
    /// Not before, seconds since the Unix epoch.
    public var nbf: Double?
    /// Issued at, seconds since the Unix epoch (informational).
    public var iat: Double?
    /// The trips this token is for; nil (no `trips` claim) means every trip, an
    /// empty set none.
    public var trips: Set<String>?

    public init(sub: String, exp: Double, nbf: Double? = nil, iat: Double? = nil, trips: Set<String>? = nil) {
        self.sub = sub
        self.exp = exp
        self.nbf = nbf
        self.iat = iat
        self.trips = trips
    }

    /// Whether the token covers `tripId`.
    public func covers(tripId: String) -> Bool {
        trips?.contains(tripId) ?? true
    }

    /// A valid `sub`: 1 to 128 Unicode scalars (PostgreSQL's `char_length`), none of
    /// them a control character (U+0000-U+001F, U+007F). NUL in particular could not
    /// reach PostgreSQL intact (libpq passes text as C strings), and control
    /// characters have no place in an id that ends up in logs.
    public static func isValidSub(_ s: String) -> Bool {
        var n = 0
        for u in s.unicodeScalars {
            n += 1
            if n > 128 || u.value < 0x20 || u.value == 0x7F { return false }
        }
        return n >= 1
    }
}
