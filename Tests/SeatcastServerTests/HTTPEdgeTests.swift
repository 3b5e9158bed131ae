import Foundation
import SeatcastCore
import SeatcastTesting
import Testing

/// What RFC 9112 9.3.2 allows for pipelined requests: answers in request order, each one
/// complete, then a clean close; a server that stops early says `Connection: close` on
/// its last answer. `checks[i]` must hold for the answer to request i.
func expectPipelined(_ x: RawHTTP.Exchange, _ checks: [(RawResponse) -> Bool],
                     sourceLocation: SourceLocation = #_sourceLocation) {
    let got = x.responses()
    #expect(x.closed, "the connection was held open", sourceLocation: sourceLocation)
    #expect(!got.isEmpty, "no answer at all", sourceLocation: sourceLocation)
    #expect(got.count <= checks.count, "more answers than requests", sourceLocation: sourceLocation)
    #expect(x.trailing() == 0, "bytes after the last complete answer", sourceLocation: sourceLocation)
    for (i, r) in got.prefix(checks.count).enumerated() {
        #expect(checks[i](r), "answer \(i): \(r.status) \(r.text.prefix(80))", sourceLocation: sourceLocation)
    }
    if got.count < checks.count, let last = got.last {
        #expect(last.header("connection")?.lowercased() == "close",
                "stopped after \(got.count) answer(s) without Connection: close", sourceLocation: sourceLocation)
    }
}

@Suite(.timeLimit(.minutes(1)))
struct HTTPPipeliningTests {
    /// Three API requests in one write are answered in order, or the first is answered and the connection closes cleanly.
    @Test func pipelinedAPIRequests() throws {
        let server = try TestServer()
        defer { server.stop() }
        let x = try RawHTTP.exchange(port: server.port,
                                     RawHTTP.get("/healthz") + RawHTTP.get("/metrics") + RawHTTP.get("/api/trips"))
        expectPipelined(x, [
            { $0.status == 200 && $0.text == "ok\n" },
            { $0.status == 200 && $0.text.contains("# TYPE seatcast_connections gauge") },
            { $0.status == 200 && $0.text.hasPrefix("{") },
        ])
    }

    /// Two static files in one write never get a 403 for the second: in order, or the first and a clean close.
    @Test func pipelinedStaticFiles() throws {
        let server = try TestServer()
        defer { server.stop() }
        let x = try RawHTTP.exchange(port: server.port, RawHTTP.get("/index.html") + RawHTTP.get("/style.css"))
        expectPipelined(x, [
            { $0.status == 200 && $0.text.contains("<html") },
            { $0.status == 200 && $0.header("content-type")?.hasPrefix("text/css") == true },
        ])
    }

