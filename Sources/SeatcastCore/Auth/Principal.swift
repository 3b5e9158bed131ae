/// Who is asking (docs/PROTOCOL.md, version 1.1, "Who may do what"). The edges decide it
/// once per connection or HTTP request; `AccessPolicy` decides what it may do.
public enum Principal: Hashable, Sendable {
    /// A server with no secrets configured: everyone, as in version 1.
    case open
    /// Secrets are configured but no credential was presented (a `--public-read`
    /// connection without a token, an HTTP request without `Authorization`).
    case anonymous
    /// A verified buyer token.
    case buyer(BuyerClaims)
    /// The site's backend: `Authorization: Bearer KEY` matched the API key.
    case backend

    /// The owner recorded on a hold this principal creates: the buyer's `sub`, nil
    /// for everyone else (open mode and backend holds belong to no buyer).
    public var holdOwner: String? {
        if case let .buyer(claims) = self { return claims.sub }
        return nil
    }

    /// Whether this principal may extend, release or confirm a hold owned by
    /// `owner` (its `holdOwner` when it was made). A hold used under another `sub`
    /// must be answered as if it held nothing (`not_held`), never `forbidden`, so
    /// that a leaked hold token tells its finder nothing.
    /// - open mode: knowing the hold token is enough, as in version 1;
    /// - a buyer: only its own holds (`owner` is `sub`, byte for byte, as
    ///   PostgreSQL compares text; not Swift's canonical-equivalence `==`);
    /// - the backend: any hold;
    /// - anonymous: none (it may not hold seats at all).
    public func mayUse(holdOwnedBy owner: String?) -> Bool {
        switch self {
        case .open, .backend: return true
        case let .buyer(claims):
            guard let owner else { return false }
            return owner.utf8.elementsEqual(claims.sub.utf8)
        case .anonymous: return false
        }
    }
}
