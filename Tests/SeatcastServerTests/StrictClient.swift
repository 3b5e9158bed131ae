import Foundation
import SeatcastCore
import SeatcastTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A blocking client on a raw socket that checks every frame a server may send
/// (RFC 6455 section 5.2): FIN set (the server never fragments), RSV bits clear, no mask,
/// the shortest length encoding, opcode text, ping or close only, control frames of at
/// most 125 bytes, text that is valid UTF-8 holding one JSON object with a `type`, and
/// nothing at all after the close frame. Pings are answered; pongs are returned.
/// One thread uses it.
final class StrictClient: @unchecked Sendable {
    enum Message {
        case text(String, JSON)
        case close(UInt16)
        /// An answer to the client's own ping, with its payload.
        case pong([UInt8])
    }

    /// Closed exactly once, when the client goes away (see `WSClient.sock`).
    private let sock: OwnedFD
    var fd: Int32 { sock.raw }
    private var buffer: [UInt8] = []
    private var head = 0
    /// Stream bytes consumed by complete frames (to place a failure in the stream).
    private var offset = 0
    private(set) var closeCode: UInt16?
    private(set) var pingsAnswered = 0
    private(set) var bytesRead = 0
    private(set) var framesRead = 0

    init(port: Int, path: String, receiveBuffer: Int) throws {
        sock = try OwnedFD.connectTCP(port: port, receiveBuffer: receiveBuffer, noDelay: true)
        let key = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let req = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n\r\n"
        try sock.writeAll(Array(req.utf8))
        let deadline = Date().addingTimeInterval(10)
        while true {
            if let end = httpHeadEnd(buffer[...]) {
                let head = String(decoding: buffer[0..<end], as: UTF8.self)
                guard head.hasPrefix("HTTP/1.1 101") else { throw TestFailure("upgrade refused: \(head.prefix(80))") }
                buffer.removeFirst(end + 4)
                bytesRead = buffer.count
                break
            }
            guard Date() < deadline else { throw TestFailure("no upgrade response") }
            _ = try read(max: 4096, timeout: 1, countBytes: false)
        }
    }

    func sendFrame(opcode: UInt8, _ payload: [UInt8]) throws { try sock.writeAll(WSClient.frame(opcode: opcode, payload)) }

    func send(_ text: String) throws { try sendFrame(opcode: 1, Array(text.utf8)) }

    /// Waits up to `timeout` for data, then reads at most `max` bytes. Returns how many
    /// (0: none arrived in time). Throws at end of stream.
    @discardableResult
    func read(max: Int, timeout: Double, countBytes: Bool = true) throws -> Int {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, Int32(timeout * 1000)) > 0 else { return 0 }
        if head > 65536 && head * 2 > buffer.count {
            buffer.removeFirst(head)
            head = 0
        }
        var chunk = [UInt8](repeating: 0, count: max)
        let r = Glibc.read(fd, &chunk, max)
        guard r > 0 else { throw TestFailure("end of stream after \(bytesRead) bytes (close code \(closeCode.map(String.init) ?? "none"))") }
        buffer += chunk[0..<r]
        if countBytes { bytesRead += r }
        return r
    }

    private func fail(_ what: String) -> TestFailure {
        TestFailure("stream byte \(offset) (frame \(framesRead + 1)): \(what)")
    }

    /// The complete frames in the buffer, each checked; pings are answered and not returned.
    func frames() throws -> [Message] {
        var out: [Message] = []
        while buffer.count - head >= 2 {
            if closeCode != nil { throw fail("\(buffer.count - head) bytes after the close frame") }
            let b0 = buffer[head], b1 = buffer[head + 1]
            guard b0 & 0x80 != 0 else { throw fail("FIN clear (the server never fragments): \(hex(b0, b1))") }
            guard b0 & 0x70 == 0 else { throw fail("RSV bits set: \(hex(b0, b1))") }
            guard b1 & 0x80 == 0 else { throw fail("masked frame from the server: \(hex(b0, b1))") }
            var len = Int(b1 & 0x7F)
            var headerLength = 2
            if len == 126 {
                guard buffer.count - head >= 4 else { break }
                len = Int(buffer[head + 2]) << 8 | Int(buffer[head + 3])
                headerLength = 4
                guard len >= 126 else { throw fail("16-bit length \(len) (must be >= 126)") }
            } else if len == 127 {
                guard buffer.count - head >= 10 else { break }
                guard buffer[head + 2] & 0x80 == 0 else { throw fail("64-bit length with the top bit set") }
                len = 0
                for i in 2..<10 { len = len << 8 | Int(buffer[head + i]) }
                headerLength = 10
                guard len >= 65536 else { throw fail("64-bit length \(len) (must be >= 65536)") }
                guard len <= 16 << 20 else { throw fail("implausible length \(len)") }
            }
            guard buffer.count - head >= headerLength + len else { break }
            let payload = Array(buffer[(head + headerLength)..<(head + headerLength + len)])
            let opcode = b0 & 0x0F
            switch opcode {
            case 0x1:
                guard let text = String(validating: payload, as: UTF8.self) else { throw fail("text frame of invalid UTF-8") }
                let j: JSON
                do { j = try JSON.parse(text) } catch { throw fail("text frame is not JSON (\(error)): \(text.prefix(200))") }
                guard j["type"]?.stringValue != nil else { throw fail("JSON without a type: \(text.prefix(200))") }
                out.append(.text(text, j))
            case 0x9:
                guard len <= 125 else { throw fail("ping of \(len) bytes") }
                try sendFrame(opcode: 0xA, payload)
                pingsAnswered += 1
            case 0xA:
                guard len <= 125 else { throw fail("pong of \(len) bytes") }
                out.append(.pong(payload))
            case 0x8:
                guard len <= 125, len != 1 else { throw fail("close frame of \(len) bytes") }
                if len >= 2, String(validating: payload[2...], as: UTF8.self) == nil { throw fail("close reason not UTF-8") }
                let code = len >= 2 ? UInt16(payload[0]) << 8 | UInt16(payload[1]) : 1005
                closeCode = code
                out.append(.close(code))
            default:
                throw fail("unexpected opcode \(opcode): \(hex(b0, b1))")
            }
            head += headerLength + len
            offset += headerLength + len
            framesRead += 1
        }
        if head == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            head = 0
        }
        return out
    }

    private func hex(_ b: UInt8...) -> String { b.map { String($0, radix: 16) }.joined(separator: " ") }

    /// After the close frame: answers it and reads until the server closes the TCP
    /// connection; any byte after the close frame fails.
    func finishClose(timeout: Double) throws {
        guard let code = closeCode else { throw TestFailure("no close frame") }
        try? sendFrame(opcode: 0x8, [UInt8(code >> 8), UInt8(code & 0xFF)])
        guard buffer.count == head else { throw fail("\(buffer.count - head) bytes after the close frame") }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 500) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let r = Glibc.read(fd, &chunk, chunk.count)
            if r <= 0 { return }
            throw fail("\(r) bytes after the close frame")
        }
        throw TestFailure("the server did not close the connection after its close frame")
    }
}
