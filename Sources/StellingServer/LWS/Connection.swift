import CWebSockets
import StellingCore

/// One WebSocket connection's state. Owned by the service thread: the server's table holds
/// it, and a retained `Unmanaged` reference sits in the lws per-session data from
/// ESTABLISHED until CLOSED.
final class Connection {
    let id: ConnectionID
    let wsi: OpaquePointer
    var assembler: MessageAssembler
    var outbound = OutboundQueue()
    /// Monotonic milliseconds when the last frame of any kind arrived.
    var lastReceived: Int64
    /// A keep-alive ping went out after the last frame arrived.
    var pingedSinceReceive = false
    /// A ping is to be written at the next WRITEABLE.
    var pingDue = false
    /// `lws_callback_on_writable` was asked and WRITEABLE has not come yet.
    var writableRequested = false
    /// Close with this code and reason once the queue is flushed.
    var closeRequest: (code: UInt16, reason: String)?
    /// The keep-alive sweep gave up on the connection; lws is tearing it down.
    var dropped = false

    init(id: ConnectionID, wsi: OpaquePointer, messageLimit: Int, now: Int64) {
        self.id = id
        self.wsi = wsi
        self.assembler = MessageAssembler(limit: messageLimit)
        self.lastReceived = now
    }

    /// Notes that a frame (of any kind, pongs included) arrived at `now`.
    func received(at now: Int64) {
        lastReceived = now
        pingedSinceReceive = false
    }

    /// Whether new events may still be queued.
    var acceptsEvents: Bool { closeRequest == nil && !dropped }

    /// Asks lws for a WRITEABLE callback, once per pending request (the call is a flag).
    func requestWritable() {
        guard !writableRequested else { return }
        writableRequested = true
        lws_callback_on_writable(wsi)
    }
}

/// An HTTP request whose answer is being made off the service thread.
struct DeferredHTTP {
    var number: UInt64
    var head: Bool
    var response: HTTPResponse?
}

/// An HTTP response being written in chunks across HTTP_WRITEABLE callbacks.
struct HTTPTransfer {
    var body: [UInt8]
    var offset = 0
    /// Close the connection after the body instead of keeping it alive.
    var closeAfter: Bool
}
