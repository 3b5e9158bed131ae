import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One HTTP/1.1 request on a fresh connection (Connection: close).
public enum HTTPClient {
    /// `headers`: extra request headers (`Authorization`, ...).
    public static func request(port: Int, method: String, path: String, body: String? = nil, headers: [String: String] = [:],
                               timeout: Double = 5) throws -> (status: Int, body: String) {
        let sock = try OwnedFD.connectTCP(port: port)
        // Closed here, exactly once, however this function ends (and not earlier: a bare
        // local's lifetime could otherwise end after its last use of `sock`).
        defer { sock.close() }
        let fd = sock.raw
        let b = Array((body ?? "").utf8)
        var req = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        if body != nil { req += "Content-Type: application/json\r\nContent-Length: \(b.count)\r\n" }
        for (k, v) in headers.sorted(by: { $0.key < $1.key }) { req += "\(k): \(v)\r\n" }
        req += "\r\n"
        let all = Array(req.utf8) + b
        // A server may answer (413, say) and close before it has read all of a large body:
        // a failed send still leaves its answer to read.
        try? sock.writeAll(all)
        var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { break }
            data.append(contentsOf: chunk[0..<n])
            if let (status, len, headEnd) = parseHead(data), let len, data.count >= headEnd + len {
                return (status, String(decoding: data[headEnd..<(headEnd + len)], as: UTF8.self))
            }
        }
        guard let (status, _, headEnd) = parseHead(data) else { throw TestFailure("no HTTP response") }
        return (status, String(decoding: data[headEnd...], as: UTF8.self))
    }

    static func parseHead(_ d: [UInt8]) -> (Int, Int?, Int)? {
        let s = String(decoding: d, as: UTF8.self)
        guard let r = s.range(of: "\r\n\r\n") else { return nil }
        let head = s[..<r.lowerBound]
        let lines = head.split(separator: "\r\n")
        guard let first = lines.first, first.split(separator: " ").count >= 2,
              let status = Int(first.split(separator: " ")[1]) else { return nil }
        var len: Int?
        for l in lines.dropFirst() where l.lowercased().hasPrefix("content-length:") {
            len = Int(l.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
        }
        return (status, len, s.utf8.distance(from: s.startIndex, to: r.upperBound))
    }
}
