import Foundation
@testable import SeatcastServer
import Testing

struct HTTPRouteTests {
    /// Paths map to the routes docs/PROTOCOL.md lists; anything outside /api, /healthz and /metrics is a file.
    @Test(arguments: [
        ("/healthz", HTTPRoute.health),
        ("/metrics", .metrics),
        ("/api/trips", .trips),
        ("/api/trips/", .trips),
        ("/api/trips/t1", .trip("t1")),
        ("/api/trips/t1/audit", .audit("t1")),
        ("/api/trips/t1/reserve", .command(tripId: "t1", type: "reserve")),
        ("/api/trips/t1/confirm", .command(tripId: "t1", type: "confirm")),
        ("/api/trips/t1/release", .command(tripId: "t1", type: "release")),
        ("/api/trips/t1/teleport", .unknownEndpoint),
        ("/api", .unknownEndpoint),
        ("/api/nothing", .unknownEndpoint),
        ("/healthz/x", .unknownEndpoint),
        ("/", .file),
        ("/index.html", .file),
        ("/healthzz", .file),
    ])
    func routes(path: String, route: HTTPRoute) {
        #expect(HTTPRoute(path: path) == route)
    }

    /// Commands take POST only, /api/trips also POST (create), a trip also DELETE (1.1), unknown endpoints any
    /// method seatcast speaks (to answer 404), the rest GET and HEAD.
    @Test func allowedMethods() {
        #expect(HTTPRoute.command(tripId: "t", type: "reserve").allowHeader == "POST")
        #expect(HTTPRoute.unknownEndpoint.allowHeader == "GET, HEAD, POST, DELETE")
        #expect(HTTPRoute.trips.allowHeader == "GET, HEAD, POST")
        #expect(HTTPRoute.trip("t").allowHeader == "GET, HEAD, DELETE")
        for r in [HTTPRoute.health, .metrics, .audit("t"), .file] {
            #expect(r.allowHeader == "GET, HEAD")
        }
    }

