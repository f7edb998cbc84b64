import CWebSockets
import Foundation
import StellingCore

/// The arguments of one lws callback, kept together so no closure captures the raw pointers.
struct CallbackArguments {
    var wsi: OpaquePointer
    var reason: lws_callback_reasons
    var user: UnsafeMutableRawPointer?
    var input: UnsafeMutableRawPointer?
    var length: Int
}

/// The client pool's lws context and everything its service thread owns.
///
/// Other threads reach it only through the shared ``ServiceLoop`` (`connect` and
/// `requestService` queue closures on it); every other member runs on the service thread,
/// which debug builds check.
final class ClientLoop: @unchecked Sendable {
    /// Loop-thread state of one connection.
    final class Entry {
        let connection: ClientConnection
        var wsi: OpaquePointer?
        var established = false
        var assembler: MessageAssembler
        var subprotocol: String?
        var peerClose: (code: CloseCode, reason: String)?
        /// The close frame has been handed to lws; nothing more may be written.
        var closeStarted = false
        /// The terminal event has been delivered.
        var finished = false

        init(connection: ClientConnection, limit: Int) {
            self.connection = connection
            assembler = MessageAssembler(limit: limit, acceptsBinary: true)
        }
    }

    /// The one local protocol every connection binds to; the subprotocol offered is separate.
    static let localProtocolName = "stelling-client"

    /// The executor-style mailbox: the only way in from other threads.
    let loop = ServiceLoop()
    private var context: OpaquePointer?
    private let strings = CStrings()
    private let protocols: UnsafeMutablePointer<lws_protocols>
    private let maxMessageBytes: Int
    /// The shortest service pass; a shorter one is topped up with a sleep. Zero for none.
    private let nap: Duration
    private var entries: [UInt64: Entry] = [:]
    private let writeBuffer = WriteBuffer(capacity: 4096)
    /// Set while `lws_context_destroy` closes the remaining connections.
    private var destroying = false
    private let finished = DispatchGroup()

    private init(maxMessageBytes: Int, napMicroseconds: UInt32) {
        self.maxMessageBytes = maxMessageBytes
        self.nap = .microseconds(Int64(napMicroseconds))
        protocols = .allocate(capacity: 2)
        protocols.initialize(repeating: lws_protocols(), count: 2)
        protocols[0].name = UnsafePointer(strings.keep(Self.localProtocolName))
        protocols[0].callback = stellingClientCallback
    }

    deinit {
        protocols.deinitialize(count: 2)
        protocols.deallocate()
    }

    /// Creates the context and starts the service thread.
    static func start(maxMessageBytes: Int, napMicroseconds: UInt32 = 0) throws(ClientPoolError) -> ClientLoop {
        let client = ClientLoop(maxMessageBytes: maxMessageBytes, napMicroseconds: napMicroseconds)
        var info = lws_context_creation_info()
        info.port = CONTEXT_PORT_NO_LISTEN
        info.protocols = UnsafePointer(client.protocols)
        // Unretained: the thread below keeps the loop alive until the context is gone.
        info.user = Unmanaged.passUnretained(client).toOpaque()
        // Initialises OpenSSL and the client TLS context, for wss:// connections.
        info.options = UInt64(LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT)
        guard let context = lws_create_context(&info) else {
            throw ClientPoolError(message: "lws_create_context failed")
        }
        client.context = context
        client.loop.attach(context)
        client.finished.enter()
        let thread = Thread {
            client.run()
            client.finished.leave()
        }
        thread.name = "stelling-client-lws"
        thread.start()
        return client
    }

    // MARK: Any thread

    /// Starts `connection`'s attempt on the service thread; false when the pool is shut down.
    func connect(_ connection: ClientConnection) -> Bool {
        loop.execute { [self] in startConnecting(connection) }
    }

    /// The connection has frames or a close to write.
    func requestService(_ connection: ClientConnection) {
        loop.execute { [self] in
            connection.serviceTaken()
            if let entry = entries[connection.id], entry.established, let wsi = entry.wsi {
                lws_callback_on_writable(wsi)
            }
        }
    }

    /// Asks the service thread to end and waits at most `timeout` for it; on the service
    /// thread itself (the pool released inside a callback) it only asks.
    func stop(timeout: Double) {
        loop.requestStop()
        guard !loop.isOnLoopThread else { return }
        _ = finished.wait(timeout: .now() + timeout)
    }

