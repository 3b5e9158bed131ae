import CLibWebSockets

/// One encoded text message with the `LWS_PRE` headroom lws_write needs in front of it.
/// Immutable after creation, so one frame is shared by every session it goes to
/// (lws writes the same WebSocket header into the headroom for each).
public final class Frame: @unchecked Sendable {
    static let headroom = Int(seatcast_lws_pre())

    let storage: UnsafeMutableRawPointer
    public let count: Int
    /// Part of a trip's stream (event or snapshot), as opposed to a reply: stream frames
    /// may be dropped for a slow client, which then gets a fresh snapshot.
    let isStream: Bool
    /// The trip a stream frame belongs to (resyncs drop only that trip's frames).
    let tripId: String?

    public init(_ bytes: [UInt8], stream: Bool = false, tripId: String? = nil) {
        count = bytes.count
        isStream = stream
        self.tripId = tripId
        storage = UnsafeMutableRawPointer.allocate(byteCount: Self.headroom + max(count, 1), alignment: 16)
        bytes.withUnsafeBytes { src in
            if let base = src.baseAddress { (storage + Self.headroom).copyMemory(from: base, byteCount: count) }
        }
    }

    deinit { storage.deallocate() }

    var payload: UnsafeMutablePointer<UInt8> { (storage + Self.headroom).assumingMemoryBound(to: UInt8.self) }

    public var text: String {
        String(decoding: UnsafeRawBufferPointer(start: payload, count: count), as: UTF8.self)
    }
}
