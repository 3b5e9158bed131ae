import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One HTTP/1.1 request on a fresh connection (Connection: close).
public enum HTTPClient {
    public static func request(port: Int, method: String, path: String, body: String? = nil,
                               timeout: Double = 5) throws -> (status: Int, body: String) {
        // CLOEXEC: a process another test spawns meanwhile must not inherit the connection.
        let sock = OwnedFD(socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0))
        // Closed here, exactly once, however this function ends (and not earlier: a bare
        // local's lifetime could otherwise end after its last use of `sock`).
        defer { sock.close() }
        guard sock.isOpen else { throw TestFailure("socket: errno \(errno)") }
        let fd = sock.raw
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { throw TestFailure("connect: errno \(errno)") }
        let b = Array((body ?? "").utf8)
        var req = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        if body != nil { req += "Content-Type: application/json\r\nContent-Length: \(b.count)\r\n" }
        req += "\r\n"
        let all = Array(req.utf8) + b
        _ = all.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
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
