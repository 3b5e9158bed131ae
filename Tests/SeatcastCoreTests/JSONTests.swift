import Testing
@testable import SeatcastCore

private func parse(_ text: String, maxDepth: Int = 32) -> JSON? {
    try? JSON.parse(text, maxDepth: maxDepth)
}

private func parseError(_ text: String) -> JSONParseError? {
    do {
        _ = try JSON.parse(text)
        return nil
    } catch {
        return error
    }
}

private func nested(_ depth: Int, open: String = "[", close: String = "]", inner: String = "") -> String {
    String(repeating: open, count: depth) + inner + String(repeating: close, count: depth)
}

@Suite("JSON.parse: literals and numbers")
struct JSONLiteralTests {
    /// `true`, `false` and `null` parse to their values.
    @Test func literals() {
        #expect(parse("true") == .bool(true))
        #expect(parse("false") == .bool(false))
        #expect(parse("null") == .null)
    }

    /// Misspelled, truncated or capitalized literals are rejected.
    @Test(arguments: ["tru", "nul", "fals", "True", "NULL", "truex", "t", "nulll", "undefined"])
    func badLiterals(text: String) {
        #expect(parse(text) == nil)
    }

    /// Valid RFC 8259 numbers parse to their values.
    @Test(arguments: [
        ("0", 0.0), ("-0", -0.0), ("7", 7), ("42", 42), ("-17", -17), ("3.25", 3.25), ("-0.5", -0.5),
        ("1e3", 1000), ("1E3", 1000), ("1e+2", 100), ("1E-2", 0.01), ("2.5e-1", 0.25), ("-1.5E2", -150),
        ("0e0", 0), ("123456789012", 123_456_789_012), ("10.0", 10),
    ])
    func numbers(text: String, value: Double) {
        #expect(parse(text) == .number(value))
    }

    /// Number forms RFC 8259 forbids are rejected.
    @Test(arguments: [
        "01", "-01", "00", "1.", "-", "+1", ".5", "-.5", "1e", "1e+", "1E-", "0x1F", "1.2.3", "--1", "- 1",
        "NaN", "Infinity", "-Infinity", "1.e5", "1..2", "1e5.5", "1f",
    ])
    func badNumbers(text: String) {
        #expect(parse(text) == nil)
    }

    /// Numbers inside arrays end at the delimiter.
    @Test func numbersInArrays() {
        #expect(parse("[0,-1,2.5,3e1]") == .array([.number(0), .number(-1), .number(2.5), .number(30)]))
        #expect(parse("[01]") == nil)
    }

    /// `int64Value` accepts integral numbers and rejects fractions, non-numbers and values beyond exact range.
    @Test func int64Value() {
        #expect(JSON.number(41).int64Value == 41)
        #expect(JSON.number(-3).int64Value == -3)
        #expect(parse("4.1e1")?.int64Value == 41)
        #expect(JSON.number(41.5).int64Value == nil)
        #expect(JSON.number(1e16).int64Value == nil)
        #expect(JSON.string("41").int64Value == nil)
        #expect(JSON.number(.infinity).int64Value == nil)
        #expect(JSON.number(.nan).int64Value == nil)
    }

    /// The value accessors return their payload only for the matching case.
    @Test func accessors() {
        #expect(JSON.string("a").stringValue == "a")
        #expect(JSON.number(1).stringValue == nil)
        #expect(JSON.array([.null]).arrayValue == [.null])
        #expect(JSON.object([]).arrayValue == nil)
        #expect(JSON.number(2.5).numberValue == 2.5)
        #expect(JSON.bool(true).numberValue == nil)
    }
}

@Suite("JSON.parse: strings")
struct JSONStringTests {
    /// A plain string parses to its text, including non-ASCII UTF-8.
    @Test func plain() {
        #expect(parse(#""hello""#) == .string("hello"))
        #expect(parse(#""""#) == .string(""))
        #expect(parse("\"Accra – Kumasi é 😀\"") == .string("Accra – Kumasi é 😀"))
    }

    /// Every two-character escape decodes to its character.
    @Test func simpleEscapes() {
        #expect(parse(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{8}\u{C}\n\r\t"))
        #expect(parse(#""a\nb""#) == .string("a\nb"))
        #expect(parse(#""pre \"q\" post""#) == .string("pre \"q\" post"))
    }

