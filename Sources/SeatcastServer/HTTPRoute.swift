/// The request methods seatcast answers; every other method gets 405.
enum HTTPMethod: String, Sendable {
    case get = "GET", head = "HEAD", post = "POST", delete = "DELETE"
}

/// What an HTTP path names, and which methods it takes. Pure: the routing policy.
enum HTTPRoute: Equatable, Sendable {
    case health
    case metrics
    /// GET: the list; POST: create a trip (the backend key, version 1.1).
    case trips
    /// GET: the snapshot; DELETE: delete the trip (the backend key, version 1.1). Trip ids
    /// are checked when answering (an invalid one is `unknown_trip`, as over WebSocket).
    case trip(String)
    case audit(String)
    /// POST /api/trips/{id}/reserve|confirm|release.
    case command(tripId: String, type: String)
    /// Under /api, /healthz or /metrics but none of the above: a JSON 404.
    case unknownEndpoint
    /// Anything else is a file under the public folder.
    case file

    static let commands: Set<String> = ["reserve", "confirm", "release", "extend"]

    init(path: String) {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        switch parts.first {
        case "healthz": self = parts.count == 1 ? .health : .unknownEndpoint
        case "metrics": self = parts.count == 1 ? .metrics : .unknownEndpoint
        case "api":
            guard parts.count >= 2, parts[1] == "trips" else { self = .unknownEndpoint; return }
            switch parts.count {
            case 2: self = .trips
            case 3: self = .trip(parts[2])
            case 4 where parts[3] == "audit": self = .audit(parts[2])
            case 4 where Self.commands.contains(parts[3]): self = .command(tripId: parts[2], type: parts[3])
            default: self = .unknownEndpoint
            }
        default: self = .file
        }
    }

    /// The methods this route answers, in the order an Allow header lists them.
    var allowed: [HTTPMethod] {
        switch self {
        case .command: return [.post]
        case .trips: return [.get, .head, .post]
        case .trip: return [.get, .head, .delete]
        // A 404 whatever the method, as long as it is one seatcast speaks.
        case .unknownEndpoint: return [.get, .head, .post, .delete]
        default: return [.get, .head]
        }
    }

    /// Under /api: credentials are read (docs/PROTOCOL.md 1.1, "Who may do what").
    var isAPI: Bool {
        switch self {
        case .trips, .trip, .audit, .command: return true
        case .health, .metrics, .unknownEndpoint, .file: return false
        }
    }

    var allowHeader: String { allowed.map(\.rawValue).joined(separator: ", ") }
}

/// The answer to bytes that libwebsockets could not read as HTTP/1.1 at all (an unknown
/// method such as TRACE, or no method: a TLS hello, garbage) and to CONNECT, which lws
/// hands over as a raw socket. Pure.
enum HTTPFallback {
    /// 405 when the bytes start like a request line with a method token (RFC 9110 5.6.2
    /// tchars up to the first space or the end of what arrived), else 400.
    static func status(forRequestStart bytes: some Collection<UInt8>) -> Int {
        var sawToken = false
        for b in bytes {
            if b == UInt8(ascii: " ") { return sawToken ? 405 : 400 }
            guard isTokenChar(b) else { return 400 }
            sawToken = true
        }
        return sawToken ? 405 : 400
    }

    static func isTokenChar(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("!#$%&'*+-.^_`|~".utf8).contains(b)
        }
    }

    /// The whole answer, raw: the connection is no longer HTTP to lws, so nothing adds headers.
    static func answer(status: Int) -> [UInt8] {
        let reason = status == 405 ? "Method Not Allowed" : "Bad Request"
        let body = status == 405 ? "method not allowed: seatcast answers GET, HEAD, POST and DELETE\n" : "bad request: not HTTP/1.1\n"
        var s = "HTTP/1.1 \(status) \(reason)\r\n"
        if status == 405 { s += "allow: GET, HEAD, POST, DELETE\r\n" }
        s += "content-type: text/plain; charset=utf-8\r\ncontent-length: \(body.utf8.count)\r\n"
        s += "cache-control: no-store\r\nconnection: close\r\nserver: seatcast\r\n\r\n" + body
        return Array(s.utf8)
    }
}