    /// Credentials are read under /api only.
    @Test func apiRoutes() {
        for r in [HTTPRoute.trips, .trip("t"), .audit("t"), .command(tripId: "t", type: "reserve")] { #expect(r.isAPI) }
        for r in [HTTPRoute.health, .metrics, .unknownEndpoint, .file] { #expect(!r.isAPI) }
    }

    /// The WebSocket Origin rule with secrets configured: none always; else the allowlist, or the server's own origin.
    @Test func originRule() {
        #expect(WebSocketHandshake.originAllowed(nil, host: "a.example:8080", allowList: []))
        #expect(WebSocketHandshake.originAllowed("http://a.example:8080", host: "a.example:8080", allowList: []))
        #expect(WebSocketHandshake.originAllowed("https://A.example:8080", host: "a.example:8080", allowList: []))
        #expect(!WebSocketHandshake.originAllowed("http://evil.example", host: "a.example:8080", allowList: []))
        #expect(!WebSocketHandshake.originAllowed("http://a.example", host: "a.example:8080", allowList: []))
        #expect(!WebSocketHandshake.originAllowed("http://a.example:8080", host: nil, allowList: []))
        #expect(!WebSocketHandshake.originAllowed("null", host: "a.example:8080", allowList: []))
        #expect(WebSocketHandshake.originAllowed("http://other", host: "a.example:8080", allowList: ["http://other"]))
        #expect(!WebSocketHandshake.originAllowed("http://a.example:8080", host: "a.example:8080", allowList: ["http://other"]))
    }

    /// Bytes lws could not read as HTTP get 405 when they start with a method token, else 400.
    @Test(arguments: [
        ("TRACE / HTTP/1.1\r\n", 405),
        ("CONNECT host:22 HTTP/1.1\r\n", 405),
        ("M-SEARCH * HTTP/1.1\r\n", 405),
        ("C", 405),
        ("\u{16}\u{3}\u{1}\u{2}\u{0}", 400),
        (" GET / HTTP/1.1", 400),
        ("GE(T / HTTP/1.1", 400),
        ("", 400),
    ])
    func fallbackStatus(start: String, status: Int) {
        #expect(HTTPFallback.status(forRequestStart: Array(start.utf8)) == status)
    }

    /// The fallback answer is a complete HTTP/1.1 response whose length matches its body and that closes.
    @Test func fallbackAnswer() {
        let text = String(decoding: HTTPFallback.answer(status: 405), as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 405 Method Not Allowed\r\n"))
        #expect(text.contains("\r\nallow: GET, HEAD, POST, DELETE\r\n"))
        #expect(text.contains("\r\nconnection: close\r\n"))
        let parts = text.components(separatedBy: "\r\n\r\n")
        #expect(text.contains("content-length: \(parts[1].utf8.count)\r\n"))
        #expect(String(decoding: HTTPFallback.answer(status: 400), as: UTF8.self).hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
    }
}

struct WebSocketHandshakeCheckTests {
    static let key = "dGhlIHNhbXBsZSBub25jZQ=="

    /// A good key, version 13 and no or the seatcast subprotocol pass.
    @Test func acceptsTheGoodHandshakes() {
        #expect(WebSocketHandshake.check(key: Self.key, version: "13", protocols: nil) == nil)
        #expect(WebSocketHandshake.check(key: " \(Self.key)", version: " 13", protocols: "") == nil)
        #expect(WebSocketHandshake.check(key: Self.key, version: "13", protocols: "seatcast.v1") == nil)
        #expect(WebSocketHandshake.check(key: Self.key, version: "13", protocols: "chat, seatcast.v1") == nil)
    }

    /// Other versions get 426 naming 13; bad keys 400; subprotocols lws would pick other than seatcast.v1 400.
    @Test func refusals() {
        for version in [nil, "", "12", "8", "13, 8", "130"] {
            let r = WebSocketHandshake.check(key: Self.key, version: version, protocols: nil)
            #expect(r?.status == 426, "version \(version ?? "nil")")
            #expect(r?.headers == [HTTPHeader("sec-websocket-version", "13")])
        }
        let sixteen = Data(repeating: 1, count: 16).base64EncodedString()
        #expect(WebSocketHandshake.isValidKey(sixteen))
        for key in [nil, "", "short", Data(repeating: 1, count: 15).base64EncodedString(),
                    Data(repeating: 1, count: 17).base64EncodedString(), "!!!!notbase64!!!!!!!!!==", String(sixteen.dropLast(2))] {
            #expect(WebSocketHandshake.check(key: key, version: "13", protocols: nil)?.status == 400, "key \(key ?? "nil")")
        }
        for offer in ["seatcast-http", "seatcast-http, seatcast.v1", "chat", "seatcast.v2"] {
            #expect(WebSocketHandshake.check(key: Self.key, version: "13", protocols: offer)?.status == 400, "\(offer)")
        }
    }

    /// lws takes the first offered name it knows; the check mirrors that.
    @Test func chosenProtocolMirrorsLws() {
        #expect(WebSocketHandshake.chosenProtocol("chat, seatcast.v1") == "seatcast.v1")
        #expect(WebSocketHandshake.chosenProtocol("seatcast-http,seatcast.v1") == "seatcast-http")
        #expect(WebSocketHandshake.chosenProtocol("chat") == nil)
    }
}

struct StaticFilesPolicyTests {
    /// URL paths become paths below the folder; `..`, `.` and NUL can never name a file inside it.
    @Test func relativePaths() {
        #expect(StaticFiles.relativePath("/") == "")
        #expect(StaticFiles.relativePath("/a.css") == "a.css")
        #expect(StaticFiles.relativePath("//sub//x.js") == "sub/x.js")
        #expect(StaticFiles.relativePath("/sub/") == "sub/")
        #expect(StaticFiles.relativePath("/../etc/passwd") == nil)
        #expect(StaticFiles.relativePath("/sub/..") == nil)
        #expect(StaticFiles.relativePath("/./a.css") == nil)
        #expect(StaticFiles.relativePath("/a\u{0}.css") == nil)
        #expect(StaticFiles.relativePath("/..foo") == "..foo")
    }

    /// Inside means strictly below the root, not merely sharing a prefix with it.
    @Test func inside() {
        #expect(StaticFiles.isInside("/srv/public/a.css", root: "/srv/public"))
        #expect(StaticFiles.isInside("/srv/public/sub/a.css", root: "/srv/public/"))
        #expect(!StaticFiles.isInside("/srv/public", root: "/srv/public"))
        #expect(!StaticFiles.isInside("/srv/publicity/a.css", root: "/srv/public"))
        #expect(!StaticFiles.isInside("/etc/passwd", root: "/srv/public"))
        #expect(StaticFiles.isInside("/a", root: "/"))
    }

    /// Content types come from the extension, case-insensitively, with a safe default.
    @Test func contentTypes() {
        #expect(StaticFiles.contentType("/x/index.html") == "text/html; charset=utf-8")
        #expect(StaticFiles.contentType("STYLE.CSS") == "text/css; charset=utf-8")
        #expect(StaticFiles.contentType("app.js") == "text/javascript; charset=utf-8")
        #expect(StaticFiles.contentType("logo.svg") == "image/svg+xml")
        #expect(StaticFiles.contentType("Makefile") == "application/octet-stream")
        #expect(StaticFiles.contentType("archive.tar.gz") == "application/octet-stream")
        #expect(StaticFiles.contentType("/dir.d/file") == "application/octet-stream")
    }

    /// ETags are quoted, and If-None-Match matches weakly, in a list, or with *.
    @Test func revalidation() {
        let tag = StaticFiles.etag(size: 255, modifiedNanoseconds: 16)
        #expect(tag == "\"ff-10\"")
        #expect(StaticFiles.ifNoneMatch(tag, matches: tag))
        #expect(StaticFiles.ifNoneMatch("W/\(tag)", matches: tag))
        #expect(StaticFiles.ifNoneMatch("\"other\", \(tag)", matches: tag))
        #expect(StaticFiles.ifNoneMatch("*", matches: tag))
        #expect(!StaticFiles.ifNoneMatch("\"ff-11\"", matches: tag))
        #expect(!StaticFiles.ifNoneMatch("ff-10", matches: tag))
    }
}
