import CWebSockets
import StellingCore

/// One WebSocket connection's state. Owned by the service thread: the server's table holds
/// it, and a retained `Unmanaged` reference sits in the lws per-session data from
/// ESTABLISHED until CLOSED.
final class Connection {
    let id: ConnectionID
    let wsi: OpaquePointer
    /// A conformance echo connection (`--echo-conformance`): never reaches the handler.
    let isEcho: Bool
    var assembler: MessageAssembler
    var outbound = OutboundQueue()
    /// Echo connections only: the messages to send back, one WebSocket message each.
    var echoes: [(binary: Bool, bytes: [UInt8])] = []
    /// The bytes in `echoes`.
    var echoBytes = 0
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

    init(id: ConnectionID, wsi: OpaquePointer, messageLimit: Int, now: Int64, isEcho: Bool = false) {
        self.id = id
        self.wsi = wsi
        self.isEcho = isEcho
        self.assembler = MessageAssembler(limit: messageLimit, acceptsBinary: isEcho)
        self.lastReceived = now
    }

    /// Bytes waiting to be written, events or echoes.
    var queuedBytes: Int { outbound.byteCount + echoBytes }

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

/// One accepted TCP connection as the connection limiter counts it, from adoption until lws
/// destroys the wsi (HTTP keep-alive and an upgrade to WebSocket keep the same wsi).
struct SocketEntry {
    /// The TCP peer's address (nil when it could not be read).
    var peer: IPAddress?
    /// The client: the peer, or behind a trusted proxy the address its latest request's
    /// `X-Forwarded-For` named (nil until that request arrived).
    var client: IPAddress?
    /// The limiter key the socket is charged to (an IPv4 address or an IPv6 /64); nil while
    /// a proxy's socket awaits its first request.
    var charged: String?
    /// The peer is a trusted proxy.
    var viaProxy: Bool
    /// What the limiter said when it was accepted; not `.admitted` means "answer and close".
    var admission: ConnectionLimiter.Admission
}

/// An HTTP response being written in chunks across HTTP_WRITEABLE callbacks.
struct HTTPTransfer {
    var body: [UInt8]
    var offset = 0
    /// Close the connection after the body instead of keeping it alive.
    var closeAfter: Bool
}