    /// `\u` escapes decode BMP characters in either hex case.
    @Test func unicodeEscapes() {
        #expect(parse(#""\u0041""#) == .string("A"))
        #expect(parse(#""\u00e9\u00E9""#) == .string("éé"))
        #expect(parse(#""\u20AC\u20ac""#) == .string("€€"))
        #expect(parse(#""\u0000""#) == .string("\u{0}"))
        #expect(parse(#""x\uFFFFy""#) == .string("x\u{FFFF}y"))
    }

    /// A `\u` surrogate pair decodes to one supplementary character.
    @Test func surrogatePairs() {
        #expect(parse(#""\uD83D\uDE00""#) == .string("😀"))
        #expect(parse(#""\ud83d\ude00!""#) == .string("😀!"))
        #expect(parse(#""\uD800\uDC00""#) == .string("\u{10000}"))
        #expect(parse(#""\uDBFF\uDFFF""#) == .string("\u{10FFFF}"))
    }

    /// Invalid escapes, unpaired surrogates and short hex are rejected.
    @Test(arguments: [
        #""\uD83D""#, #""\uD83Dx""#, #""\uD83D\u0041""#, #""\uD83D\n""#, #""\uDE00""#, #""\uDE00\uD83D""#,
        #""\uD83D\uD83D""#, #""\u12""#, #""\u12"#, #""\uZZZZ""#, #""\u-123""#, #""\x41""#, #""\a""#, #""\U0041""#,
        #""\'""#, #""\"#, #""\""#,
    ])
    func badEscapes(text: String) {
        #expect(parse(text) == nil)
    }

