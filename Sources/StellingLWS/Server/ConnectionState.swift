import StellingCore

/// What a WebSocket connection writes at its next WRITEABLE: one `lws_write` each.
enum WriteAction: Equatable {
    /// Nothing: the queue is empty, or lws is tearing the connection down.
    case nothing
    /// A keep-alive ping.
    case ping
    /// One received message sent back unchanged (the conformance echo).
    case echo([UInt8], binary: Bool)
    /// The queued events, joined by "\n" into one message up to the batch limit.
    case batch
    /// The close frame, once everything queued before it has gone.
    case close(CloseCode, reason: String)
}

/// A close asked for: sent once the queue is flushed.
struct CloseRequest: Equatable {
    var code: CloseCode
    var reason: String
}

/// One WebSocket connection's queues and keep-alive state, without the socket: the state
/// machine the server's callbacks drive (like swift-websocket's `WebSocketStateMachine`). Its
/// methods decide; the server performs what they return.
struct ConnectionState {
    /// The events waiting to go out.
    var outbound = OutboundQueue()
    /// Echo connections only: the messages to send back, one WebSocket message each.
    private(set) var echoes: [(bytes: [UInt8], binary: Bool)] = []
    /// The bytes in `echoes`.
    private(set) var echoBytes = 0
    /// Monotonic milliseconds when the last frame of any kind arrived.
    private(set) var lastReceived: Int64
    /// A keep-alive ping went out after the last frame arrived.
    private(set) var pingedSinceReceive = false
    /// A ping is to be written at the next WRITEABLE.
    private(set) var pingDue = false
    /// Close with this code and reason once the queue is flushed.
    private(set) var closeRequest: CloseRequest?
    /// The keep-alive sweep gave up on the connection; lws is tearing it down.
    private(set) var dropped = false

    init(now: Int64) {
        lastReceived = now
    }

    /// Bytes waiting to be written, events or echoes.
    var queuedBytes: Int { outbound.byteCount + echoBytes }

    /// Whether new events may still be queued.
    var acceptsEvents: Bool { closeRequest == nil && !dropped }

    /// Whether something is left for another WRITEABLE.
    var hasMoreToWrite: Bool { !outbound.isEmpty || !echoes.isEmpty || closeRequest != nil }

    /// Notes that a frame (of any kind, pongs included) arrived at `now`.
    mutating func received(at now: Int64) {
        lastReceived = now
        pingedSinceReceive = false
    }

    /// Queues a received message to go back unchanged.
    mutating func queueEcho(_ bytes: [UInt8], binary: Bool) {
        echoes.append((bytes, binary))
        echoBytes += bytes.count
    }

    /// Asks for the close frame after what is queued.
    mutating func requestClose(_ code: CloseCode, reason: String) {
        closeRequest = CloseRequest(code: code, reason: reason)
    }

    /// Drops everything queued (a client too slow to read, or a bad message).
    mutating func dropQueues() {
        outbound.removeAll()
        echoes = []
        echoBytes = 0
    }

    /// Applies the keep-alive rule at `now`; returns what the server must do (`.ping`: ask
    /// for WRITEABLE; `.drop`: have lws kill the connection).
    mutating func sweep(_ keepalive: Keepalive, now: Int64) -> Keepalive.Action {
        guard !dropped else { return .none }
        let action = keepalive.action(now: now, lastReceived: lastReceived, pinged: pingedSinceReceive)
        switch action {
        case .none: break
        case .ping:
            pingedSinceReceive = true
            pingDue = true
        case .drop:
            dropped = true
        }
        return action
    }

    /// What the next WRITEABLE writes: a due ping first, else the next echo, else the queued
    /// events as one batch, else the requested close. After writing, ask again while
    /// `hasMoreToWrite`.
    mutating func nextWrite() -> WriteAction {
        if dropped { return .nothing }
        if pingDue {
            pingDue = false
            return .ping
        }
        if !echoes.isEmpty {
            let echo = echoes.removeFirst()
            echoBytes -= echo.bytes.count
            return .echo(echo.bytes, binary: echo.binary)
        }
        if !outbound.isEmpty { return .batch }
        if let closeRequest { return .close(closeRequest.code, reason: closeRequest.reason) }
        return .nothing
    }
}
