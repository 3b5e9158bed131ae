/// Appends JSON to a byte buffer. Used to encode every server message once; the
/// caller decides the key order, which docs/PROTOCOL.md's examples fix.
public struct JSONWriter: Sendable {
    public var bytes: [UInt8]
    private var needsComma: [Bool] = []

    public init(reserving capacity: Int = 128) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func beginObject() { separator(); bytes.append(UInt8(ascii: "{")); needsComma.append(false) }
    public mutating func endObject() { bytes.append(UInt8(ascii: "}")); needsComma.removeLast() }
    public mutating func beginArray() { separator(); bytes.append(UInt8(ascii: "[")); needsComma.append(false) }
    public mutating func endArray() { bytes.append(UInt8(ascii: "]")); needsComma.removeLast() }

    /// Writes `"key":` inside an object; the value call that follows adds no comma.
    public mutating func key(_ k: String) {
        separator()
        appendQuoted(k)
        bytes.append(UInt8(ascii: ":"))
        if !needsComma.isEmpty { needsComma[needsComma.count - 1] = false }
    }

    public mutating func string(_ s: String) { separator(); appendQuoted(s) }
    public mutating func int(_ v: Int64) { separator(); bytes.append(contentsOf: String(v).utf8) }
    public mutating func int(_ v: Int) { int(Int64(v)) }
    public mutating func bool(_ v: Bool) { separator(); bytes.append(contentsOf: (v ? "true" : "false").utf8) }
    public mutating func null() { separator(); bytes.append(contentsOf: "null".utf8) }
    /// Raw, already-encoded JSON.
    public mutating func raw(_ json: some Sequence<UInt8>) { separator(); bytes.append(contentsOf: json) }

    public mutating func field(_ k: String, _ v: String) { key(k); string(v) }
    public mutating func field(_ k: String, _ v: Int64) { key(k); int(v) }
    public mutating func field(_ k: String, _ v: Int) { key(k); int(v) }
    public mutating func field(_ k: String, strings: [String]) {
        key(k)
        beginArray()
        for s in strings { string(s) }
        endArray()
    }

    private mutating func separator() {
        guard !needsComma.isEmpty else { return }
        if needsComma[needsComma.count - 1] {
            bytes.append(UInt8(ascii: ","))
        } else {
            needsComma[needsComma.count - 1] = true
        }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    private mutating func appendQuoted(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        for c in s.utf8 {
            switch c {
            case UInt8(ascii: "\""): bytes.append(0x5C); bytes.append(c)
            case UInt8(ascii: "\\"): bytes.append(0x5C); bytes.append(c)
            case 0x0A: bytes.append(0x5C); bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(0x5C); bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(0x5C); bytes.append(UInt8(ascii: "t"))
            case 0..<0x20, 0x7F:
                bytes.append(contentsOf: [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                          Self.hex[Int(c >> 4)], Self.hex[Int(c & 15)]])
            default: bytes.append(c)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

extension JSONWriter {
    /// One object whose members `members` writes, as the bytes of a whole message.
    public static func object(reserving capacity: Int = 128, _ members: (inout JSONWriter) -> Void) -> [UInt8] {
        var w = JSONWriter(reserving: capacity)
        w.beginObject()
        members(&w)
        w.endObject()
        return w.bytes
    }

    /// `"key":[{...},...]`: an object per element of `items`, its members written by `members`.
    public mutating func field<Items: Sequence>(_ k: String, objects items: Items,
                                                _ members: (inout JSONWriter, Items.Element) -> Void) {
        key(k)
        beginArray()
        for item in items {
            beginObject()
            members(&self, item)
            endObject()
        }
        endArray()
    }
}

extension JSONWriter {
    /// Writes a parsed value back out (members in their order).
    public mutating func value(_ j: JSON) {
        switch j {
        case .null: null()
        case let .bool(b): bool(b)
        case let .number(n):
            raw(Array((n.rounded() == n && abs(n) < 1e15 ? String(Int64(n)) : String(n)).utf8))
        case let .string(s): string(s)
        case let .array(a):
            beginArray()
            for v in a { value(v) }
            endArray()
        case let .object(m):
            beginObject()
            for (k, v) in m {
                key(k)
                value(v)
            }
            endObject()
        }
    }
}

extension JSON {
    /// The value as JSON text.
    public var text: String {
        var w = JSONWriter()
        w.value(self)
        return String(decoding: w.bytes, as: UTF8.self)
    }
}
