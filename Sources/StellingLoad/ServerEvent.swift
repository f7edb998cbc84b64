import Foundation
import StellingCore

/// One event of a server message, read with substring checks rather than a full parse.
///
/// The bytes belong to the pool's receive buffer: use the value only during the callback
/// that made it. The server writes `type` first in every event (StellingCore's encoder),
/// which is what makes the kind a prefix check.
struct ServerEvent {
    /// The event types of PROTOCOL.md, and `other` for anything else.
    enum Kind: Equatable {
        case welcome, statement, tally, chat, hidden, presence, announcement, ack, error, upvotes, question, other
    }

    /// The event's JSON text.
    let bytes: UnsafeRawBufferPointer
    /// Its `type`.
    let kind: Kind

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        kind = Self.kind(of: bytes)
    }

    private static let typePrefix = Array(#"{"type":""#.utf8)

    private static func kind(of bytes: UnsafeRawBufferPointer) -> Kind {
        let prefix = typePrefix.count
        guard bytes.count > prefix + 2, bytes.starts(with: typePrefix) else { return .other }
        // The first letter and the length of the name tell every type apart.
        var end = prefix
        while end < bytes.count, bytes[end] != UInt8(ascii: "\"") { end += 1 }
        switch (bytes[prefix], end - prefix) {
        case (UInt8(ascii: "c"), 4): return .chat
        case (UInt8(ascii: "a"), 3): return .ack
        case (UInt8(ascii: "t"), 5): return .tally
        case (UInt8(ascii: "p"), 8): return .presence
        case (UInt8(ascii: "s"), 9): return .statement
        case (UInt8(ascii: "e"), 5): return .error
        case (UInt8(ascii: "w"), 7): return .welcome
        case (UInt8(ascii: "h"), 6): return .hidden
        case (UInt8(ascii: "a"), 12): return .announcement
        case (UInt8(ascii: "u"), 7): return .upvotes
        case (UInt8(ascii: "q"), 8): return .question
        default: return .other
        }
    }

    /// The offset just past the first occurrence of `pattern`, or nil.
    func offset(after pattern: StaticString) -> Int? {
        let length = pattern.utf8CodeUnitCount
        guard let base = bytes.baseAddress, length > 0, bytes.count >= length else { return nil }
        let first = Int32(pattern.utf8Start[0])
        var from = 0
        while from + length <= bytes.count {  // each pass moves `from` forward
            guard let hit = memchr(base + from, first, bytes.count - length + 1 - from) else { return nil }
            let at = base.distance(to: UnsafeRawPointer(hit))
            if memcmp(base + at, pattern.utf8Start, length) == 0 { return at + length }
            from = at + 1
        }
        return nil
    }

    /// The raw characters of a string value that starts at `start` (just past its opening quote), up to the closing one.
    func stringValue(at start: Int) -> UnsafeRawBufferPointer? {
        var end = start
        while end < bytes.count {
            switch bytes[end] {
            case UInt8(ascii: "\""): return UnsafeRawBufferPointer(rebasing: bytes[start..<end])
            case UInt8(ascii: "\\"): end += 2
            default: end += 1
            }
        }
        return nil
    }

    /// The first string field written `"name":"…"` (pattern `"name":"`), as a Swift string.
    func string(_ pattern: StaticString) -> String? {
        guard let start = offset(after: pattern), let value = stringValue(at: start) else { return nil }
        return String(decoding: value, as: UTF8.self)
    }

    /// The first unsigned integer right after `pattern`.
    func integer(after pattern: StaticString) -> Int? {
        guard let start = offset(after: pattern) else { return nil }
        return Self.digits(bytes, from: start).value
    }

    /// The `ref` of an ack or error, split into its letter and number (refs this tool sends look like `v123`).
    var ref: (kind: UInt8, number: Int)? {
        guard let start = offset(after: #""ref":""#), start + 1 < bytes.count else { return nil }
        let (number, end) = Self.digits(bytes, from: start + 1)
        guard let number, end < bytes.count, bytes[end] == UInt8(ascii: "\"") else { return nil }
        return (bytes[start], number)
    }

    /// The whole event parsed, for the rare events whose content matters (welcome, statement, tally).
    func parsed() -> [String: JSONValue]? {
        guard case let .object(object)? = JSONValue.parse(bytes) else { return nil }
        return object
    }

    /// The decimal number at `start`, and the offset after its last digit.
    static func digits(_ bytes: UnsafeRawBufferPointer, from start: Int) -> (value: Int?, end: Int) {
        var index = start
        var value = 0
        while index < bytes.count, index - start < 18, (48...57).contains(bytes[index]) {
            value = value * 10 + Int(bytes[index] - 48)
            index += 1
        }
        return (index == start ? nil : value, index)
    }
}

/// Calls `body` for every non-empty line of a server message (PROTOCOL.md: events joined by newlines).
func forEachLine(_ message: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
    guard let base = message.baseAddress else { return }
    var start = 0
    while start < message.count {
        let rest = message.count - start
        let end: Int
        if let found = memchr(base + start, 0x0A, rest) {
            end = base.distance(to: UnsafeRawPointer(found))
        } else {
            end = message.count
        }
        var last = end
        if last > start, message[last - 1] == 0x0D { last -= 1 }
        if last > start { body(UnsafeRawBufferPointer(rebasing: message[start..<last])) }
        start = end + 1
    }
}

extension [String: JSONValue] {
    /// The string field `key`, if it is one.
    func string(_ key: String) -> String? { if case let .string(value)? = self[key] { value } else { nil } }
    /// The integer field `key`, if it is one.
    func int(_ key: String) -> Int? { if case let .integer(value)? = self[key] { Int(value) } else { nil } }
    /// The object field `key`, if it is one.
    func object(_ key: String) -> [String: JSONValue]? { if case let .object(value)? = self[key] { value } else { nil } }
    /// The array field `key`, if it is one.
    func array(_ key: String) -> [JSONValue]? { if case let .array(value)? = self[key] { value } else { nil } }
}
