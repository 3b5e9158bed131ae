/// Who is asking (docs/PROTOCOL.md, version 1.1, "Who may do what"): the pure decision
/// the server's edges take once per WebSocket handshake and once per HTTP API request,
/// from the credentials presented and the secrets configured. `AccessPolicy` then decides
/// what the `Principal` may do.
///
/// - No token secret ("open mode"): WebSocket handshakes are `open` whatever they carry
///   (a `?token=` is ignored); over HTTP, an `Authorization: Bearer` that matches the API
///   key is the `backend`, and one that does not is refused when an API key is configured
///   (ignored, as in version 1, when none is).
/// - With a token secret: a WebSocket presents a buyer token as `?token=` or, for clients
///   that can set headers, `Authorization: Bearer`; none is `anonymous` under
///   `--public-read` and refused otherwise. Over HTTP, `Authorization: Bearer X` is the
///   backend when X is the API key, else a buyer when X verifies as a token, else refused;
///   no `Authorization` is `anonymous` (which `AccessPolicy` answers `unauthorized` unless
///   it is reading under `--public-read`).
///
/// A WebSocket is never the backend: the API key is for HTTP only.
public struct Authenticator: Sendable {
    /// Why credentials were refused: a label for metrics and logs (`label`). The client is
    /// answered `unauthorized` whatever it is.
    public enum Refusal: Error, Hashable, Sendable, CustomStringConvertible {
        /// A buyer token that `BuyerToken.verify` refused.
        case token(AuthError)
        /// No credential where one is required (a handshake without a token, no
        /// `--public-read`).
        case missing
        /// An `Authorization` header that is not `Bearer <token68>`.
        case badHeader
        /// A bearer credential that is not the API key, where no token secret could make
        /// it a buyer token.
        case badKey

        /// `bad_signature`, `expired`, ... (`AuthError`'s raw values), `missing`,
        /// `bad_header`, `bad_key`.
        public var label: String {
            switch self {
            case let .token(e): return e.rawValue
            case .missing: return "missing"
            case .badHeader: return "bad_header"
            case .badKey: return "bad_key"
            }
        }

        public var description: String { label }

        /// Every label, for rendering metrics with zeros.
        public static let allLabels: [String] = AuthError.allCases.map(\.rawValue) + ["missing", "bad_header", "bad_key"]
    }

    /// `--api-key`: nil when none is configured.
    public var apiKey: BackendKey?
    /// `--token-secret`: nil in open mode. Never empty (configuration refuses that).
    public var tokenSecret: [UInt8]?
    /// `--public-read`: a handshake without a token is `anonymous` rather than refused.
    public var publicRead: Bool
    /// Clock skew tolerated on `exp` and `nbf`, seconds (`BuyerToken.defaultSkew`).
    public var skew: Double

    public init(apiKey: BackendKey? = nil, tokenSecret: [UInt8]? = nil, publicRead: Bool = false,
                skew: Double = BuyerToken.defaultSkew) {
        precondition(tokenSecret.map { !$0.isEmpty } ?? true, "an empty token secret")
        self.apiKey = apiKey
        self.tokenSecret = tokenSecret
        self.publicRead = publicRead
        self.skew = skew
    }

    /// Open mode: no token secret, so there are no buyers.
    public var isOpen: Bool { tokenSecret == nil }

    /// Any secret configured (API key or token secret).
    public var hasSecrets: Bool { apiKey != nil || tokenSecret != nil }

    /// A WebSocket handshake: `queryToken` is the URL-decoded `?token=` value (nil when
    /// absent), `authorization` the `Authorization` header's value (nil when absent).
    /// The query token is taken when both are present.
    public func webSocket(queryToken: String?, authorization: String?, now: Double) -> Result<Principal, Refusal> {
        guard let secret = tokenSecret else { return .success(.open) }
        let token: String
        if let queryToken {
            token = queryToken
        } else if let authorization {
            guard let bearer = BearerCredential.parse(authorization) else { return .failure(.badHeader) }
            token = bearer
        } else {
            return publicRead ? .success(.anonymous) : .failure(.missing)
        }
        return verify(token, secret: secret, now: now)
    }

    /// An HTTP API request: `authorization` is the `Authorization` header's value.
    public func http(authorization: String?, now: Double) -> Result<Principal, Refusal> {
        guard let authorization else { return .success(isOpen ? .open : .anonymous) }
        // Open mode without an API key reads no credentials at all (version 1).
        if apiKey == nil && tokenSecret == nil { return .success(.open) }
        guard let bearer = BearerCredential.parse(authorization) else { return .failure(.badHeader) }
        if let apiKey, apiKey.matches(bearer) { return .success(.backend) }
        guard let secret = tokenSecret else { return .failure(.badKey) }
        return verify(bearer, secret: secret, now: now)
    }

    /// A token presented on a live connection (`auth`).
    public func buyer(_ token: String, now: Double) -> Result<BuyerClaims, Refusal> {
        guard let secret = tokenSecret else { return .failure(.badKey) }
        return BuyerToken.verify(token, secret: secret, now: now, skew: skew).mapError { .token($0) }
    }

    /// When a verified token stops being accepted: `verify` refuses it once now is past this.
    public func deadline(_ claims: BuyerClaims) -> Double { claims.exp + skew }

    private func verify(_ token: String, secret: [UInt8], now: Double) -> Result<Principal, Refusal> {
        switch BuyerToken.verify(token, secret: secret, now: now, skew: skew) {
        case let .success(claims): return .success(.buyer(claims))
        case let .failure(e): return .failure(.token(e))
        }
    }
}
