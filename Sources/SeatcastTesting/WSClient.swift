import Foundation
import SeatcastCore
#if canImport(Glibc)
import Glibc
#endif

/// A minimal blocking WebSocket client on a raw TCP socket (RFC 6455), for tests:
/// it can also send what a well-behaved client never would (binary frames, oversized
/// messages, fragments). Server pings are answered. Not thread-safe: one thread uses it.
public final class WSClient {
    /// The connection's socket, closed exactly once: when the client goes away, or when
    /// its init fails (the init never closes it itself: a thrown init of this class runs
    /// deinit, which would close the number a second time).
    private let sock: OwnedFD
    public var fd: Int32 { sock.raw }
    private var buffer: [UInt8] = []
    private var pending: [JSON] = []
    private var fragments: [UInt8] = []
    /// Close code from the server, once it closed.
    public private(set) var closeCode: UInt16?
    public private(set) var isClosed = false
    /// Every message received, in order, as text.
    public private(set) var transcript: [String] = []

    /// `receiveBuffer` sets SO_RCVBUF before connecting: a small one makes a client that
    /// stops reading push back on the server quickly (slow-client tests).
    public init(host: String = "127.0.0.1", port: Int, path: String = "/ws", headers: [String: String] = [:],
                timeout: Double = 5, receiveBuffer: Int? = nil) throws {
        sock = try OwnedFD.connectTCP(host: host, port: port, receiveBuffer: receiveBuffer, noDelay: true)
        var key = [UInt8](repeating: 0, count: 16)
        for i in key.indices { key[i] = UInt8.random(in: 0...255) }
        var req = "GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        req += "Sec-WebSocket-Key: \(Data(key).base64EncodedString())\r\nSec-WebSocket-Version: 13\r\n"
        for (k, v) in headers { req += "\(k): \(v)\r\n" }
        req += "\r\n"
        try sock.writeAll(Array(req.utf8))
        // Read the response head.
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let end = httpHeadEnd(buffer[...]) {
                let head = String(decoding: buffer[0..<end], as: UTF8.self)
                buffer.removeFirst(end + 4)
                guard head.hasPrefix("HTTP/1.1 101") else {
                    throw TestFailure("upgrade refused: \(head.split(separator: "\r\n").first ?? "")")
                }
                break
            }
            guard try fill(until: deadline) else { throw TestFailure("no upgrade response") }
        }
    }

    /// Reads what is available before the deadline; false on timeout, throws on EOF.
    private func fill(until deadline: Date) throws -> Bool {
        let ms = Int32(max(0, deadline.timeIntervalSinceNow * 1000))
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let n = poll(&p, 1, ms)
        if n <= 0 { return false }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let r = read(fd, &chunk, chunk.count)
        if r <= 0 {
            isClosed = true
            throw TestFailure("connection closed by server (close code \(closeCode.map(String.init) ?? "none"))")
        }
        buffer.append(contentsOf: chunk[0..<r])
        return true
    }

    // MARK: Sending

    /// Sends one masked frame. `opcode` 1 = text, 2 = binary, 0 = continuation.
    public func sendFrame(opcode: UInt8, _ payload: [UInt8], fin: Bool = true) throws {
        try sock.writeAll(Self.frame(opcode: opcode, payload, fin: fin))
    }

    /// One frame as a client sends it (RFC 6455 5.2): masked with a fresh key, the length
    /// in its shortest encoding.
    public static func frame(opcode: UInt8, _ payload: [UInt8], fin: Bool = true) -> [UInt8] {
        var f: [UInt8] = [(fin ? 0x80 : 0) | opcode]
        let n = payload.count
        if n < 126 {
            f.append(0x80 | UInt8(n))
        } else if n < 65536 {
            f += [0x80 | 126, UInt8(n >> 8), UInt8(n & 255)]
        } else {
            f.append(0x80 | 127)
            for i in (0..<8).reversed() { f.append(UInt8((n >> (8 * i)) & 255)) }
        }
        let mask = (0..<4).map { _ in UInt8.random(in: 0...255) }
        f += mask
        f.reserveCapacity(f.count + n)
        for (i, b) in payload.enumerated() { f.append(b ^ mask[i & 3]) }
        return f
    }

    public func send(_ text: String) throws { try sendFrame(opcode: 1, Array(text.utf8)) }

    /// Sends several text messages in ONE write, so the server reads them together (in the
    /// same loop pass): what a test needs when the order of two requests against a third
    /// event (a database answer) must not depend on the network.
    public func send(texts: [String]) throws {
        try sock.writeAll(texts.flatMap { Self.frame(opcode: 1, Array($0.utf8)) })
    }

    /// Sends a JSON object given as key/value pairs in order.
    public func send(json: JSON) throws { try send(json.text) }

    // MARK: Receiving

    /// The next text message, or nil at the timeout. Answers pings; records a close.
    public func nextText(timeout: Double = 5) throws -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let msg = try parseFrame() { return msg }
            if isClosed { throw TestFailure("connection closed (code \(closeCode.map(String.init) ?? "none"))") }
            guard try fill(until: deadline) else { return nil }
        }
    }

    /// The next message as JSON (from the pushback buffer first); throws at the timeout.
    public func next(timeout: Double = 5) throws -> JSON {
        if !pending.isEmpty { return pending.removeFirst() }
        guard let text = try nextText(timeout: timeout) else { throw TestFailure("no message within \(timeout)s") }
        return try JSON.parse(text)
    }

    /// The next message of `type`; messages of other types before it are kept for later.
    public func next(type: String, timeout: Double = 5, where match: (JSON) -> Bool = { _ in true }) throws -> JSON {
        if let i = pending.firstIndex(where: { $0["type"]?.stringValue == type && match($0) }) {
            return pending.remove(at: i)
        }
        let deadline = Date().addingTimeInterval(timeout)
        var skipped: [JSON] = []
        defer { pending.append(contentsOf: skipped) }
        while true {
            let left = deadline.timeIntervalSinceNow
            guard left > 0, let text = try nextText(timeout: left) else {
                throw TestFailure("no \(type) within \(timeout)s; got \(skipped.map { $0.text.prefix(120) })")
            }
            let j = try JSON.parse(text)
            if j["type"]?.stringValue == type && match(j) { return j }
            skipped.append(j)
        }
    }

    /// The reply to the request with this `id`, whatever its type; other messages are kept.
    public func reply(id: String, timeout: Double = 5) throws -> JSON {
        if let i = pending.firstIndex(where: { $0["id"]?.stringValue == id }) { return pending.remove(at: i) }
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let left = deadline.timeIntervalSinceNow
            guard left > 0, let text = try nextText(timeout: left) else { throw TestFailure("no reply to \(id) within \(timeout)s") }
            let j = try JSON.parse(text)
            if j["id"]?.stringValue == id { return j }
            pending.append(j)
        }
    }

    /// Everything that arrives until `type` (inclusive) arrives.
    public func collect(until type: String, timeout: Double = 5, where match: (JSON) -> Bool = { _ in true }) throws -> [JSON] {
        var out = pending
        pending = []
        if let i = out.firstIndex(where: { $0["type"]?.stringValue == type && match($0) }) {
            pending = Array(out[(i + 1)...])
            return Array(out[...i])
        }
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let left = deadline.timeIntervalSinceNow
            guard left > 0, let text = try nextText(timeout: left) else {
                pending = out
                throw TestFailure("no \(type) within \(timeout)s")
            }
            let j = try JSON.parse(text)
            out.append(j)
            if j["type"]?.stringValue == type && match(j) { return out }
        }
    }

    /// Sends a ping with a fresh id and returns everything received before its pong:
    /// a barrier that proves the server has handled everything sent before it.
    public func roundTrip(timeout: Double = 5) throws -> [JSON] {
        let id = "barrier-\(UInt32.random(in: 0...UInt32.max))"
        try send(#"{"type":"ping","id":"\#(id)"}"#)
        var got = try collect(until: "pong", timeout: timeout) { $0["id"]?.stringValue == id }
        got.removeLast()
        return got
    }

    /// Waits for the server to close the connection; returns its close code.
    public func waitForClose(timeout: Double = 5) throws -> UInt16? {
        let deadline = Date().addingTimeInterval(timeout)
        while !isClosed {
            do {
                // Everything already buffered first: the close frame may sit behind a backlog.
                while try parseFrame() != nil {}
                if isClosed { break }
                guard try fill(until: deadline) else { throw TestFailure("still open after \(timeout)s") }
            } catch let e as TestFailure where isClosed {
                _ = e
                break
            }
        }
        return closeCode
    }

    /// Parses one complete frame from the buffer; returns a text message when one completes.
    private func parseFrame() throws -> String? {
        while true {
            guard buffer.count >= 2 else { return nil }
            let b0 = buffer[0], b1 = buffer[1]
            var len = Int(b1 & 0x7F)
            var off = 2
            if len == 126 {
                guard buffer.count >= 4 else { return nil }
                len = Int(buffer[2]) << 8 | Int(buffer[3])
                off = 4
            } else if len == 127 {
                guard buffer.count >= 10 else { return nil }
                len = 0
                for i in 2..<10 { len = len << 8 | Int(buffer[i]) }
                off = 10
            }
            guard buffer.count >= off + len else { return nil }
            let payload = Array(buffer[off..<(off + len)])
            buffer.removeFirst(off + len)
            let opcode = b0 & 0x0F
            let fin = b0 & 0x80 != 0
            switch opcode {
            case 0x9:
                try sendFrame(opcode: 0xA, payload)
            case 0x8:
                closeCode = payload.count >= 2 ? UInt16(payload[0]) << 8 | UInt16(payload[1]) : 1005
                isClosed = true
                return nil
            case 0x1, 0x0, 0x2:
                fragments.append(contentsOf: payload)
                if fin {
                    let text = String(decoding: fragments, as: UTF8.self)
                    fragments = []
                    transcript.append(text)
                    return text
                }
            default:
                break
            }
        }
    }

    /// Closes politely (1000) without waiting. Only shuts the connection down: the
    /// descriptor stays this client's until it goes away, so its number is never reused
    /// while the client could still read or write it.
    public func close() {
        try? sendFrame(opcode: 0x8, [0x03, 0xE8])
        shutdown(fd, Int32(SHUT_RDWR))
    }
}
