import CWebSockets
import Foundation

// Every libwebsockets call of the client lives in this file.

/// Work for the service thread, queued from any thread.
enum Command: Sendable {
    /// Start the connection attempt.
    case connect(ClientConnection)
    /// The connection has frames or a close to write.
    case service(ClientConnection)
}

/// The thread-safe doorway to the service thread: a command queue plus `lws_cancel_service`.
final class Mailbox: Sendable {
    private struct State: Sendable {
        var commands: [Command] = []
        /// Set by `stop`; the service loop ends when it sees it.
        var stopping = false
        /// False once the context is about to be destroyed: no more `lws_cancel_service`.
        var contextAlive = true
        /// Set when the service thread has finished.
        var stopped = false
        /// The service thread, so `stop` called on it does not wait for itself.
        var serviceThread: UInt?
    }

    private let state = Guarded(State())
    private let context: ContextHandle

    init(context: ContextHandle) {
        self.context = context
    }

    /// Queues `command` and wakes the loop; false when the pool is stopping.
    @discardableResult
    func post(_ command: Command) -> Bool {
        state.withLock { state in
            guard !state.stopping else { return false }
            let wasEmpty = state.commands.isEmpty
            state.commands.append(command)
            // The loop takes the whole queue at once, so one wake per batch suffices.
            // Called under the lock so the context cannot be destroyed meanwhile.
            if wasEmpty && state.contextAlive { lws_cancel_service(context.pointer) }
            return true
        }
    }

    /// Everything queued so far; on the service thread.
    func takeCommands() -> [Command] {
        state.withLock { state in
            defer { state.commands = [] }
            return state.commands
        }
    }

    /// Whether `stop` has been asked for.
    var isStopping: Bool {
        state.withLock { $0.stopping }
    }

    /// Asks the loop to end and waits at most `timeout` seconds for the thread to finish.
    ///
    /// On the service thread itself (the pool released inside a callback) it only asks.
    func stop(timeout: Double) {
        let onServiceThread = state.withLock { state -> Bool in
            if !state.stopping {
                state.stopping = true
                if state.contextAlive { lws_cancel_service(context.pointer) }
            }
            return state.serviceThread == currentThreadKey()
        }
        guard !onServiceThread else { return }
        _ = state.wait(until: Date(timeIntervalSinceNow: timeout)) { $0.stopped ? true : nil }
    }

    /// Called by the service thread first.
    func serviceThreadDidStart() {
        state.withLock { $0.serviceThread = currentThreadKey() }
    }

    /// Called by the service thread before it destroys the context.
    func contextWillDie() -> [Command] {
        state.withLock { state in
            state.stopping = true
            state.contextAlive = false
            defer { state.commands = [] }
            return state.commands
        }
    }

    /// Called by the service thread as its last act.
    func threadDidFinish() {
        state.update { $0.stopped = true }
    }
}

/// Microseconds on the monotonic clock.
private func monotonicMicroseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000 + UInt64(time.tv_nsec) / 1000
}

/// The calling thread as a number: `pthread_t` is an integer on Linux and a pointer on Darwin.
private func currentThreadKey() -> UInt {
    #if canImport(Darwin)
    UInt(bitPattern: pthread_self())
    #else
    pthread_self()
    #endif
}

/// The context pointer, shared across threads only for `lws_cancel_service`, the one thread-safe lws call.
struct ContextHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// The arguments of one lws callback, kept together so no closure captures the raw pointers.
struct CallbackArguments {
    var wsi: OpaquePointer
    var reason: lws_callback_reasons
    var user: UnsafeMutableRawPointer?
    var input: UnsafeMutableRawPointer?
    var length: Int
}

/// The lws client context and everything the service thread owns.
///
/// Except `start`, every member runs on the service thread (checked in debug
/// builds); the only way in from other threads is the ``Mailbox``.
final class ServiceLoop: @unchecked Sendable {
    /// Loop-thread state of one connection.
    final class Entry {
        let connection: ClientConnection
        var wsi: OpaquePointer?
        var established = false
        var assembler: MessageAssembler
        var subprotocol: String?
        var peerCloseCode: UInt16?
        var peerCloseReason = ""
        /// The close frame has been handed to lws; nothing more may be written.
        var closeStarted = false
        /// The terminal event has been delivered.
        var finished = false

