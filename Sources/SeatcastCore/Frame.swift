/// One encoded message, stored already framed as the WebSocket text frame a server sends
/// (FIN, opcode 1, unmasked, RFC 6455 section 5.2). Immutable after creation, so one
/// frame is encoded once and its bytes go unchanged to every session it is sent to: a
/// delivery is a copy of `wire` into a socket, nothing else.
///
/// Layout: `headroom` spare bytes (libwebsockets' `LWS_PRE`, for the HTTP body writes
/// that use `payload`), then the 2-10 byte frame header, then the payload.
public final class Frame: @unchecked Sendable {
    /// At least libwebsockets' `LWS_PRE` (16 on 64-bit builds); the server checks at start.
    public static let headroom = 32
    /// The longest WebSocket header: 2 bytes + 8 bytes of length.
    static let maxHeader = 10

    private let storage: UnsafeMutableRawPointer
    /// Payload bytes (the JSON text).
    public let count: Int
    /// Bytes of the framed message: header + payload.
    public let wireCount: Int
    /// Part of a trip's stream (event, snapshot, `subscribed`), as opposed to a reply:
    /// stream frames may be dropped for a slow client, which then gets a fresh snapshot.
    public let isStream: Bool
    /// The trip a stream frame belongs to (a resync drops only that trip's frames).
    public let tripId: String?

    public init(_ bytes: [UInt8], stream: Bool = false, tripId: String? = nil) {
        count = bytes.count
        isStream = stream
        self.tripId = tripId
        let header = Self.headerLength(bytes.count)
        wireCount = header + bytes.count
        storage = UnsafeMutableRawPointer.allocate(byteCount: Self.headroom + Self.maxHeader + max(count, 1), alignment: 16)
        let p = (storage + Self.headroom + Self.maxHeader - header).assumingMemoryBound(to: UInt8.self)
        Self.writeHeader(p, payloadLength: bytes.count)
        bytes.withUnsafeBytes { src in
            if let base = src.baseAddress { (storage + Self.headroom + Self.maxHeader).copyMemory(from: base, byteCount: count) }
        }
    }

    deinit { storage.deallocate() }

    /// The payload, with at least `headroom` writable bytes before it.
    public var payload: UnsafeMutablePointer<UInt8> {
        (storage + Self.headroom + Self.maxHeader).assumingMemoryBound(to: UInt8.self)
    }

    /// The whole framed message, `wireCount` bytes, ready for a socket.
    public var wire: UnsafePointer<UInt8> {
        UnsafePointer((storage + Self.headroom + Self.maxHeader - (wireCount - count)).assumingMemoryBound(to: UInt8.self))
    }

    public var wireBytes: [UInt8] { Array(UnsafeBufferPointer(start: wire, count: wireCount)) }

    public var text: String {
        String(decoding: UnsafeRawBufferPointer(start: payload, count: count), as: UTF8.self)
    }

    /// 2 bytes up to 125 payload bytes, 4 up to 65,535, else 10.
    public static func headerLength(_ payloadLength: Int) -> Int {
        payloadLength < 126 ? 2 : payloadLength < 65536 ? 4 : 10
    }

    /// A final, unmasked text frame header for `payloadLength` bytes.
    static func writeHeader(_ p: UnsafeMutablePointer<UInt8>, payloadLength n: Int) {
        p[0] = 0x81
        switch headerLength(n) {
        case 2:
            p[1] = UInt8(n)
        case 4:
            p[1] = 126
            p[2] = UInt8(n >> 8)
            p[3] = UInt8(n & 0xFF)
        default:
            p[1] = 127
            for i in 0..<8 { p[2 + i] = UInt8((n >> (8 * (7 - i))) & 0xFF) }
        }
    }
}
