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
/// or the timeout passes.
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
            while let end = httpHeadEnd(rest) {
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
    }

    /// Sends `request` in one write and reads until the server closes or `timeout` passes.
    /// `until` ends the read early once what arrived satisfies it (for connections the
    /// server rightly keeps open, such as an accepted WebSocket upgrade).
    /// `receiveBuffer` sets SO_RCVBUF (a small one keeps a large answer flushing on the
    /// server side); `later` is sent once the first bytes of the answer have arrived.
    static func exchange(port: Int, _ request: [UInt8], timeout: Double = 10, receiveBuffer: Int? = nil,
                         later: [UInt8]? = nil, until: ((Exchange) -> Bool)? = nil) throws -> Exchange {
        let sock = try OwnedFD.connectTCP(port: port, receiveBuffer: receiveBuffer)
        // Closed here, exactly once, however this function ends.
        defer { sock.close() }
        let fd = sock.raw
        try sock.writeAll(request)
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
                    try sock.writeAll(p)
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
