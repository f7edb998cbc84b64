/// Joins the frames of one WebSocket message; libwebsockets hands them over as they come.
///
/// A plain state machine with no I/O, so it is tested without sockets.
struct MessageAssembler: Sendable {
    /// What one received fragment completed.
    enum Outcome: Equatable, Sendable {
        /// The message continues in later fragments.
        case partial
        /// A whole message.
        case message([UInt8], binary: Bool)
        /// The message grew beyond the limit; the caller closes with 1009.
        case tooBig
    }

    /// The largest message accepted, in bytes.
    let limit: Int
    private var buffer: [UInt8] = []
    private var binary = false

    init(limit: Int) {
        self.limit = limit
    }

    /// Adds one fragment; `first` and `final` are lws' view of the frame boundaries.
    mutating func receive(_ bytes: UnsafeRawBufferPointer, first: Bool, final: Bool, binary isBinary: Bool) -> Outcome {
        if first {
            buffer.removeAll(keepingCapacity: true)
            binary = isBinary
        }
        guard buffer.count + bytes.count <= limit else {
            buffer = []
            return .tooBig
        }
        buffer.append(contentsOf: bytes)
        guard final else { return .partial }
        let message = buffer
        buffer.removeAll(keepingCapacity: true)
        return .message(message, binary: binary)
    }
}

extension ClientConnection {
    /// Splits one server message into its events: PROTOCOL.md lets a message carry several, one a line.
    public static func splitEvents(_ message: String) -> [String] {
        // Split the UTF-8 bytes, not the Characters: "\r\n" is one Character in Swift.
        message.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true).compactMap { line in
            let trimmed = line.last == UInt8(ascii: "\r") ? line.dropLast() : line
            return trimmed.isEmpty ? nil : String(decoding: trimmed, as: UTF8.self)
        }
    }
}
