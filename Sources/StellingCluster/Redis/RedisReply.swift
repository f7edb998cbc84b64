/// One reply from Redis, as hiredis 0.14 (RESP2) reads it.
public indirect enum RedisReply: Equatable, Sendable {
    /// A bulk or status string (`+OK` is `.string("OK")`), binary-safe.
    case string([UInt8])
    /// An integer reply.
    case integer(Int64)
    /// An array reply (nested arrays included).
    case array([RedisReply])
    /// A nil bulk string or nil array.
    case null
    /// An error reply from Redis (e.g. `WRONGTYPE ...`): the command failed, the connection is fine.
    case error(String)

    /// A `.string` as UTF-8; nil for other replies and for bytes that are not UTF-8.
    public var text: String? {
        guard case .string(let bytes) = self else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }

    /// A `.string` made from text.
    public static func string(_ text: String) -> RedisReply { .string(Array(text.utf8)) }
}

/// A failure of the connection itself: connect, I/O, timeout, protocol. The connection that threw it
/// is broken (`RedisConnection.isBroken`); an error *reply* is `RedisReply.error` instead.
public struct RedisError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, with the URL (never the password).
    public var description: String
    /// The kind of failure.
    public var kind: Kind

    /// The kinds of failure.
    public enum Kind: Equatable, Sendable {
        /// Could not connect, authenticate or select the database.
        case connect
        /// No reply within the command timeout.
        case timeout
        /// Redis closed the connection.
        case closed
        /// Any other I/O or protocol failure.
        case io
        /// The call was wrong (e.g. a command without arguments); the connection is still usable.
        case usage
        /// Redis answered, but with something the caller cannot accept (e.g. the durability check).
        case refused
    }

    /// An error with this message.
    public init(_ description: String, kind: Kind = .io) {
        self.description = description
        self.kind = kind
    }
}
