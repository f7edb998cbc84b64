import Foundation
import Logging
import StellingCore
import StellingLWS
import Synchronization

/// The real `WebSocketServer` with the scripted `EchoHandler`, for testing the transport and its
/// clients: 127.0.0.1, port 0. Stop it with `stop()`.
public final class EchoServer: Sendable {
    /// The handler, with what it saw.
    public let handler: EchoHandler
    /// The server under test.
    public let server: WebSocketServer

    /// Starts listening on `options` (127.0.0.1, port 0, `webRoot`, the library's defaults)
    /// as `configure` changes them.
    public init(webRoot: String = FileManager.default.temporaryDirectory.path, logLevel: Logger.Level = .critical,
                configure: (inout TransportOptions) -> Void = { _ in }) throws {
        var logger = Logger(label: "stelling.echo-server")
        logger.logLevel = logLevel
        var options = TransportOptions(host: "127.0.0.1", port: 0, webRoot: webRoot)
        configure(&options)
        handler = EchoHandler()
        server = WebSocketServer(options: options, handler: handler, logger: logger)
        handler.attach(server)
        try server.start()
    }

    /// The server's port on 127.0.0.1.
    public var port: Int { server.boundPort }

    /// `ws://127.0.0.1:PORT` followed by `path`.
    public func url(_ path: String = "/ws") -> String {
        "ws://127.0.0.1:\(port)\(path)"
    }

    /// Every text message received on `/ws` so far, in order.
    public var messages: [String] { handler.messages }

    /// The close codes clients sent, in order.
    public var receivedCloseCodes: [CloseCode] { handler.receivedCloseCodes }

    /// Stops the server, waiting at most 10 s.
    public func stop() {
        server.stop()
        _ = server.waitUntilStopped(timeoutMilliseconds: 10_000)
    }
}

/// The one scripted `TransportHandler` of the tests; its callbacks run on the server's service
/// thread, what it saw is readable from any thread.
///
/// On `/ws` it answers each whole text message:
/// - `close:NNNN` sends `bye`, closes with code NNNN and reason "bye", then sends `after close`
///   (dropped: nothing may follow a requested close);
/// - `burst:a,b,c` sends `a`, `b` and `c` in one turn;
/// - `batch` sends `{"a":1}` and `{"b":2}` in one turn, so they leave as one message;
/// - `latest` mixes latest-value slots (`tally1`, `presence1`, `tally2`, `presence2`) with `event1`;
/// - `flood` queues 2.5 MiB in one turn (past a 1 MiB queue limit);
/// - `many:COUNT:SIZE` sends COUNT numbered events of SIZE bytes; `broadcast:COUNT:SIZE` sends
///   them to every open connection;
/// - `big:N` sends a text message of N bytes;
/// - `peer` sends the client's IP address; `whoami` its connection id;
/// - `actor` runs `onActor` (on the service thread) and sends `entered`;
/// - anything else comes back unchanged.
/// HTTP: `/healthz`, `/metrics` (the transport counters), `/export/…` (Bearer `secret`),
/// `/report` (with a CSP header) and `/big` (100,000 bytes); anything else is the server's.
/// `/echo` with `echoConformance` is the server's own echo and never reaches this handler.
public final class EchoHandler: TransportHandler, Sendable {
    /// A connection the handler saw open.
    public struct Opened: Sendable {
        /// The connection.
        public var id: ConnectionID
        /// The client's address.
        public var peer: String
        /// The upgrade's `Origin`, if any.
        public var origin: String?
    }

    private struct State {
        var opened: [Opened] = []
        var messages: [String] = []
        var closed: [ConnectionID] = []
        var closeCodes: [CloseCode] = []
        var ticks = 0
        var onActor: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())
    private let server = Mutex<WebSocketServer?>(nil)

    /// A handler not yet attached to a server.
    public init() {}

    /// Sends through `server` from now on.
    public func attach(_ server: WebSocketServer) {
        self.server.withLock { $0 = server }
    }

    /// The connections opened so far, in order.
    public var opened: [Opened] { state.withLock { $0.opened } }
    /// Every text message received on `/ws` so far, in order.
    public var messages: [String] { state.withLock { $0.messages } }
    /// The connections closed so far, in order.
    public var closed: [ConnectionID] { state.withLock { $0.closed } }
    /// The close codes clients sent, in order.
    public var receivedCloseCodes: [CloseCode] { state.withLock { $0.closeCodes } }
    /// How often the server's tick ran.
    public var ticks: Int { state.withLock { $0.ticks } }

    /// What the `actor` command runs on the service thread.
    public func onActor(_ action: @escaping @Sendable () -> Void) {
        state.withLock { $0.onActor = action }
    }

