import SeatcastCore

/// A response waiting to be written on an HTTP connection.
struct HTTPResponse: Sendable {
    var status: Int
    var contentType: String
    var body: Frame

    static func json(_ status: Int, _ bytes: [UInt8]) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "application/json", body: Frame(bytes))
    }

    static func text(_ status: Int, _ s: String, type: String = "text/plain; charset=utf-8") -> HTTPResponse {
        HTTPResponse(status: status, contentType: type, body: Frame(Array(s.utf8)))
    }
}

/// One HTTP request to /api, /healthz or /metrics. Loop thread only; answered
/// asynchronously when its database work completes.
final class HTTPRequest: @unchecked Sendable {
    let wsi: OpaquePointer
    let isPost: Bool
    let path: String
    var body: [UInt8] = []
    /// The connection closed: drop the answer.
    var dead = false
    var response: HTTPResponse?
    var headersSent = false
    var bodyOffset = 0
    /// Counted in `Server.httpInFlight` until answered or gone.
    var inFlight = true

    init(wsi: OpaquePointer, isPost: Bool, path: String) {
        self.wsi = wsi
        self.isPost = isPost
        self.path = path
    }
}
