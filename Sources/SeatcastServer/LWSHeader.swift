import CLibWebSockets

// Owns: reading a request's headers out of lws. Thread: loop, inside one of the
// connection's callbacks (lws frees the headers after the request's callbacks).

enum LWSHeader {
    /// The header's value, or nil when absent (or longer than any header seatcast reads).
    static func value(_ wsi: OpaquePointer, _ token: lws_token_indexes) -> String? {
        let n = lws_hdr_total_length(wsi, token)
        guard n > 0, n < 8192 else { return nil }
        var buf = [CChar](repeating: 0, count: Int(n) + 1)
        let copied = lws_hdr_copy(wsi, &buf, Int32(buf.count), token)
        guard copied >= 0 else { return nil }
        return String(decoding: buf.prefix(Int(copied)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
