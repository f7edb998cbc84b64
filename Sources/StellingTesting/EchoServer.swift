import Foundation
import Logging
import StellingCore
import StellingLWS
import Synchronization

/// The real `WebSocketServer` with an echo handler, for testing clients: 127.0.0.1, port 0.
///
/// On `/ws` it answers each whole text message:
/// - `close:NNNN` closes the connection with code NNNN and reason "bye";
/// - `batch` queues `{"a":1}` and `{"b":2}` at once, so they leave as one message;
/// - `big:N` sends a text message of N bytes;
/// - `peer` sends the client's IP address;
/// - anything else comes back unchanged.
/// `/echo` is the conformance echo (`echoConformance`): text and binary come back as they came.
/// An upgrade from a foreign `Origin` is refused with HTTP 403, as on every Stelling server.
public final class EchoServer: Sendable {
    private let handler: EchoHandler
    private let server: WebSocketServer

    /// Starts listening.
    public init() throws {
        var logger = Logger(label: "echo-server")
        logger.logLevel = .critical
        handler = EchoHandler()
        let options = TransportOptions(host: "127.0.0.1", port: 0, webRoot: FileManager.default.temporaryDirectory.path,
                                       echoConformance: true)
        server = WebSocketServer(options: options, handler: handler, logger: logger)
        handler.attach(server)
        try server.start()
    }

    /// `ws://127.0.0.1:PORT` followed by `path`.
    public func url(_ path: String = "/ws") -> String {
        "ws://127.0.0.1:\(server.boundPort)\(path)"
    }

    /// Every text message received on `/ws` so far, in order.
    public var messages: [String] { handler.state.withLock { $0.messages } }

    /// The close codes clients sent, in order.
    public var receivedCloseCodes: [CloseCode] { handler.state.withLock { $0.closeCodes } }

    /// Stops the server, waiting at most 10 s.
    public func stop() {
        server.stop()
        _ = server.waitUntilStopped(timeoutMilliseconds: 10_000)
    }
}

/// The echo's `TransportHandler`; its callbacks run on the server's service thread.
private final class EchoHandler: TransportHandler, Sendable {
    struct State {
        var messages: [String] = []
        var closeCodes: [CloseCode] = []
        var peers: [ConnectionID: String] = [:]
    }

    let state = Mutex(State())
    private let server = Mutex<WebSocketServer?>(nil)

    func attach(_ server: WebSocketServer) {
        self.server.withLock { $0 = server }
    }

    func connectionOpened(_ id: ConnectionID, peer: String, origin: String?) {
        state.withLock { $0.peers[id] = peer }
    }

    func messageReceived(_ id: ConnectionID, text: [UInt8]) {
        let message = String(decoding: text, as: UTF8.self)
        let peer = state.withLock { state in
            state.messages.append(message)
            return state.peers[id] ?? "unknown"
        }
        guard let server = server.withLock({ $0 }) else { return }
        if message.hasPrefix("close:"), let code = UInt16(message.dropFirst("close:".count)) {
            server.close(id, code: CloseCode(rawValue: code), reason: "bye")
        } else if message == "batch" {
            server.send(id, Array("{\"a\":1}".utf8))
            server.send(id, Array("{\"b\":2}".utf8))
        } else if message.hasPrefix("big:") {
            server.send(id, [UInt8](repeating: UInt8(ascii: "x"), count: Int(message.dropFirst("big:".count)) ?? 0))
        } else if message == "peer" {
            server.send(id, Array(peer.utf8))
        } else {
            server.send(id, text)
        }
    }

    func peerClosed(_ id: ConnectionID, code: CloseCode) {
        state.withLock { $0.closeCodes.append(code) }
    }

    func connectionClosed(_ id: ConnectionID) {
        state.withLock { _ = $0.peers.removeValue(forKey: id) }
    }

    func tick(nowMilliseconds: Int64) {}

    func httpRequest(_ request: HTTPRequest) -> HTTPResponse? { nil }
}