    // MARK: Service thread

    private func run() {
        guard let context else { return }
        loop.bindCurrentThread()
        let clock = ContinuousClock()
        while !loop.isStopRequested {  // bounded by `stop`, which also wakes lws_service
            let passStart = nap > .zero ? clock.now : nil
            if lws_service(context, 0) < 0 { break }
            // lws 4.1 polls with poll(2), whose cost grows with the number of connections: a
            // short pass is topped up with a nap so that more of them become ready per pass.
            // A long (busy) pass gets none, so the nap never caps throughput.
            if let passStart {
                let spent = clock.now - passStart
                if spent < nap { usleep(UInt32((nap - spent) / .microseconds(1))) }
            }
        }
        loop.detach()
        // Destroying the context closes every connection; their callbacks run here, now.
        destroying = true
        lws_context_destroy(context)
        self.context = nil
        // Work queued meanwhile finds no context and fails its connections.
        loop.closeRunningLeftovers()
        for entry in entries.values {
            finish(entry, .closed(code: nil, reason: "the pool is shut down"))
        }
        entries = [:]
        loop.unbindThread()
    }

    private func startConnecting(_ connection: ClientConnection) {
        guard let context else {
            connection.deliver(.failed("the pool is shut down"))
            return
        }
        guard case .success(let target) = connection.target else { return }
        let entry = Entry(connection: connection, limit: maxMessageBytes)
        entries[connection.id] = entry

        let hostHeader = target.port == (target.secure ? 443 : 80) ? target.host : "\(target.host):\(target.port)"
        // lws copies these strings into the new wsi during the call.
        let strings = CStrings()
        var info = lws_client_connect_info()
        info.context = context
        info.address = strings.keep(target.host)
        info.port = target.port
        info.path = strings.keep(target.path)
        info.host = strings.keep(hostHeader)
        info.origin = strings.keep(target.origin)
        info.protocol = strings.keep(target.subprotocol)
        info.iface = strings.keep(target.sourceAddress)
        info.local_protocol_name = strings.keep(Self.localProtocolName)
        // The connection's id, not a pointer: callbacks look it up, so a late one finds nothing.
        info.userdata = UnsafeMutableRawPointer(bitPattern: UInt(connection.id))
        // wss://: TLS that accepts self-signed certificates and any name (a test and load tool).
        info.ssl_connection = target.secure
            ? Int32(LCCSCF_USE_SSL.rawValue | LCCSCF_ALLOW_SELFSIGNED.rawValue | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK.rawValue)
            : 0

        // Errors inside this call are not reported through CLIENT_CONNECTION_ERROR: NULL says it.
        let wsi = lws_client_connect_via_info(&info)
        withExtendedLifetime(strings) {}
        if wsi == nil, let entry = entries.removeValue(forKey: connection.id) {
            finish(entry, .failed("connect failed"))
        }
    }

    fileprivate func handle(_ call: CallbackArguments) -> Int32 {
        // lws_create_context calls back (protocol init) before the service thread exists.
        guard context != nil else { return 0 }
        loop.assertOnLoopThread()
        if call.reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED {
            loop.runPending()
            return 0
        }
        guard let user = call.user, let entry = entries[UInt64(UInt(bitPattern: user))] else { return 0 }
        if entry.wsi == nil { entry.wsi = call.wsi }

        switch call.reason {
        case LWS_CALLBACK_CLIENT_FILTER_PRE_ESTABLISH:
            // The response headers are gone by CLIENT_ESTABLISHED.
            entry.subprotocol = Headers.value(call.wsi, WSI_TOKEN_PROTOCOL)

        case LWS_CALLBACK_CLIENT_ESTABLISHED:
            entry.established = true
            entry.connection.deliver(.open(subprotocol: entry.subprotocol))
            if entry.connection.hasWork { lws_callback_on_writable(call.wsi) }

        case LWS_CALLBACK_CLIENT_RECEIVE:
            return receive(call, entry)

        case LWS_CALLBACK_CLIENT_WRITEABLE:
            return writeNext(call.wsi, entry)

        case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
            if let close = Headers.closePayload(call.input, call.length) { entry.peerClose = close }
            return 0  // lws echoes the close frame, then closes

        case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
            var message = call.input.map {
                String(decoding: UnsafeRawBufferPointer(start: $0, count: call.length), as: UTF8.self)
            } ?? "connection error"
            let status = lws_http_client_http_response(call.wsi)
            if status != 0 && status != 101 { message += " (HTTP \(status))" }
            finish(entry, .failed(message))

        case LWS_CALLBACK_CLIENT_CLOSED:
            finish(entry, closedEvent(entry))

        case LWS_CALLBACK_WSI_DESTROY:
            // The last callback of every wsi.
            entries.removeValue(forKey: entry.connection.id)
            finish(entry, entry.established ? closedEvent(entry) : .failed("connection ended before the handshake"))

        default:
            break
        }
        return 0
    }

