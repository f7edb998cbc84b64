import CWebSockets
import Foundation

/// A small WebSocket echo server on the libwebsockets server API, for testing the client.
///
/// Listens on 127.0.0.1, port 0, with its own context and service thread.
/// It answers each whole text message:
/// - `close:NNNN` closes the connection with code NNNN and reason "bye";
/// - `batch` sends `{"a":1}\n{"b":2}` as one message;
/// - `fragments` sends `{"part":1}` as two frames;
/// - `binary` sends the binary message 1 2 3;
/// - `big:N` sends a text message of N bytes;
/// - `peer` sends the client's IP address;
/// - anything else comes back unchanged, as one message.
/// An upgrade to the path `/forbidden` is refused with HTTP 403.
final class EchoServer: @unchecked Sendable {
    /// One received text message and the number of frames it came in.
    struct Received: Equatable, Sendable {
        var text: String
        var frames: Int
    }

    /// Per-connection state; touched only on the server's service thread.
    private final class Session {
        var buffer: [UInt8] = []
        var frames = 0
        var outbox: [([UInt8], lws_write_protocol)] = []
    }

    /// The port the server listens on.
    private(set) var port: Int32 = 0

    private var context: OpaquePointer?
    private let protocols: UnsafeMutablePointer<lws_protocols>
    private let protocolName: UnsafeMutablePointer<CChar>
    private let interface: UnsafeMutablePointer<CChar>
    private var sessions: [OpaquePointer: Session] = [:]
    private let lock = NSCondition()
    private var received: [Received] = []
    private var closeCodes: [UInt16] = []
    private var stopping = false
    private var stopped = false

    /// Starts listening; the subprotocol it speaks is `stelling.v1`, also for clients that offer none.
    init() throws {
        lws_set_log_level(LLL_ERR, nil)
        protocolName = strdup("stelling.v1")!
        interface = strdup("127.0.0.1")!
        protocols = .allocate(capacity: 2)
        protocols.initialize(repeating: lws_protocols(), count: 2)
        // protocols[0] so that an upgrade offering no subprotocol binds to it too.
        protocols[0].name = UnsafePointer(protocolName)
        protocols[0].callback = echoServerCallback

        var contextInfo = lws_context_creation_info()
        contextInfo.options = UInt64(LWS_SERVER_OPTION_EXPLICIT_VHOSTS)
        contextInfo.port = CONTEXT_PORT_NO_LISTEN
        contextInfo.user = Unmanaged.passUnretained(self).toOpaque()
        guard let context = lws_create_context(&contextInfo) else {
            throw EchoServerError(message: "lws_create_context failed")
        }
        self.context = context

        var vhostInfo = lws_context_creation_info()
        // IPv4 only, so peers read as 127.0.0.x rather than ::ffff:127.0.0.x.
        vhostInfo.options = UInt64(LWS_SERVER_OPTION_DISABLE_IPV6)
        vhostInfo.port = 0
        vhostInfo.iface = UnsafePointer(interface)
        vhostInfo.protocols = UnsafePointer(protocols)
        guard let vhost = lws_create_vhost(context, &vhostInfo) else {
            lws_context_destroy(context)
            throw EchoServerError(message: "lws_create_vhost failed")
        }
        port = Int32(lws_get_vhost_listen_port(vhost))

        let thread = Thread { [self] in run() }
        thread.name = "echo-server-lws"
        thread.start()
    }

    deinit {
        protocols.deinitialize(count: 2)
        protocols.deallocate()
        free(protocolName)
        free(interface)
    }

    /// `ws://127.0.0.1:PORT` followed by `path`.
    func url(_ path: String = "/ws") -> String {
        "ws://127.0.0.1:\(port)\(path)"
    }

    /// Every text message received so far, in order.
    var messages: [Received] {
        lock.lock()
        defer { lock.unlock() }
        return received
    }

    /// The close codes clients sent, in order.
    var receivedCloseCodes: [UInt16] {
        lock.lock()
        defer { lock.unlock() }
        return closeCodes
    }

    /// Stops the service thread and destroys the context, waiting at most 10 s.
    func stop() {
        lock.lock()
        defer { lock.unlock() }
        guard !stopping else { return }
        stopping = true
        if let context { lws_cancel_service(context) }
        let deadline = Date(timeIntervalSinceNow: 10)
        while !stopped, lock.wait(until: deadline) {}  // bounded by the deadline
    }

    private func run() {
        guard let context else { return }
        while !isStopping {  // bounded by `stop`, which wakes lws_service
            if lws_service(context, 0) < 0 { break }
        }
        lws_context_destroy(context)
        lock.lock()
        self.context = nil
        stopped = true
        lock.broadcast()
        lock.unlock()
    }