    /// A POST with its body followed by a GET in the same write: the POST is answered first and its seat is held.
    @Test func pipelinedPostThenGet() throws {
        let db = TestDatabase.shared
        try TestServer.withTrip(rows: 1, cols: 2) { server, trip in
            let x = try RawHTTP.exchange(port: server.port,
                                         RawHTTP.post("/api/trips/\(trip)/reserve", body: #"{"seats":["1A"],"id":"p1"}"#)
                                            + RawHTTP.get("/healthz"))
            expectPipelined(x, [
                { $0.status == 200 && $0.text.contains(#""reserved""#) },
                { $0.status == 200 && $0.text == "ok\n" },
            ])
            #expect(try db.snapshot(trip).seats.filter { $0.status != .available }.count == 1)
            // The command ran once: lws must not hand the same body over again while it waits.
            let m = try server.http("GET", "/metrics").body
            #expect(m.contains(#"seatcast_requests_total{type="reserve"} 1"#), "\(m.split(separator: "\n").filter { $0.contains("reserve") })")
        }
    }

    /// A body over the limit gets 413 without running anything, whether Content-Length says so or not.
    @Test func oversizedBodyIs413() throws {
        let db = TestDatabase.shared
        try TestServer.withTrip(rows: 1, cols: 1) { server, trip in
            let big = #"{"seats":["1A"],"pad":""# + String(repeating: "x", count: 70_000) + #""}"#
            for _ in 0..<5 {
                let r = try server.http("POST", "/api/trips/\(trip)/reserve", body: big)
                #expect(r.status == 413)
                #expect(r.body.contains("too_large"))
            }
            // Content-Length under the limit, then more body than it said: lws stops at the declared length.
            let x = try RawHTTP.exchange(port: server.port,
                                         "POST /api/trips/\(trip)/reserve HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}" + big, timeout: 5)
            #expect(x.responses().first?.status == 400)
            #expect(try db.snapshot(trip).seats.allSatisfy { $0.status == .available })
        }
    }

    /// A single request on a keep-alive connection is still answered in full.
    @Test func singleRequestIsAnswered() throws {
        let server = try TestServer()
        defer { server.stop() }
        let x = try RawHTTP.exchange(port: server.port, RawHTTP.get("/healthz")) { !$0.responses().isEmpty }
        #expect(x.responses().first?.status == 200)
        #expect(x.responses().first?.text == "ok\n")
    }
}

@Suite(.timeLimit(.minutes(1)))
struct HTTPMethodTests {
    /// `CONNECT host:22` gets 405 with an Allow header at once, then the connection closes.
    @Test func connectIsRefusedAtOnce() throws {
        let server = try TestServer()
        defer { server.stop() }
        let x = try RawHTTP.exchange(port: server.port, "CONNECT host:22 HTTP/1.1\r\nHost: host:22\r\n\r\n", timeout: 5)
        let r = x.responses().first
        #expect(r?.status == 405)
        #expect(r?.header("allow") != nil)
        #expect(x.closed)
    }

    /// Unknown and unsupported methods get 405 with Allow; bytes that are not HTTP at all get 400; every one at once.
    @Test func unsupportedMethodsAreRefused() throws {
        let server = try TestServer()
        defer { server.stop() }
        let cases: [(String, Int)] = [
            ("TRACE / HTTP/1.1\r\nHost: x\r\n\r\n", 405),
            ("PATCH /api/trips HTTP/1.1\r\nHost: x\r\n\r\n", 405),
            ("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405),
            ("DELETE /api/trips HTTP/1.1\r\nHost: x\r\n\r\n", 405),
            ("OPTIONS / HTTP/1.1\r\nHost: x\r\n\r\n", 405),
            ("FOO / HTTP/1.1\r\nHost: x\r\n\r\n", 405),
            ("\u{16}\u{3}\u{1}\u{2}\u{0}\u{1}\u{0}\u{1}\u{fc}\u{3}\u{3}\r\n\r\n", 400),
        ]
        for (request, status) in cases {
            let x = try RawHTTP.exchange(port: server.port, request, timeout: 5)
            let r = x.responses().first
            let line = request.prefix(while: { $0 != "\r" })
            #expect(r?.status == status, "\(line.debugDescription) -> \(r.map { "\($0.status)" } ?? "no answer")")
            if status == 405 { #expect(r?.header("allow") != nil, "\(line.debugDescription): no Allow") }
            #expect(x.closed, "\(line.debugDescription) left open")
        }
    }

    /// A method a known resource does not take gets 405 naming the ones it does.
    @Test func wrongMethodOnKnownResource() throws {
        let db = TestDatabase.shared
        try TestServer.withTrip(rows: 1, cols: 1) { server, trip in
            let get = try RawHTTP.exchange(port: server.port, RawHTTP.get("/api/trips/\(trip)/reserve"), timeout: 5)
            #expect(get.responses().first?.status == 405)
            #expect(get.responses().first?.header("allow") == "POST")
            let post = try RawHTTP.exchange(port: server.port, RawHTTP.post("/healthz", body: "{}"), timeout: 5)
            #expect(post.responses().first?.status == 405)
            #expect(post.responses().first?.header("allow") == "GET, HEAD")
            #expect(try db.snapshot(trip).seats.allSatisfy { $0.status == .available })
        }
    }

    /// HEAD answers like GET without a body, for a file and for an endpoint.
    @Test func headIsGetWithoutBody() throws {
        let server = try TestServer()
        defer { server.stop() }
        for path in ["/", "/healthz"] {
            let get = try RawHTTP.exchange(port: server.port, RawHTTP.get(path), timeout: 5).responses().first
            let x = try RawHTTP.exchange(port: server.port, RawHTTP.get(path, method: "HEAD"), timeout: 5)
            let head = x.responses(headOnly: true).first
            #expect(head?.status == 200, "HEAD \(path)")
            #expect(head?.header("content-length") == get?.header("content-length"), "HEAD \(path)")
            #expect(x.trailing(headOnly: true) == 0, "HEAD \(path) sent a body")
        }
    }
}
