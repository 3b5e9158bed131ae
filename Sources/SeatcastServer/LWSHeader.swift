import CLibWebSockets

// Owns: reading a request's headers out of lws. Thread: loop, inside one of the
// connection's callbacks (lws frees the headers after the request's callbacks).

enum LWSHeader {
    /// The header's value, or nil when absent. Every header lws holds is read (its whole
    /// header space, `max_http_header_data`, is 12 KiB): one read as absent would make a
    /// 9 KiB `Authorization` no credential (a public reader) rather than a bad one (401).
    static func value(_ wsi: OpaquePointer, _ token: lws_token_indexes) -> String? {
        let n = lws_hdr_total_length(wsi, token)
        guard n > 0, n <= 16 * 1024 else { return nil }
        var buf = [CChar](repeating: 0, count: Int(n) + 1)
        let copied = lws_hdr_copy(wsi, &buf, Int32(buf.count), token)
        guard copied >= 0 else { return nil }
        return String(decoding: buf.prefix(Int(copied)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension LWSHeader {
    /// The URL's query arguments (lws splits them at `&` and URL-decodes each), by name;
    /// `?compact` without a value maps to "". The first of a repeated name wins.
    static func query(_ wsi: OpaquePointer) -> [String: String] {
        var out: [String: String] = [:]
        var buf = [CChar](repeating: 0, count: 512)
        var i: Int32 = 0
        while i < 32 {
            let n = lws_hdr_copy_fragment(wsi, &buf, Int32(buf.count), WSI_TOKEN_HTTP_URI_ARGS, i)
            guard n >= 0 else { break }
            let arg = String(decoding: buf.prefix(Int(n)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if let eq = arg.firstIndex(of: "=") {
                let k = String(arg[..<eq])
                if out[k] == nil { out[k] = String(arg[arg.index(after: eq)...]) }
            } else if out[arg] == nil {
                out[arg] = ""
            }
            i += 1
        }
        return out
    }

    /// A yes/no query flag: present as `1`, `true` or with no value.
    static func isSet(_ value: String?) -> Bool {
        guard let value else { return false }
        return value.isEmpty || value == "1" || value == "true"
    }
}

extension LWSHeader {
    /// The URL-decoded value of the first query argument `name` (`?token=...`), sized to the
    /// argument (the `query` reader caps values at 511 bytes; a token may be 4096 and more).
    /// nil when absent; an argument present without `=` is "".
    static func queryValue(_ wsi: OpaquePointer, _ name: String) -> String? {
        let prefix = Array((name + "=").utf8)
        var i: Int32 = 0
        while i < 64 {
            let n = lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, i)
            if n <= 0 {
                // 0 is both "no such argument" and an empty one (`?&token=`); only the copy
                // tells them apart (-1: none). An empty one must not hide the arguments after it.
                var probe: CChar = 0
                guard lws_hdr_copy_fragment(wsi, &probe, 1, WSI_TOKEN_HTTP_URI_ARGS, i) == 0 else { return nil }
                i += 1
                continue
            }
            var buf = [CChar](repeating: 0, count: Int(n) + 1)
            let copied = lws_hdr_copy_fragment(wsi, &buf, Int32(buf.count), WSI_TOKEN_HTTP_URI_ARGS, i)
            guard copied >= 0 else { return nil }
            let arg = buf.prefix(Int(copied)).map { UInt8(bitPattern: $0) }
            if arg.starts(with: prefix) { return String(decoding: arg.dropFirst(prefix.count), as: UTF8.self) }
            if arg.elementsEqual(prefix.dropLast()) { return "" }
            i += 1
        }
        return nil
    }
}
