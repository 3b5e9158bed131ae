import Foundation
import SeatcastClient
import SeatcastCore
import Testing
#if canImport(Glibc)
import Glibc
#endif

// Owns: the tests of the terminal client's buyer-token plumbing that need no server of issue
// 10: the `?token=` on the handshake, what a 401 answer to the upgrade looks like to the
// client (a real socket that answers like the server will), and the bench's tokens.

@Suite struct WebSocketURLTokenTests {
    /// A token goes on the request path as `?token=` (or `&token=`), percent-encoded where needed; other paths keep it; an empty one is none.
    @Test func requestPath() {
        let u = WebSocketURL("ws://127.0.0.1:8080")!
        #expect(u.requestPath == "/")
        let t = u.with(path: "/ws").with(token: "aa.bb-_.cc")
        #expect(t.requestPath == "/ws?token=aa.bb-_.cc")
        #expect(t.with(path: "/ws/trips/T1").requestPath == "/ws/trips/T1?token=aa.bb-_.cc")
        #expect(WebSocketURL.path("/ws/trips/T1?compact=1", token: "x") == "/ws/trips/T1?compact=1&token=x")
        #expect(u.with(token: "a+b/c= &#é").requestPath == "/?token=a%2Bb%2Fc%3D%20%26%23%C3%A9")
        #expect(t.with(token: "").token == nil)
        #expect(t.with(token: nil).requestPath == "/ws")
    }
}

/// A one-connection-at-a-time HTTP server on 127.0.0.1 that answers every request with
/// `status` and records each request line: what the seatcast server does to a handshake
/// without a valid token (HTTP 401, not upgraded).
final class RefusingServer: @unchecked Sendable {
    let port: Int
    private let fd: Int32
    private let log = RequestLog()

    final class RequestLog: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        func add(_ line: String) { lock.withLock { lines.append(line) } }
        var all: [String] { lock.withLock { lines } }
    }

    init(status: String) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(fd, 16) == 0 else { throw POSIXError(.EADDRINUSE) }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        let log = self.log
        port = Int(UInt16(bigEndian: addr.sin_port))
        let listener = fd
        Thread.detachNewThread {
            while true {
                let c = accept(listener, nil, nil)
                if c < 0 { return }
                var request: [UInt8] = []
                var buf = [UInt8](repeating: 0, count: 4096)
                while !String(decoding: request, as: UTF8.self).contains("\r\n\r\n") {
                    let n = read(c, &buf, buf.count)
                    if n <= 0 { break }
                    request += buf[0..<n]
                }
                let line = String(decoding: request, as: UTF8.self).components(separatedBy: "\r\n").first ?? ""
                log.add(line)
                let body = #"{"type":"error","code":"unauthorized","message":"a buyer token is required"}"#
                let answer = "HTTP/1.1 \(status)\r\nContent-Type: application/json\r\nWWW-Authenticate: Bearer\r\n"
                    + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + body
                _ = answer.withCString { write(c, $0, strlen($0)) }
                close(c)
            }
        }
    }

    var requestLines: [String] { log.all }

    deinit { shutdown(fd, Int32(SHUT_RDWR)); close(fd) }
}

@Suite(.timeLimit(.minutes(1)))
struct HandshakeRefusedTests {
    /// A 401 answer to the upgrade is reported as `unauthorized` (and the request carried the token); another refusal (403) is not; `seatcast watch`'s Watcher gives up on a 401 instead of reconnecting for ever.
    @Test func unauthorizedHandshake() throws {
        let refusing = try RefusingServer(status: "401 Unauthorized")
        let url = WebSocketURL("ws://127.0.0.1:\(refusing.port)")!.with(token: "h.p.s")
        let ended = OneShot.run(url: url, request: "{}")
        guard case let .failure(closed) = ended else { Issue.record("a refused handshake got a reply"); return }
        #expect(closed.unauthorized, "\(closed)")
        #expect(refusing.requestLines.first == "GET /ws?token=h.p.s HTTP/1.1", "\(refusing.requestLines)")

        let watcher = Watcher(url: url, tripId: "T1", color: false) { _ in }
        let fatal = watcher.run()
        #expect(watcher.unauthorized)
        #expect(fatal.hasPrefix("unauthorized"), "\(fatal)")

        let forbidden = try RefusingServer(status: "403 Forbidden")
        guard case let .failure(other) = OneShot.run(url: WebSocketURL("ws://127.0.0.1:\(forbidden.port)")!, request: "{}") else {
            Issue.record("a refused handshake got a reply")
            return
        }
        #expect(!other.unauthorized, "\(other)")
    }
}

@Suite struct BenchTokensTests {
    /// Each load client gets its own token (sub bench-N), the same one every time, valid with the secret for the TTL; with another secret it is refused.
    @Test func oneTokenPerClient() throws {
        let now = Date().timeIntervalSince1970
        let tokens = BenchTokens(secret: "bench-secret", ttl: 3600, now: now)
        #expect(tokens.token(0) == tokens.token(0))
        #expect(tokens.token(0) != tokens.token(1))
        let claims = try BuyerToken.verify(tokens.token(7), secret: Array("bench-secret".utf8), now: now).get()
        #expect(claims.sub == "bench-7")
        #expect(abs(claims.exp - (now + 3600)) <= 1)
        #expect(throws: (any Error).self) { try BuyerToken.verify(tokens.token(7), secret: Array("other".utf8), now: now).get() }
        #expect(throws: (any Error).self) { try BuyerToken.verify(tokens.token(7), secret: Array("bench-secret".utf8), now: now + 7200).get() }
    }
}
