import Testing
@testable import SeatcastCore

/// Golden bytes of `Frame.wire`: a final, unmasked text frame with the shortest length
/// encoding of RFC 6455 section 5.2 (7 bits up to 125, 16 bits up to 65,535, else 64 bits).
@Suite("Frame")
struct FrameTests {
    /// A payload whose bytes differ from their neighbours, so a shifted copy shows.
    static func payload(_ n: Int) -> [UInt8] {
        (0..<n).map { UInt8(ascii: "a") + UInt8($0 % 26) }
    }

    static let goldenHeaders: [(Int, [UInt8])] = [
        (0, [0x81, 0x00]),
        (1, [0x81, 0x01]),
        (125, [0x81, 0x7D]),
        (126, [0x81, 0x7E, 0x00, 0x7E]),
        (127, [0x81, 0x7E, 0x00, 0x7F]),
        (65535, [0x81, 0x7E, 0xFF, 0xFF]),
        (65536, [0x81, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00]),
        (70000, [0x81, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x11, 0x70]),
    ]

    /// The header for each payload length is exactly the RFC's, and the payload follows unchanged.
    @Test(arguments: goldenHeaders.map(\.0))
    func wireBytes(length n: Int) {
        let header = Self.goldenHeaders.first { $0.0 == n }!.1
        let p = Self.payload(n)
        let f = Frame(p)
        let wire = f.wireBytes
        #expect(f.count == n)
        #expect(f.wireCount == header.count + n)
        #expect(Frame.headerLength(n) == header.count)
        #expect(wire.count == f.wireCount)
        #expect(Array(wire.prefix(header.count)) == header)
        #expect(Array(wire.dropFirst(header.count)) == p)
        // FIN set, RSV bits clear, opcode 1 (text); MASK bit clear.
        #expect(wire[0] & 0x80 == 0x80)
        #expect(wire[0] & 0x70 == 0)
        #expect(wire[0] & 0x0F == 0x1)
        #expect(wire[1] & 0x80 == 0)
        // `payload` and `text` see the same bytes.
        #expect(Array(UnsafeBufferPointer(start: f.payload, count: f.count)) == p)
        #expect(f.text == String(decoding: p, as: UTF8.self))
    }

    /// The length field switches encodings exactly at 126 and 65,536.
    @Test func headerLengthBoundaries() {
        #expect(Frame.headerLength(0) == 2)
        #expect(Frame.headerLength(125) == 2)
        #expect(Frame.headerLength(126) == 4)
        #expect(Frame.headerLength(65535) == 4)
        #expect(Frame.headerLength(65536) == 10)
        #expect(Frame.headerLength(1 << 40) == 10)
    }

    /// The 64-bit length is big-endian over all eight bytes (a large length, header only).
    @Test func sixtyFourBitLengthIsBigEndian() {
        var h = [UInt8](repeating: 0, count: 10)
        h.withUnsafeMutableBufferPointer { Frame.writeHeader($0.baseAddress!, payloadLength: 0x0102_0304_0506) }
        #expect(h == [0x81, 0x7F, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06])
    }

    /// `wire` ends where the payload ends: the header sits right before `payload`, with
    /// at least `headroom` bytes before the header for lws.
    @Test(arguments: [0, 125, 126, 65536])
    func wireIsContiguousWithPayload(n: Int) {
        let f = Frame(Self.payload(n))
        #expect(UnsafeRawPointer(f.wire) + (f.wireCount - f.count) == UnsafeRawPointer(f.payload))
        #expect(f.wireCount - f.count <= 10)
    }

    /// Multi-byte UTF-8 is kept byte for byte; the length field counts bytes, not characters.
    @Test func unicodePayloadKeptByteForByte() {
        let text = #"{"type":"pong","id":"é✓🚌"}"#
        let f = Frame(Array(text.utf8))
        #expect(f.text == text)
        #expect(Array(f.wireBytes.dropFirst(2)) == Array(text.utf8))
        #expect(f.wireBytes[1] == UInt8(text.utf8.count))
    }

    /// Stream flags and trip ids are what was given.
    @Test func streamMetadata() {
        let reply = Frame(Array("{}".utf8))
        #expect(!reply.isStream)
        #expect(reply.tripId == nil)
        let event = Frame(Array("{}".utf8), stream: true, tripId: "T1")
        #expect(event.isStream)
        #expect(event.tripId == "T1")
    }
}
