import Foundation
import SeatcastCore
import SeatcastTesting
import Testing

/// Control frames of every allowed size (RFC 6455 5.5: payloads up to 125 bytes) are
/// handled whole. lws collects each frame's payload in a per-connection receive buffer of
/// `rx_buffer_size` bytes and acts on a control frame each time that buffer fills, so a
/// buffer smaller than 125 bytes answers a long ping with two wrong pongs: these tests
/// hold the buffer at what control frames need, however small idle memory wants it.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct ControlFrameTests {
    /// Reads frames until `match` returns a value, or fails after `timeout` seconds.
    private func next<T>(_ c: StrictClient, timeout: Double = 5, _ match: (StrictClient.Message) -> T?) throws -> T {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            for m in try c.frames() { if let v = match(m) { return v } }
            guard Date() < deadline else { throw TestFailure("nothing expected within \(timeout)s") }
            try c.read(max: 65536, timeout: 0.2)
        }
    }

    /// A ping of every length from 0 to 125 bytes gets exactly one pong with its payload,
    /// in order, and requests sent between them are still answered.
    @Test func pingsOfEveryLengthGetTheirOwnPayloadBack() throws {
        try TestServer.withTrip { server, _ in
            let c = try StrictClient(port: server.port, path: "/ws", receiveBuffer: 1 << 20)
            for len in 0...125 {
                let payload = (0..<len).map { UInt8(($0 * 7 + len) & 0x7F) }
                try c.sendFrame(opcode: 0x9, payload)
                let pong = try next(c) { if case let .pong(p) = $0 { p } else { nil } }
                #expect(pong == payload, "ping of \(len) bytes answered with \(pong.count) bytes")
                if len % 25 == 0 {
                    // A long request (several receive-buffer fills) between pings.
                    let id = String(repeating: "r", count: 60)
                    try c.send(#"{"type":"ping","id":"\#(id)"}"#)
                    let reply = try next(c) { if case let .text(_, j) = $0, j["type"]?.stringValue == "pong" { j } else { nil } }
                    #expect(reply["id"]?.stringValue == id)
                }
            }
            // No second pong for any of them: a last ping's pong is the next control frame.
            try c.sendFrame(opcode: 0x9, Array("last".utf8))
            let last = try next(c) { if case let .pong(p) = $0 { p } else { nil } }
            #expect(last == Array("last".utf8))
        }
    }

    /// A close frame with a 123-byte reason (the longest allowed) is answered with one
    /// close frame echoing its code, and then the TCP connection ends.
    @Test func closeWithTheLongestReasonIsAnsweredOnce() throws {
        try TestServer.withTrip { server, _ in
            let c = try StrictClient(port: server.port, path: "/ws", receiveBuffer: 1 << 20)
            let reason = Array(String(repeating: "z", count: 123).utf8)
            try c.sendFrame(opcode: 0x8, [0x0F, 0xA0] + reason)  // 4000, an application code
            let code = try next(c) { if case let .close(code) = $0 { code } else { nil } }
            #expect(code == 4000)
            try c.finishClose(timeout: 5)
        }
    }
}
