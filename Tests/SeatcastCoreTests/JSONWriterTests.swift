import Testing
@testable import SeatcastCore

private func quoted(_ s: String) -> String {
    var w = JSONWriter()
    w.string(s)
    return String(decoding: w.bytes, as: UTF8.self)
}

@Suite("JSONWriter")
struct JSONWriterTests {
    /// Quotes and backslashes are escaped with a backslash.
    @Test func quotesAndBackslashes() {
        #expect(quoted(#"a"b\c"#) == #""a\"b\\c""#)
        #expect(quoted(#"\""#) == #""\\\"""#)
    }

    /// Newline, carriage return and tab use their short escapes.
    @Test func shortEscapes() {
        #expect(quoted("a\nb\rc\td") == #""a\nb\rc\td""#)
    }

    /// Other control characters and DEL are written as lowercase `\u00xx`.
    @Test func controlCharacters() {
        #expect(quoted("\u{0}") == #""\u0000""#)
        #expect(quoted("\u{1}\u{8}\u{C}\u{1F}") == #""\u0001\u0008\u000c\u001f""#)
        #expect(quoted("\u{7F}") == #""\u007f""#)
    }

    /// Slashes, angle brackets and non-ASCII text are written as they are.
    @Test func passThrough() {
        #expect(quoted("a/b<token>") == #""a/b<token>""#)
        #expect(quoted("Accra – Kumasi é 😀") == "\"Accra – Kumasi é 😀\"")
        #expect(quoted("") == #""""#)
    }

    /// Commas go between members and elements but not after keys or at the start of containers.
    @Test func separators() {
        var w = JSONWriter()
        w.beginObject()
        w.field("a", "x")
        w.field("n", -5)
        w.field("m", Int64.max)
        w.key("b"); w.bool(true)
        w.key("f"); w.bool(false)
        w.key("z"); w.null()
        w.key("arr")
        w.beginArray()
        w.int(1)
        w.beginObject(); w.endObject()
        w.beginArray(); w.endArray()
        w.beginObject(); w.field("k", strings: []); w.endObject()
        w.raw(Array("\"raw\"".utf8))
        w.endArray()
        w.field("s", strings: ["1A", "1B"])
        w.endObject()
        #expect(String(decoding: w.bytes, as: UTF8.self)
            == #"{"a":"x","n":-5,"m":9223372036854775807,"b":true,"f":false,"z":null,"arr":[1,{},[],{"k":[]},"raw"],"s":["1A","1B"]}"#)
    }

    /// Top-level values stand alone without separators.
    @Test func topLevel() {
        var w = JSONWriter()
        w.beginArray(); w.endArray()
        #expect(w.bytes == Array("[]".utf8))
        var v = JSONWriter(reserving: 0)
        v.int(Int64.min)
        #expect(String(decoding: v.bytes, as: UTF8.self) == "-9223372036854775808")
    }

    /// Keys are escaped like values.
    @Test func keyEscaping() {
        var w = JSONWriter()
        w.beginObject(); w.field("a\"b\n", 1); w.endObject()
        #expect(String(decoding: w.bytes, as: UTF8.self) == #"{"a\"b\n":1}"#)
    }

    /// Every string, including all control characters, survives a round trip through the parser.
    @Test func roundTripStrings() throws {
        let all = String(decoding: (0..<0x80).map { UInt8($0) }, as: UTF8.self)
        let samples = [all, "", "\"", "\\", "\\\"", "/", "😀\u{0}é", "\u{10FFFF}\u{FFFF}", "line\r\nbreak", "\u{2028}\u{2029}"]
        for s in samples {
            var w = JSONWriter()
            w.beginArray(); w.string(s); w.endArray()
            #expect(try JSON.parse(w.bytes) == .array([.string(s)]), "\(s.debugDescription)")
        }
    }

    /// A whole document survives a round trip through the parser with member order kept.
    @Test func roundTripDocument() throws {
        var w = JSONWriter()
        w.beginObject()
        w.field("type", "x\"y")
        w.field("seq", 41)
        w.key("list"); w.beginArray(); w.bool(true); w.null(); w.string("\t"); w.endArray()
        w.key("obj"); w.beginObject(); w.field("k\\", "v"); w.endObject()
        w.endObject()
        let expected = JSON.object([
            ("type", .string("x\"y")), ("seq", .number(41)),
            ("list", .array([.bool(true), .null, .string("\t")])),
            ("obj", .object([("k\\", .string("v"))])),
        ])
        #expect(try JSON.parse(w.bytes) == expected)
    }
}