    /// Unterminated strings are rejected.
    @Test(arguments: [#""abc"#, #"""#, #"["a"#, #"{"a":"b}"#, #""abc\"#])
    func unterminated(text: String) {
        #expect(parse(text) == nil)
    }

    /// Raw control characters inside a string are rejected, before or after an escape.
    @Test(arguments: ["\"a\nb\"", "\"a\tb\"", "\"\u{0}\"", "\"\u{1F}\"", "\"\\n\u{1}\""])
    func rawControlCharacters(text: String) {
        #expect(parse(text) == nil)
    }

    /// DEL (0x7F) is not a control character for JSON and is allowed raw.
    @Test func rawDelete() {
        #expect(parse("\"a\u{7F}b\"") == .string("a\u{7F}b"))
    }
}

@Suite("JSON.parse: structure")
struct JSONStructureTests {
    /// Empty and nested arrays and objects parse, keeping member order.
    @Test func structures() {
        #expect(parse("[]") == .array([]))
        #expect(parse("{}") == .object([]))
        #expect(parse(#"{"b":1,"a":[true,null,{"c":"d"}]}"#)
            == .object([("b", .number(1)), ("a", .array([.bool(true), .null, .object([("c", .string("d"))])]))]))
    }

    /// Objects compare by members in order.
    @Test func objectOrderMatters() {
        #expect(parse(#"{"a":1,"b":2}"#) != parse(#"{"b":2,"a":1}"#))
        #expect(parse(#"{"a":1}"#) != parse(#"{"a":1,"b":2}"#))
        #expect(JSON.number(1) != JSON.string("1"))
    }

    /// The subscript finds members by name, the first one for duplicates, and nil for non-objects.
    @Test func subscriptLookup() throws {
        let json = try JSON.parse(#"{"k":1,"x":"y","k":2}"#)
        #expect(json["k"] == .number(1))
        #expect(json["x"] == .string("y"))
        #expect(json["missing"] == nil)
        #expect(JSON.array([])["k"] == nil)
        #expect(JSON.string("k")["k"] == nil)
    }

    /// Whitespace (space, tab, CR, LF) is allowed around every token.
    @Test func whitespace() {
        #expect(parse(" \t\r\n{ \"a\" :\n[ 1 ,\t2 ] , \"b\" : { } } \n")
            == .object([("a", .array([.number(1), .number(2)])), ("b", .object([]))]))
        #expect(parse("  7  ") == .number(7))
    }

    /// Other whitespace-like characters are not JSON whitespace.
    @Test(arguments: ["\u{0B}1", "\u{0C}1", "\u{A0}1", "1\u{0}"])
    func notWhitespace(text: String) {
        #expect(parse(text) == nil)
    }

    /// Anything after the value other than whitespace is rejected.
    @Test(arguments: ["{} {}", "1 2", "null,", #""a"x"#, "[]]", "{}}", "true false", "{}\u{0}", "[1]x"])
    func trailingGarbage(text: String) {
        #expect(parse(text) == nil)
    }

    /// Malformed arrays and objects are rejected.
    @Test(arguments: [
        "[1,]", "[,1]", "[1 2]", "[", "]", #"{"a":1,}"#, #"{"a" 1}"#, "{a:1}", #"{"a":1"#, #"{"a"}"#, #"{"a":}"#,
        "{,}", #"{1:"a"}"#, #"{"a":1 "b":2}"#, "{'a':1}", "", "   ",
    ])
    func malformed(text: String) {
        #expect(parse(text) == nil)
    }

    /// Errors report the byte offset where parsing failed.
    @Test func errorOffset() {
        #expect(parseError("[1,x]")?.offset == 3)
        #expect(parseError("{} x")?.offset == 3)
        #expect(parseError("")?.offset == 0)
    }

    /// An object or array cut short or missing a separator says what it expected, where.
    @Test func containerErrors() {
        #expect(parseError(#"{"a":1 "b":2}"#) == JSONParseError(message: "expected ',' or '}'", offset: 7))
        #expect(parseError("[1 2]") == JSONParseError(message: "expected ',' or ']'", offset: 3))
        #expect(parseError(#"{"a" 1}"#) == JSONParseError(message: "expected ':'", offset: 5))
        #expect(parseError("{1:2}") == JSONParseError(message: "expected a member name", offset: 1))
        #expect(parseError("[1,") == JSONParseError(message: "unexpected end of input", offset: 3))
        #expect(parseError(#"{"a":1"#) == JSONParseError(message: "unexpected end of input", offset: 6))
    }

    /// Parsing works on any byte collection, including an array slice.
    @Test func byteSlices() throws {
        let bytes = Array(#"xx{"a":[1]}yy"#.utf8)
        #expect(try JSON.parse(bytes[2..<11]) == .object([("a", .array([.number(1)]))]))
    }
}

@Suite("JSON.parse: nesting limit")
struct JSONDepthTests {
    /// Exactly 32 levels of arrays or objects are accepted.
    @Test func depth32Accepted() {
        #expect(parse(nested(32)) != nil)
        #expect(parse(nested(32, open: #"{"a":"#, close: "}", inner: "1")) != nil)
        #expect(parse(nested(16, open: #"[{"a":"#, close: "}]", inner: "0")) != nil)
    }

    /// 33 levels of arrays or objects (depth > 32) are rejected.
    @Test func depth33Rejected() {
        #expect(parse(nested(33)) == nil)
        #expect(parse(nested(33, open: #"{"a":"#, close: "}", inner: "1")) == nil)
        #expect(parse(nested(16, open: #"[{"a":"#, close: "}]", inner: "[]")) == nil)
        #expect(parseError(nested(33))?.message.contains("deep") == true)
    }

    /// Very deep hostile input is rejected without exhausting the stack.
    @Test func veryDeepRejected() {
        #expect(parse(String(repeating: "[", count: 200_000)) == nil)
        #expect(parse(String(repeating: #"{"a":"#, count: 100_000)) == nil)
    }

    /// Sibling containers do not add up: depth is the nesting, not the count.
    @Test func siblingsDoNotAccumulate() {
        let wide = "[" + Array(repeating: nested(31), count: 100).joined(separator: ",") + "]"
        #expect(parse(wide) != nil)
    }

    /// A custom `maxDepth` is honored.
    @Test func customMaxDepth() {
        #expect(parse(nested(2), maxDepth: 2) != nil)
        #expect(parse(nested(3), maxDepth: 2) == nil)
        #expect(parse("1", maxDepth: 0) == .number(1))
        #expect(parse("[]", maxDepth: 0) == nil)
    }
}