        init(connection: ClientConnection, limit: Int) {
            self.connection = connection
            assembler = MessageAssembler(limit: limit)
        }
    }

    /// The one local protocol every connection binds to; the subprotocol offered is separate.
    static let localProtocolName = "stelling-client"

    private let context: OpaquePointer
    private let protocols: UnsafeMutablePointer<lws_protocols>
    private let protocolName: UnsafeMutablePointer<CChar>
    private let maxMessageBytes: Int
    /// Microseconds to sleep between service passes; 0 for none.
    private let napMicroseconds: UInt32
    private var mailbox: Mailbox!
    private var entries: [UInt64: Entry] = [:]
    private var serviceThread: pthread_t?
    /// Set while `lws_context_destroy` closes the remaining connections.
    private var destroying = false

    private init(context: OpaquePointer, protocols: UnsafeMutablePointer<lws_protocols>,
                 protocolName: UnsafeMutablePointer<CChar>, maxMessageBytes: Int, napMicroseconds: UInt32) {
        self.context = context
        self.protocols = protocols
        self.protocolName = protocolName
        self.maxMessageBytes = maxMessageBytes
        self.napMicroseconds = napMicroseconds
    }

    /// Creates the context and starts the service thread; returns the way in.
    static func start(maxMessageBytes: Int, napMicroseconds: UInt32 = 0) throws(ClientPoolError) -> Mailbox {
        // The protocols array and its name must outlive the context; freed in `run` after destroying it.
        let protocolName = strdup(localProtocolName)!
        let protocols = UnsafeMutablePointer<lws_protocols>.allocate(capacity: 2)
        protocols.initialize(repeating: lws_protocols(), count: 2)
        protocols[0].name = UnsafePointer(protocolName)
        protocols[0].callback = stellingClientCallback
        protocols[0].rx_buffer_size = 0

        // The context's user pointer is needed before the loop object exists, so it is set
        // through a box that `run` fills in; lws only reads it back in callbacks.
        let box = LoopBox()
        var info = lws_context_creation_info()
        info.port = CONTEXT_PORT_NO_LISTEN
        info.protocols = UnsafePointer(protocols)
        info.user = Unmanaged.passUnretained(box).toOpaque()
        // Initialises OpenSSL and the client TLS context, for wss:// connections.
        info.options = UInt64(LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT)
        guard let context = lws_create_context(&info) else {
            protocols.deinitialize(count: 2)
            protocols.deallocate()
            free(protocolName)
            throw ClientPoolError(message: "lws_create_context failed")
        }
        let loop = ServiceLoop(context: context, protocols: protocols, protocolName: protocolName,
                               maxMessageBytes: maxMessageBytes, napMicroseconds: napMicroseconds)
        let mailbox = Mailbox(context: ContextHandle(pointer: context))
        loop.mailbox = mailbox
        box.loop = loop
        let thread = Thread { [box] in
            loop.run()
            _ = box  // keeps the context's user pointer alive until the context is gone
        }
        thread.name = "stelling-client-lws"
        thread.start()
        return mailbox
    }

    private func run() {
        serviceThread = pthread_self()
        mailbox.serviceThreadDidStart()
        while !mailbox.isStopping {  // bounded by `stop`, which also wakes lws_service
            let passStart = napMicroseconds > 0 ? monotonicMicroseconds() : 0
            if lws_service(context, 0) < 0 { break }
            // lws 4.1 polls with poll(2), whose cost grows with the number of connections: a
            // short pass is topped up with a nap so that more of them become ready per pass.
            // A long (busy) pass gets none, so the nap never caps throughput.
            if napMicroseconds > 0 {
                let spent = monotonicMicroseconds() - passStart
                if spent < UInt64(napMicroseconds) { usleep(napMicroseconds - UInt32(spent)) }
            }
        }
        let unstarted = mailbox.contextWillDie()
        // Destroying the context closes every connection; their callbacks run here, now.
        destroying = true
        lws_context_destroy(context)
        for case .connect(let connection) in unstarted {
            connection.deliver(.failed("the pool is shut down"))
        }
        for entry in entries.values {
            finish(entry, .closed(code: nil, reason: "the pool is shut down"))
        }
        entries = [:]
        protocols.deinitialize(count: 2)
        protocols.deallocate()
        free(protocolName)
        mailbox.threadDidFinish()
    }

