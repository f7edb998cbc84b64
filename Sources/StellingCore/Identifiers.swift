/// One WebSocket connection, numbered by the server. Never reused within a run.
public struct ConnectionID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The server's number for the connection.
    public let rawValue: UInt64

    /// Wraps the server's number for a connection.
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    public static func < (lhs: ConnectionID, rhs: ConnectionID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { "c\(rawValue)" }
}
