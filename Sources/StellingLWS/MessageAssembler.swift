import StellingCore

/// Reassembles one connection's fragmented WebSocket messages and enforces the size limit
/// while they arrive: libwebsockets delivers pieces of frames with no cap (LIBWEBSOCKETS.md).
/// The server and the client pool both use it; a plain value, tested without sockets.
struct MessageAssembler: Sendable {
    /// What to do after a piece arrived.
    enum Outcome: Equatable, Sendable {
        /// The message is not complete yet.
        case incomplete
        /// A complete message; `binary` tells its opcode (the first frame's).
        case message([UInt8], binary: Bool)
        /// Close the connection with this code and reason.
        case close(CloseCode, reason: String)
    }

    /// The largest message accepted, in bytes.
    let limit: Int
    /// Whether binary messages are delivered (the client, the conformance echo) rather than
    /// closed with 1003.
    let acceptsBinary: Bool
    private var buffer: [UInt8] = []
    private var isBinary = false

    init(limit: Int, acceptsBinary: Bool = false) {
        self.limit = limit
        self.acceptsBinary = acceptsBinary
    }

    /// Takes the next piece. `first` marks the start of a message, `final` its end, `binary`
    /// a binary message (its first frame's opcode); UTF-8 is checked by libwebsockets.
    mutating func receive(_ bytes: UnsafeRawBufferPointer, first: Bool, final: Bool, binary: Bool) -> Outcome {
        if binary && !acceptsBinary {
            buffer = []
            return .close(.unsupportedData, reason: "binary messages are not accepted")
        }
        if first {
            buffer = []
            isBinary = binary
            if final {
                // The common case, a message in one piece: no intermediate buffer.
                guard bytes.count <= limit else { return tooBig() }
                return .message(Array(bytes), binary: isBinary)
            }
        }
        guard buffer.count + bytes.count <= limit else { return tooBig() }
        buffer.append(contentsOf: bytes)
        guard final else { return .incomplete }
        let message = buffer
        buffer = []  // give the memory back: idle connections should stay small
        return .message(message, binary: isBinary)
    }

    private mutating func tooBig() -> Outcome {
        buffer = []
        return .close(.messageTooBig, reason: "message too big")
    }
}