    private func assertOnServiceThread() {
        assert(serviceThread.map { pthread_equal($0, pthread_self()) != 0 } ?? false,
               "ServiceLoop used off its service thread")
    }

    // MARK: Commands

    private func runCommands() {
        for command in mailbox.takeCommands() {
            switch command {
            case .connect(let connection):
                startConnecting(connection)
            case .service(let connection):
                connection.serviceTaken()
                if let entry = entries[connection.id], entry.established, let wsi = entry.wsi {
                    lws_callback_on_writable(wsi)
                }
            }
        }
    }

    private func startConnecting(_ connection: ClientConnection) {
        guard case .success(let target) = connection.target else { return }
        let entry = Entry(connection: connection, limit: maxMessageBytes)
        entries[connection.id] = entry

        let hostHeader = target.port == (target.secure ? 443 : 80) ? target.host : "\(target.host):\(target.port)"
        // lws copies these strings into the new wsi during the call.
        let strings = CStrings([target.host, target.path, hostHeader, target.origin,
                                target.subprotocol, target.sourceAddress, Self.localProtocolName])
        defer { strings.free() }
        var info = lws_client_connect_info()
        info.context = context
        info.address = strings[0]
        info.port = target.port
        info.path = strings[1]
        info.host = strings[2]
        info.origin = strings[3]
        info.protocol = strings[4]
        info.iface = strings[5]
        info.local_protocol_name = strings[6]
        // The connection's id, not a pointer: callbacks look it up, so a late one finds nothing.
        info.userdata = UnsafeMutableRawPointer(bitPattern: UInt(connection.id))
        // wss://: TLS that accepts self-signed certificates and any name (a test and load tool).
        info.ssl_connection = target.secure
            ? Int32(LCCSCF_USE_SSL.rawValue | LCCSCF_ALLOW_SELFSIGNED.rawValue | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK.rawValue)
            : 0

        // Errors inside this call are not reported through CLIENT_CONNECTION_ERROR: NULL says it.
        if lws_client_connect_via_info(&info) == nil {
            if let entry = entries.removeValue(forKey: connection.id) {
                finish(entry, .failed("connect failed"))
            }
        }
    }

    // MARK: Callbacks

