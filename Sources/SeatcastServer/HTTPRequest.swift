import SeatcastCore

/// One header line of an answer.
struct HTTPHeader: Equatable, Sendable {
    var name: String
    var value: String

    init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// A response waiting to be written on an HTTP connection.
struct HTTPResponse: Sendable {
    var status: Int
    var contentType: String
    var body: Frame
    var cacheControl = "no-store"
    /// Extra header lines (Allow, ETag, Sec-WebSocket-Version).
    var headers: [HTTPHeader] = []

    static func json(_ status: Int, _ bytes: [UInt8]) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "application/json", body: Frame(bytes))
    }

    static func text(_ status: Int, _ s: String, type: String = "text/plain; charset=utf-8") -> HTTPResponse {
        HTTPResponse(status: status, contentType: type, body: Frame(Array(s.utf8)))
    }

    /// 405 naming the methods the resource takes (RFC 9110 15.5.6).
    static func methodNotAllowed(_ allow: String) -> HTTPResponse {
        var r = text(405, "method not allowed: use \(allow)\n")
        r.headers = [HTTPHeader("allow", allow)]
        return r
    }
}

/// One HTTP request. Loop thread only; answered asynchronously when its database work
/// completes, and then its connection closes (see HTTPHandler.swift for why).
final class HTTPRequest: @unchecked Sendable {
    let wsi: OpaquePointer
    let method: HTTPMethod
    let path: String
    let route: HTTPRoute
    /// If-None-Match, for static files.
    let ifNoneMatch: String?
    var body: [UInt8] = []
    /// The URL's query arguments (`?compact=1`, `?limit=&after=`).
    var query: [String: String] = [:]
    /// Who is asking (API routes; see `Authenticator.http`).
    var principal: Principal = .open
    /// The connection closed: drop the answer.
    var dead = false
    /// An answer chosen inside one of the connection's callbacks, on its way through the inbox.
    var queued = false
    /// The answer is written: nothing more goes out.
    var written = false
    /// An answer is chosen: later ones, and any more of the body, are ignored.
    var decided: Bool { queued || written }
    /// lws reads nothing more from this connection until the answer is out (rx flow control).
    var held = false
    /// lws is inside one of this connection's callbacks: answers wait for the inbox.
    var inCallback = false
    /// Counted in `HTTPHandler.inFlight` until answered or gone.
    var inFlight = true

    init(wsi: OpaquePointer, method: HTTPMethod, path: String, ifNoneMatch: String?) {
        self.wsi = wsi
        self.method = method
        self.path = path
        route = HTTPRoute(path: path)
        self.ifNoneMatch = ifNoneMatch
    }
}