    public func connectionOpened(_ id: ConnectionID, peer: String, origin: String?) {
        state.withLock { $0.opened.append(Opened(id: id, peer: peer, origin: origin)) }
    }

    public func peerClosed(_ id: ConnectionID, code: CloseCode) {
        state.withLock { $0.closeCodes.append(code) }
    }

    public func connectionClosed(_ id: ConnectionID) {
        state.withLock { $0.closed.append(id) }
    }

    public func tick(nowMilliseconds: Int64) {
        state.withLock { $0.ticks += 1 }
    }

    public func messageReceived(_ id: ConnectionID, text: [UInt8]) {
        let message = String(decoding: text, as: UTF8.self)
        let (peer, onActor) = state.withLock { state in
            state.messages.append(message)
            return (state.opened.last { $0.id == id }?.peer ?? "unknown", state.onActor)
        }
        guard let server = server.withLock({ $0 }) else { return }
        func send(_ string: String) { server.send(id, Array(string.utf8)) }
        /// `label` padded with `x` to `size` bytes.
        func padded(_ label: String, _ size: Int) -> [UInt8] {
            Array((label + String(repeating: "x", count: max(0, size - label.utf8.count))).utf8)
        }
        if message.hasPrefix("close:") {
            send("bye")
            server.close(id, code: UInt16(message.dropFirst(6)).map(CloseCode.init(rawValue:)) ?? .normal, reason: "bye")
            send("after close")  // dropped: nothing may follow a requested close
        } else if message.hasPrefix("burst:") {
            for part in message.dropFirst(6).split(separator: ",") { send(String(part)) }
        } else if message == "batch" {
            send("{\"a\":1}")
            send("{\"b\":2}")
        } else if message == "latest" {
            server.sendLatest(id, slot: .tally("s1"), Array("tally1".utf8))
            send("event1")
            server.sendLatest(id, slot: .presence, Array("presence1".utf8))
            server.sendLatest(id, slot: .tally("s1"), Array("tally2".utf8))
            server.sendLatest(id, slot: .presence, Array("presence2".utf8))
        } else if message == "flood" {
            let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 64 << 10)
            for _ in 0..<40 { server.send(id, chunk) }  // 2.5 MiB in one turn, past the 1 MiB limit
        } else if message.hasPrefix("many:") {
            let numbers = message.dropFirst(5).split(separator: ":").compactMap { Int($0) }
            guard numbers.count == 2 else { return send("many:COUNT:SIZE") }
            for index in 0..<numbers[0] { server.send(id, padded("\(index):", numbers[1])) }
        } else if message.hasPrefix("broadcast:") {
            let numbers = message.dropFirst(10).split(separator: ":").compactMap { Int($0) }
            guard numbers.count == 2 else { return send("broadcast:COUNT:SIZE") }
            let targets = state.withLock { Set($0.opened.map(\.id)).subtracting($0.closed) }
            for index in 0..<numbers[0] {
                let event = padded("\(index):", numbers[1])
                for target in targets { server.send(target, event) }
            }
        } else if message.hasPrefix("big:") {
            server.send(id, [UInt8](repeating: UInt8(ascii: "x"), count: Int(message.dropFirst(4)) ?? 0))
        } else if message == "peer" {
            send(peer)
        } else if message == "whoami" {
            send("\(id)")
        } else if message == "actor" {
            onActor?()
            send("entered")
        } else {
            server.send(id, text)
        }
    }

    public func httpRequest(_ request: HTTPRequest) -> HTTPResponse? {
        switch request.path {
        case "/healthz":
            return .text("{\"status\":\"ok\"}", contentType: "application/json")
        case "/metrics":
            guard let counters = server.withLock({ $0?.counters }) else { return nil }
            return .text("open \(counters.openConnections) in \(counters.messagesIn)\n")
        case let path where path.hasPrefix("/export/"):
            guard request.authorization == "Bearer secret" else {
                return HTTPResponse(status: 401, contentType: "text/plain", headers: [HTTPHeader("WWW-Authenticate", "Bearer")],
                                    body: Array("unauthorized\n".utf8))
            }
            return .text("export \(path.dropFirst(8)) query=\(request.query)\n", contentType: "text/csv")
        case "/report":
            return HTTPResponse(status: 200, contentType: "text/html; charset=utf-8",
                                headers: [HTTPHeader("Content-Security-Policy", "default-src 'none'; style-src 'sha256-abc'")],
                                body: Array("<style>p{}</style><p>report</p>".utf8))
        case "/big":
            return HTTPResponse(status: 200, contentType: "application/octet-stream",
                                body: (0..<100_000).map { UInt8($0 % 251) })
        default:
            return nil
        }
    }
}
