import StellingCore

/// What happened on a client connection, in the order it happened.
public enum ClientEvent: Sendable, Equatable {
    /// The WebSocket handshake completed; the subprotocol the server chose, if any.
    case open(subprotocol: String?)
    /// One whole text message, reassembled from its frames; it may hold several events.
    case text(String)
    /// One whole binary message (Stelling servers never send one).
    case binary([UInt8])
    /// The connection ended; the code and reason from the server's close frame, if it sent one.
    case closed(code: CloseCode?, reason: String)
    /// The connection was never opened: a connect error or a refused upgrade.
    case failed(String)

    /// Whether nothing follows this event on its connection.
    var isTerminal: Bool {
        switch self {
        case .closed, .failed: true
        case .open, .text, .binary: false
        }
    }
}
