import Foundation
import SeatcastCore
import SeatcastTesting
import Testing

/// An upgrade request for /ws with the given handshake headers (nil leaves one out).
func upgradeRequest(key: String? = "dGhlIHNhbXBsZSBub25jZQ==", version: String? = "13", protocols: String? = nil) -> String {
    var s = "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    if let key { s += "Sec-WebSocket-Key: \(key)\r\n" }
    if let version { s += "Sec-WebSocket-Version: \(version)\r\n" }
    if let protocols { s += "Sec-WebSocket-Protocol: \(protocols)\r\n" }
    return s + "\r\n"
}

@Suite(.timeLimit(.minutes(1)))
struct WebSocketHandshakeTests {
    /// The upgrade answer for `request`: the first response, read until it is complete or the server closes.
    func answer(_ server: TestServer, _ request: String) throws -> RawResponse? {
        // An accepted upgrade stays open: stop once its head is in.
        let x = try RawHTTP.exchange(port: server.port, request, timeout: 5) { !$0.responses(headOnly: true).isEmpty }
        guard let head = x.responses(headOnly: true).first else { return nil }
        return head.status == 101 ? head : x.responses().first
    }

    /// A Sec-WebSocket-Key that is not 16 bytes of base64, or none, gets 400.
    @Test func badKeyIs400() throws {
        let server = try TestServer()
        defer { server.stop() }
        let twentyBytes = Data(repeating: 7, count: 20).base64EncodedString()
        for key in ["short", "!!!!notbase64!!!!!!!!!==", twentyBytes, "dGhlIHNhbXBsZSBub25jZQ", nil] {
            let r = try answer(server, upgradeRequest(key: key))
            #expect(r?.status == 400, "key \(key ?? "missing") -> \(r.map { "\($0.status)" } ?? "no answer")")
        }
        #expect(try answer(server, upgradeRequest())?.status == 101)
    }

    /// A Sec-WebSocket-Version other than 13, or none, gets 426 naming version 13.
    @Test func badVersionIs426() throws {
        let server = try TestServer()
        defer { server.stop() }
        for version in ["12", "8", "13, 8", nil] {
            let r = try answer(server, upgradeRequest(version: version))
            #expect(r?.status == 426, "version \(version ?? "missing") -> \(r.map { "\($0.status)" } ?? "no answer")")
            #expect(r?.header("sec-websocket-version") == "13", "version \(version ?? "missing")")
        }
    }

    /// Only seatcast.v1 or no subprotocol: the internal HTTP protocol name and unknown names are refused with 400.
    @Test func onlyTheSeatcastSubprotocol() throws {
        let server = try TestServer()
        defer { server.stop() }
        for offer in ["seatcast-http", "seatcast-http, seatcast.v1", "chat"] {
            let r = try answer(server, upgradeRequest(protocols: offer))
            #expect(r?.status == 400, "\(offer) -> \(r.map { "\($0.status) \($0.header("sec-websocket-protocol") ?? "")" } ?? "no answer")")
        }
        let v1 = try answer(server, upgradeRequest(protocols: "seatcast.v1"))
        #expect(v1?.status == 101)
        #expect(v1?.header("sec-websocket-protocol") == "seatcast.v1")
        let either = try answer(server, upgradeRequest(protocols: "chat, seatcast.v1"))
        #expect(either?.status == 101)
        #expect(either?.header("sec-websocket-protocol") == "seatcast.v1")
        let none = try answer(server, upgradeRequest())
        #expect(none?.status == 101)
        #expect(none?.header("sec-websocket-protocol") == nil)
    }

    /// An unmasked client frame must be closed with 1002 (RFC 6455 5.1). libwebsockets 4.1.6 parses the mask
    /// bit but never checks it on a server and has no call that shows it; 5.0 closes such a connection itself.
    @Test func unmaskedFrameCloses1002() throws {
        let server = try TestServer()
        defer { server.stop() }
        let text = Array(#"{"type":"ping","id":"unmasked"}"#.utf8)
        let frame: [UInt8] = [0x81, UInt8(text.count)] + text
        let x = try RawHTTP.exchange(port: server.port, Array(upgradeRequest().utf8) + frame, timeout: 3)
        withKnownIssue("libwebsockets 4.1.6 accepts unmasked client frames") {
            #expect(Self.closeCode(after: x) == 1002)
        }
    }

    /// The code of the first close frame the server sent after its 101 answer.
    static func closeCode(after x: RawHTTP.Exchange) -> UInt16? {
        guard let end = httpHeadEnd(x.bytes[...]) else { return nil }
        var i = end + 4
        let b = x.bytes
        while i + 2 <= b.count {
            let opcode = b[i] & 0x0F
            var len = Int(b[i + 1] & 0x7F)
            var off = i + 2
            if len == 126, off + 2 <= b.count { len = Int(b[off]) << 8 | Int(b[off + 1]); off += 2 }
            if len == 127 { return nil }
            guard off + len <= b.count else { return nil }
            if opcode == 8 { return len >= 2 ? UInt16(b[off]) << 8 | UInt16(b[off + 1]) : 1005 }
            i = off + len
        }
        return nil
    }
}