    fileprivate func handle(_ call: CallbackArguments) -> Int32 {
        assertOnServiceThread()
        if call.reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED {
            runCommands()
            return 0
        }
        guard let user = call.user, let entry = entries[UInt64(UInt(bitPattern: user))] else { return 0 }
        if entry.wsi == nil { entry.wsi = call.wsi }

        switch call.reason {
        case LWS_CALLBACK_CLIENT_FILTER_PRE_ESTABLISH:
            // The response headers are gone by CLIENT_ESTABLISHED.
            entry.subprotocol = headerValue(call.wsi, WSI_TOKEN_PROTOCOL)

        case LWS_CALLBACK_CLIENT_ESTABLISHED:
            entry.established = true
            entry.connection.deliver(.open(subprotocol: entry.subprotocol))
            if entry.connection.hasWork { lws_callback_on_writable(call.wsi) }

        case LWS_CALLBACK_CLIENT_RECEIVE:
            return receive(call, entry)

        case LWS_CALLBACK_CLIENT_WRITEABLE:
            return writeNext(call.wsi, entry)

        case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
            // The payload is the close code (two bytes, big-endian) and an optional reason.
            if let input = call.input, call.length >= 2 {
                let bytes = UnsafeRawBufferPointer(start: input, count: call.length)
                entry.peerCloseCode = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
                entry.peerCloseReason = String(decoding: bytes.dropFirst(2), as: UTF8.self)
            }
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
        if first && final, let callbacks = entry.connection.callbacks {
            // A whole message in one piece: hand lws' buffer over without copying it.
            guard bytes.count <= maxMessageBytes else {
                lws_close_reason(call.wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, nil, 0)
                return -1
            }
            callbacks.onMessage(bytes)
            return 0
        }
        let outcome = entry.assembler.receive(
            bytes,
            first: first,
            final: final,
            binary: lws_frame_is_binary(call.wsi) != 0)
        switch outcome {
        case .partial:
            return 0
        case .message(let payload, let binary):
            entry.connection.deliver(binary ? .binary(payload) : .text(String(decoding: payload, as: UTF8.self)))
            return 0
        case .tooBig:
            lws_close_reason(call.wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, nil, 0)
            return -1
        }
    }

    /// Writes one frame (lws_write wants LWS_PRE bytes of headroom) and asks again while more is queued.
    private func writeNext(_ wsi: OpaquePointer, _ entry: Entry) -> Int32 {
        // After either side's close lws writes the close frame itself. Returning -1 again
        // while it waits to send ours would make lws drop the TCP connection at once.
        guard entry.peerCloseCode == nil, !entry.closeStarted else { return 0 }
        let next = entry.connection.takeNextWrite()
        if let frame = next.frame {
            let pre = stelling_lws_pre()
            var buffer = [UInt8](repeating: 0, count: pre + frame.payload.count)
            buffer.replaceSubrange(pre..., with: frame.payload)
            let written = buffer.withUnsafeMutableBufferPointer { storage in
                lws_write(wsi, storage.baseAddress! + pre, frame.payload.count, Self.writeProtocol(frame.kind))
            }
            if written < frame.payload.count { return -1 }
            if next.more { lws_callback_on_writable(wsi) }
            return 0
        }
        if let code = next.close {
            entry.closeStarted = true
            lws_close_reason(wsi, lws_close_status(UInt32(code)), nil, 0)
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
        if entry.peerCloseCode == nil && destroying {
            return .closed(code: nil, reason: "the pool is shut down")
        }
        return .closed(code: entry.peerCloseCode, reason: entry.peerCloseReason)
    }

    private func finish(_ entry: Entry, _ event: ClientEvent) {
        guard !entry.finished else { return }
        entry.finished = true
        entry.connection.deliver(event)
    }

    private func headerValue(_ wsi: OpaquePointer, _ token: lws_token_indexes) -> String? {
        let length = lws_hdr_total_length(wsi, token)
        guard length > 0 else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(length) + 1)
        let copied = lws_hdr_copy(wsi, &buffer, Int32(buffer.count), token)
        guard copied >= 0 else { return nil }
        return String(decoding: buffer.prefix(Int(copied)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Holds the loop for the context's user pointer, which lws needs before the loop exists.
private final class LoopBox: @unchecked Sendable {
    var loop: ServiceLoop?
}

/// A fixed list of optional C strings that live until `free()`.
private struct CStrings {
    private let pointers: [UnsafeMutablePointer<CChar>?]

    init(_ strings: [String?]) {
        pointers = strings.map { $0.map { strdup($0)! } }
    }

    subscript(index: Int) -> UnsafePointer<CChar>? {
        pointers[index].map { UnsafePointer($0) }
    }

    func free() {
        for pointer in pointers { Foundation.free(pointer) }
    }
}

/// The protocol callback of every client connection: a plain function so it converts to `lws_callback_function`.
private func stellingClientCallback(
    _ wsi: OpaquePointer?, _ reason: lws_callback_reasons,
    _ user: UnsafeMutableRawPointer?, _ input: UnsafeMutableRawPointer?, _ length: Int
) -> Int32 {
    guard let wsi, let pointer = lws_context_user(lws_get_context(wsi)) else { return 0 }
    let box = Unmanaged<LoopBox>.fromOpaque(pointer).takeUnretainedValue()
    guard let loop = box.loop else { return 0 }
    return loop.handle(CallbackArguments(wsi: wsi, reason: reason, user: user, input: input, length: length))
}
