import Foundation
import SeatcastTesting
#if canImport(Glibc)
import Glibc
#endif

/// One HTTP response as it came off the wire.
struct RawResponse {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    /// The first header of that name (case-insensitive).
    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    var text: String { String(decoding: body, as: UTF8.self) }
}

/// A raw TCP conversation with the server: bytes sent exactly as given (several
/// requests in one write, broken requests), everything read until the server closes
/// or the timeout passes. Test helper: the fd is closed exactly once, by `exchange`.
enum RawHTTP {
    struct Exchange {
        var bytes: [UInt8]
        /// The server closed the connection (EOF or reset) before the timeout.
        var closed: Bool
        /// The connection ended with a reset rather than a clean EOF.
        var reset = false

        /// The complete responses in the bytes, in order (bodies delimited by Content-Length;
        /// `headOnly` for answers to HEAD, which have none).
        func responses(headOnly: Bool = false) -> [RawResponse] { parse(headOnly: headOnly).responses }

        /// Bytes after the last complete response (a half response, or garbage).
        func trailing(headOnly: Bool = false) -> Int { parse(headOnly: headOnly).trailing }

        private func parse(headOnly: Bool) -> (responses: [RawResponse], trailing: Int) {
            var out: [RawResponse] = []
            var rest = bytes[...]
            while let end = Self.headEnd(rest) {
                let head = String(decoding: rest[rest.startIndex..<end], as: UTF8.self)
                let lines = head.components(separatedBy: "\r\n")
                let parts = lines[0].split(separator: " ")
                guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let status = Int(parts[1]) else { break }
                var headers: [(name: String, value: String)] = []
                for line in lines.dropFirst() {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    headers.append((String(line[..<colon]).trimmingCharacters(in: .whitespaces),
                                    String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)))
                }
                let bodyStart = end + 4
                // 1xx, 204 and 304 never have a body (RFC 9112 6.3), whatever Content-Length says.
                let bodiless = headOnly || status < 200 || status == 204 || status == 304
                let length = bodiless ? 0 : (headers.first { $0.name.lowercased() == "content-length" }.flatMap { Int($0.value) } ?? 0)
                guard rest.endIndex - bodyStart >= length else { break }
                out.append(RawResponse(status: status, headers: headers, body: Array(rest[bodyStart..<(bodyStart + length)])))
                rest = rest[(bodyStart + length)...]
            }
            return (out, rest.count)
        }

        static func headEnd(_ d: ArraySlice<UInt8>) -> Int? {
            guard d.count >= 4 else { return nil }
            var i = d.startIndex
            while i + 3 < d.endIndex {
                if d[i] == 13 && d[i + 1] == 10 && d[i + 2] == 13 && d[i + 3] == 10 { return i }
                i += 1
            }
            return nil
        }
    }

    /// Sends `request` in one write and reads until the server closes or `timeout` passes.
    /// `until` ends the read early once what arrived satisfies it (for connections the
    /// server rightly keeps open, such as an accepted WebSocket upgrade).
    /// `receiveBuffer` sets SO_RCVBUF (a small one keeps a large answer flushing on the
    /// server side); `later` is sent once the first bytes of the answer have arrived.
    static func exchange(port: Int, _ request: [UInt8], timeout: Double = 10, receiveBuffer: Int? = nil,
                         later: [UInt8]? = nil, until: ((Exchange) -> Bool)? = nil) throws -> Exchange {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: errno \(errno)") }
        defer { close(fd) }
        if var size = receiveBuffer.map(Int32.init) {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { throw TestFailure("connect to port \(port): errno \(errno)") }
        func sendAll(_ bytes: [UInt8]) throws {
            var off = 0
            while off < bytes.count {
                let n = bytes[off...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard n > 0 else { throw TestFailure("send: errno \(errno)") }
                off += n
            }
        }
        try sendAll(request)
        var pending = later
        var got = Exchange(bytes: [], closed: false)
        var chunk = [UInt8](repeating: 0, count: 65536)
        let deadline = Date().addingTimeInterval(timeout)
        while !got.closed {
            if let until, until(got) { break }
            let ms = Int32(max(0, deadline.timeIntervalSinceNow * 1000))
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, ms) > 0 else { break }
            let n = read(fd, &chunk, min(chunk.count, receiveBuffer ?? chunk.count))
            if n == 0 { got.closed = true }
            if n < 0 {
                got.closed = true
                got.reset = errno == ECONNRESET
            }
            if n > 0 {
                got.bytes.append(contentsOf: chunk[0..<n])
                if let p = pending {
                    pending = nil
                    try sendAll(p)
                }
            }
        }
        return got
    }

    static func exchange(port: Int, _ request: String, timeout: Double = 10, receiveBuffer: Int? = nil,
                         later: String? = nil, until: ((Exchange) -> Bool)? = nil) throws -> Exchange {
        try exchange(port: port, Array(request.utf8), timeout: timeout, receiveBuffer: receiveBuffer,
                     later: later.map { Array($0.utf8) }, until: until)
    }

    /// `GET path` with a Host header, as one request of a pipeline.
    static func get(_ path: String, method: String = "GET", headers: [String: String] = [:]) -> String {
        var s = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (k, v) in headers.sorted(by: { $0.key < $1.key }) { s += "\(k): \(v)\r\n" }
        return s + "\r\n"
    }

    static func post(_ path: String, body: String) -> String {
        "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }
}
