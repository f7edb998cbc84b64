import Testing
@testable import StellingCore

@Suite struct JSONTests {
    @Test(arguments: [
        ("{}", JSONValue.object([:])),
        ("[]", .array([])),
        ("  {\"a\" : [1, -2.5, true, false, null]} ", .object(["a": .array([.integer(1), .number(-2.5), .bool(true), .bool(false), .null])])),
        ("\"\\u00e9\\n\\\"\\\\\\/\"", .string("é\n\"\\/")),
        ("\"\\ud83d\\ude00\"", .string("😀")),
        ("\"😀 é\"", .string("😀 é")),
        ("1e3", .number(1000)),
        ("0", .integer(0)),
        ("-0", .integer(0)),
        ("12345678901234567890", .number(12_345_678_901_234_567_890)),
    ])
    func validJSONParses(text: String, expected: JSONValue) {
        #expect(JSONValue.parse(Array(text.utf8)) == expected)
    }

    @Test(arguments: [
        "", "{", "}", "{\"a\":}", "{\"a\" 1}", "{a:1}", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "+1", "1e",
        "tru", "nul", "\"abc", "\"\u{01}\"", "\"\\x\"", "\"\\ud83d\"", "\"\\ude00\"", "\"\\u12\"", "{} {}", "NaN", "1e999",
    ])
    func invalidJSONIsRejected(text: String) {
        #expect(JSONValue.parse(Array(text.utf8)) == nil)
    }

    @Test func invalidUTF8InAStringIsRejected() {
        #expect(JSONValue.parse([0x22, 0xC3, 0x28, 0x22]) == nil)
    }

    @Test func nestingDeeperThanTheLimitIsRejected() {
        let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
        #expect(JSONValue.parse(Array(deep.utf8)) == nil)
        let shallow = String(repeating: "[", count: 10) + String(repeating: "]", count: 10)
        #expect(JSONValue.parse(Array(shallow.utf8)) != nil)
    }

    @Test func theWriterEscapesSoThatNoRawNewlineOrControlCharacterRemains() {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("text", "line\nbreak\r\t\u{01}\"quoted\" \\ é 😀")
        writer.endObject()
        #expect(!writer.bytes.contains(0x0A))
        #expect(!writer.bytes.contains { $0 < 0x20 })
        #expect(JSONValue.parse(writer.bytes) == .object(["text": .string("line\nbreak\r\t\u{01}\"quoted\" \\ é 😀")]))
    }

    @Test func theWriterSeparatesMembersAndElements() {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("a", 1)
        writer.key("b"); writer.beginArray(); writer.integer(1); writer.string("x"); writer.null(); writer.beginObject(); writer.endObject(); writer.endArray()
        writer.field("c", nil as String?)
        writer.endObject()
        #expect(String(decoding: writer.bytes, as: UTF8.self) == "{\"a\":1,\"b\":[1,\"x\",null,{}],\"c\":null}")
    }
}

@Suite struct InstantTests {
    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000Z"),
        (1_610_715_900_123, "2021-01-15T13:05:00.123Z"),
        (951_782_400_000, "2000-02-29T00:00:00.000Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
        (4_102_444_799_999, "2099-12-31T23:59:59.999Z"),
    ])
    func formatsRFC3339WithMilliseconds(milliseconds: Int64, text: String) {
        #expect(Instant(milliseconds: milliseconds).rfc3339 == text)
        #expect(Instant(rfc3339: text) == Instant(milliseconds: milliseconds))
    }

    @Test func parsesWithoutFractionAndRejectsGarbage() {
        #expect(Instant(rfc3339: "2021-01-15T13:05:00Z") == Instant(milliseconds: 1_610_715_900_000))
        #expect(Instant(rfc3339: "2021-01-15T13:05:00.5Z") == Instant(milliseconds: 1_610_715_900_500))
        #expect(Instant(rfc3339: "2021-13-15T13:05:00Z") == nil)
        #expect(Instant(rfc3339: "yesterday") == nil)
    }
}

@Suite struct SHA256Tests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
    ])
    func matchesTheStandardVectors(message: String, digest: String) {
        #expect(SHA256.hex(Array(message.utf8)) == digest)
    }

    @Test func matchesAMillionAs() {
        #expect(SHA256.hex([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}

@Suite struct TokenBucketTests {
    private func takes(_ bucket: inout TokenBucket, at milliseconds: [Int64]) -> [Bool] {
        milliseconds.map { bucket.take(at: Instant(milliseconds: $0)) }
    }

    @Test func allowsTheBurstThenTheRate() {
        var bucket = TokenBucket(burst: 5, perSecond: 1)
        #expect(takes(&bucket, at: [0, 0, 0, 0, 0, 0, 999, 1000, 1000]) == [true, true, true, true, true, false, false, true, false])
        // A long pause refills no more than the burst.
        #expect(takes(&bucket, at: Array(repeating: 60_000, count: 6)) == [true, true, true, true, true, false])
    }

    @Test func aClockGoingBackwardsGivesNothingExtra() {
        var bucket = TokenBucket(burst: 1, perSecond: 1)
        #expect(takes(&bucket, at: [5000, 1000, 5500, 6000]) == [true, false, false, true])
    }
}

@Suite struct TextRulesTests {
    @Test(arguments: [
        ("Anna", "Anna"),
        ("  Anna de Vries \n", "Anna de Vries"),
        ("\u{3000}Jan\u{00A0}", "Jan"),
        (String(repeating: "a", count: 40), String(repeating: "a", count: 40)),
        (String(repeating: "é", count: 40), String(repeating: "é", count: 40)),
        ("😀", "😀"),
    ])
    func acceptsAndTrimsNames(raw: String, stored: String) {
        #expect(TextRules.validName(raw) == stored)
    }

    @Test(arguments: [
        "", "   ", "\t\n", String(repeating: "a", count: 41),
        String(repeating: "e\u{301}", count: 21), // 42 code points, 21 characters
        "An\u{0}na", "An\u{7}na", "An\tna", "An\u{85}na",
    ])
    func rejectsNames(raw: String) {
        #expect(TextRules.validName(raw) == nil)
    }
}