    private func receive(_ call: CallbackArguments, _ entry: Entry) -> Int32 {
        let bytes = UnsafeRawBufferPointer(start: call.input, count: call.input == nil ? 0 : call.length)
        let first = lws_is_first_fragment(call.wsi) != 0
        let final = lws_is_final_fragment(call.wsi) != 0
        if first && final && bytes.count <= maxMessageBytes, let callbacks = entry.connection.callbacks {
            // A whole message in one piece: hand lws' buffer over without copying it.
            callbacks.onMessage(bytes)
            return 0
        }
        switch entry.assembler.receive(bytes, first: first, final: final, binary: lws_frame_is_binary(call.wsi) != 0) {
        case .incomplete:
            return 0
        case .message(let payload, let binary):
            entry.connection.deliver(binary ? .binary(payload) : .text(String(decoding: payload, as: UTF8.self)))
            return 0
        case .close(let code, let reason):
            Headers.setCloseReason(call.wsi, code: code, reason: reason)
            return -1
        }
    }

    /// Writes one frame and asks again while more is queued.
    private func writeNext(_ wsi: OpaquePointer, _ entry: Entry) -> Int32 {
        // After either side's close lws writes the close frame itself. Returning -1 again
        // while it waits to send ours would make lws drop the TCP connection at once.
        guard entry.peerClose == nil, !entry.closeStarted else { return 0 }
        let next = entry.connection.takeNextWrite()
        if let frame = next.frame {
            writeBuffer.copy(frame.payload, at: 0)
            guard writeBuffer.write(wsi, length: frame.payload.count, Self.writeProtocol(frame.kind)) else { return -1 }
            if next.more { lws_callback_on_writable(wsi) }
            return 0
        }
        if let code = next.close {
            entry.closeStarted = true
            Headers.setCloseReason(wsi, code: code, reason: "")
            return -1  // lws sends the close frame and waits for the server's answer
        }
        return 0
    }

    private static func writeProtocol(_ kind: ClientConnection.FrameKind) -> lws_write_protocol {
        let (opcode, final): (lws_write_protocol, Bool) = switch kind {
        case .text(let final): (LWS_WRITE_TEXT, final)
        case .binary(let final): (LWS_WRITE_BINARY, final)
        case .continuation(let final): (LWS_WRITE_CONTINUATION, final)
        }
        return final ? opcode : lws_write_protocol(opcode.rawValue | LWS_WRITE_NO_FIN.rawValue)
    }

    /// `.closed` with what the server's close frame said, or why the pool ended the connection.
    private func closedEvent(_ entry: Entry) -> ClientEvent {
        guard let close = entry.peerClose else {
            return destroying ? .closed(code: nil, reason: "the pool is shut down") : .closed(code: nil, reason: "")
        }
        return .closed(code: close.code, reason: close.reason)
    }

    private func finish(_ entry: Entry, _ event: ClientEvent) {
        guard !entry.finished else { return }
        entry.finished = true
        entry.connection.deliver(event)
    }
}

/// The protocol callback of every client connection: a plain function so it converts to `lws_callback_function`.
private func stellingClientCallback(
    _ wsi: OpaquePointer?, _ reason: lws_callback_reasons,
    _ user: UnsafeMutableRawPointer?, _ input: UnsafeMutableRawPointer?, _ length: Int
) -> Int32 {
    guard let wsi, let pointer = lws_context_user(lws_get_context(wsi)) else { return 0 }
    let client = Unmanaged<ClientLoop>.fromOpaque(pointer).takeUnretainedValue()
    return client.handle(CallbackArguments(wsi: wsi, reason: reason, user: user, input: input, length: length))
}