    private var isStopping: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopping
    }

    fileprivate func handle(_ wsi: OpaquePointer, _ reason: lws_callback_reasons,
                            _ user: UnsafeMutableRawPointer?, _ input: UnsafeMutableRawPointer?, _ length: Int) -> Int32 {
        switch reason {
        case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
            if header(wsi, WSI_TOKEN_GET_URI) == "/forbidden" {
                _ = lws_return_http_status(wsi, 403, nil)
                return -1
            }
        case LWS_CALLBACK_ESTABLISHED:
            sessions[wsi] = Session()
        case LWS_CALLBACK_CLOSED:
            sessions[wsi] = nil
        case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
            if let input, length >= 2 {
                let bytes = UnsafeRawBufferPointer(start: input, count: length)
                lock.lock()
                closeCodes.append(UInt16(bytes[0]) << 8 | UInt16(bytes[1]))
                lock.unlock()
            }
        case LWS_CALLBACK_RECEIVE:
            guard let session = sessions[wsi] else { return -1 }
            if lws_is_first_fragment(wsi) != 0 {
                session.buffer = []
                session.frames = 0
            }
            if let input { session.buffer.append(contentsOf: UnsafeRawBufferPointer(start: input, count: length)) }
            session.frames += 1
            guard lws_is_final_fragment(wsi) != 0 else { return 0 }
            guard lws_frame_is_binary(wsi) == 0 else { return 0 }
            let text = String(decoding: session.buffer, as: UTF8.self)
            lock.lock()
            received.append(Received(text: text, frames: session.frames))
            lock.unlock()
            return answer(text, wsi, session)
        case LWS_CALLBACK_SERVER_WRITEABLE:
            guard let session = sessions[wsi], !session.outbox.isEmpty else { return 0 }
            let (payload, kind) = session.outbox.removeFirst()
            let pre = stelling_lws_pre()
            var buffer = [UInt8](repeating: 0, count: pre + payload.count)
            buffer.replaceSubrange(pre..., with: payload)
            let written = buffer.withUnsafeMutableBufferPointer { lws_write(wsi, $0.baseAddress! + pre, payload.count, kind) }
            if written < payload.count { return -1 }
            if !session.outbox.isEmpty { lws_callback_on_writable(wsi) }
        default:
            break
        }
        return lws_callback_http_dummy(wsi, reason, user, input, length)
    }

    private func answer(_ text: String, _ wsi: OpaquePointer, _ session: Session) -> Int32 {
        if text.hasPrefix("close:"), let code = UInt16(text.dropFirst("close:".count)) {
            var reason = Array("bye".utf8)
            lws_close_reason(wsi, lws_close_status(UInt32(code)), &reason, reason.count)
            return -1
        }
        let noFin = LWS_WRITE_NO_FIN.rawValue
        switch text {
        case "batch":
            session.outbox.append((Array("{\"a\":1}\n{\"b\":2}".utf8), LWS_WRITE_TEXT))
        case "fragments":
            session.outbox.append((Array("{\"part\":".utf8), lws_write_protocol(LWS_WRITE_TEXT.rawValue | noFin)))
            session.outbox.append((Array("1}".utf8), LWS_WRITE_CONTINUATION))
        case "binary":
            session.outbox.append(([1, 2, 3], LWS_WRITE_BINARY))
        case "peer":
            var name = [CChar](repeating: 0, count: 128)
            let peer = lws_get_peer_simple(wsi, &name, name.count).map { _ in
                String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            } ?? "unknown"
            session.outbox.append((Array(peer.utf8), LWS_WRITE_TEXT))
        case _ where text.hasPrefix("big:"):
            let size = Int(text.dropFirst("big:".count)) ?? 0
            session.outbox.append(([UInt8](repeating: UInt8(ascii: "x"), count: size), LWS_WRITE_TEXT))
        default:
            session.outbox.append((session.buffer, LWS_WRITE_TEXT))
        }
        lws_callback_on_writable(wsi)
        return 0
    }

    private func header(_ wsi: OpaquePointer, _ token: lws_token_indexes) -> String? {
        let length = lws_hdr_total_length(wsi, token)
        guard length > 0 else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(length) + 1)
        let copied = lws_hdr_copy(wsi, &buffer, Int32(buffer.count), token)
        guard copied >= 0 else { return nil }
        return String(decoding: buffer.prefix(Int(copied)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The echo server could not start.
struct EchoServerError: Error {
    var message: String
}

private func echoServerCallback(
    _ wsi: OpaquePointer?, _ reason: lws_callback_reasons,
    _ user: UnsafeMutableRawPointer?, _ input: UnsafeMutableRawPointer?, _ length: Int
) -> Int32 {
    guard let wsi, let pointer = lws_context_user(lws_get_context(wsi)) else {
        return lws_callback_http_dummy(wsi, reason, user, input, length)
    }
    return Unmanaged<EchoServer>.fromOpaque(pointer).takeUnretainedValue().handle(wsi, reason, user, input, length)
}
