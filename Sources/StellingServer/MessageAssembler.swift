/// WebSocket close codes the transport sends (RFC 6455 section 7.4.1).
public enum CloseCodes {
    /// 1000: normal closure.
    public static let normal: UInt16 = 1000
    /// 1001: the server is going away (shutdown).
    public static let goingAway: UInt16 = 1001
    /// 1003: a data type the endpoint cannot accept (a binary message).
    public static let unsupportedData: UInt16 = 1003
    /// 1007: a text message that is not valid UTF-8 (sent by libwebsockets itself).
    public static let invalidPayload: UInt16 = 1007
    /// 1008: a policy violation, such as a client too slow to read its events.
    public static let policyViolation: UInt16 = 1008
    /// 1009: a message larger than the configured limit.
    public static let messageTooBig: UInt16 = 1009
}

/// Reassembles one connection's fragmented WebSocket messages and enforces the size limit
/// while they arrive: libwebsockets delivers pieces of frames with no cap (LIBWEBSOCKETS.md).
struct MessageAssembler {
    /// What to do after a piece arrived.
    enum Outcome: Equatable {
        /// The message is not complete yet.
        case incomplete
        /// A complete text message.
        case message([UInt8])
        /// A complete binary message (only when binary messages are accepted).
        case binaryMessage([UInt8])
        /// Close the connection with this code and reason.
        case close(code: UInt16, reason: String)
    }

    /// The largest message accepted, in bytes.
    let limit: Int
    /// Whether binary messages are delivered (the conformance echo) rather than closed with 1003.
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
            return .close(code: CloseCodes.unsupportedData, reason: "binary messages are not accepted")
        }
        if first {
            buffer = []
            isBinary = binary
            if final {
                // The common case, a message in one piece: no intermediate buffer.
                guard bytes.count <= limit else { return tooBig() }
                return isBinary ? .binaryMessage(Array(bytes)) : .message(Array(bytes))
            }
        }
        guard buffer.count + bytes.count <= limit else { return tooBig() }
        buffer.append(contentsOf: bytes)
        guard final else { return .incomplete }
        let message = buffer
        buffer = []  // give the memory back: idle connections should stay small
        return isBinary ? .binaryMessage(message) : .message(message)
    }

    private mutating func tooBig() -> Outcome {
        buffer = []
        return .close(code: CloseCodes.messageTooBig, reason: "message too big")
    }
}
