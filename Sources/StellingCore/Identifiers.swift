/// One WebSocket connection, numbered by the server. Never reused within a run.
public struct ConnectionID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The server's number for the connection.
    public let rawValue: UInt64

    /// Wraps the server's number for a connection.
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    public static func < (lhs: ConnectionID, rhs: ConnectionID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { "c\(rawValue)" }
}

/// A participant's public id, e.g. `p7Hq2xK`. Moderators and screens have ids of this type too.
public struct ParticipantID: Hashable, Comparable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The id as sent on the wire.
    public let rawValue: String

    /// Wraps an id.
    public init(_ rawValue: String) { self.rawValue = rawValue }
    /// Wraps an id written as a literal (tests).
    public init(stringLiteral value: String) { self.rawValue = value }

    public static func < (lhs: ParticipantID, rhs: ParticipantID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { rawValue }
}

/// A statement's id, e.g. `s1`.
public struct StatementID: Hashable, Comparable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The id as sent on the wire.
    public let rawValue: String

    /// Wraps an id.
    public init(_ rawValue: String) { self.rawValue = rawValue }
    /// Wraps an id written as a literal (tests).
    public init(stringLiteral value: String) { self.rawValue = value }

    public static func < (lhs: StatementID, rhs: StatementID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { rawValue }
}

/// A chat message's id: 1, 2, 3, ... in the order messages were accepted.
public struct MessageID: Hashable, Comparable, Sendable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    /// The id as sent on the wire.
    public let rawValue: Int

    /// Wraps an id.
    public init(_ rawValue: Int) { self.rawValue = rawValue }
    /// Wraps an id written as a literal (tests).
    public init(integerLiteral value: Int) { self.rawValue = value }

    public static func < (lhs: MessageID, rhs: MessageID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { String(rawValue) }
}
