import StellingCore

/// One WebSocket connection. Owned by the service thread: the server's table holds it, and a
/// retained `Unmanaged` reference sits in the lws per-session data from ESTABLISHED until CLOSED.
final class Connection {
    let id: ConnectionID
    /// The lws connection, only handed back to lws.
    let wsi: OpaquePointer
    /// A conformance echo connection (`--echo-conformance`): never reaches the handler.
    let isEcho: Bool
    var assembler: MessageAssembler
    /// Queues, keep-alive and close: the socket-free state machine.
    var state: ConnectionState
    /// `lws_callback_on_writable` was asked and WRITEABLE has not come yet.
    var writableRequested = false

    init(id: ConnectionID, wsi: OpaquePointer, messageLimit: Int, now: Int64, isEcho: Bool = false) {
        self.id = id
        self.wsi = wsi
        self.isEcho = isEcho
        self.assembler = MessageAssembler(limit: messageLimit, acceptsBinary: isEcho)
        self.state = ConnectionState(now: now)
    }
}
