import Foundation
import Logging
import StellingCore
@testable import StellingServer
@testable import StellingLWS
import StellingTesting

/// An actor that runs on the server's service loop, as the room's actor will.
actor LoopBound {
    let loop: ServiceLoop
    private(set) var entered = 0

    init(loop: ServiceLoop) {
        self.loop = loop
    }

    nonisolated var unownedExecutor: UnownedSerialExecutor { loop.asUnownedSerialExecutor() }

    /// Whether this runs on the service thread.
    func isOnServiceThread() -> Bool {
        loop.assertOnLoopThread()
        return loop.isOnLoopThread
    }

    /// Sends from the actor: allowed, since the actor is on the service thread.
    func send(_ server: WebSocketServer, to id: ConnectionID, _ text: String) {
        server.send(id, Array(text.utf8))
    }

    func enter() {
        entered += 1
    }
}

/// A small scripted handler: echoes text, and a few commands exercise the outbound API.
/// Records what it saw, readable from the test thread.
final class EchoHandler: TransportHandler, @unchecked Sendable {
    weak var server: WebSocketServer?
    var bound: LoopBound?
    private let lock = NSLock()
    private var _opened: [(id: ConnectionID, peer: String, origin: String?)] = []
    private var _messages: [String] = []
    private var _closed: [ConnectionID] = []
    private var _ticks = 0

    var opened: [(id: ConnectionID, peer: String, origin: String?)] { lock.withLock { _opened } }
    var messages: [String] { lock.withLock { _messages } }
    var closed: [ConnectionID] { lock.withLock { _closed } }
    var ticks: Int { lock.withLock { _ticks } }

    func connectionOpened(_ id: ConnectionID, peer: String, origin: String?) {
        lock.withLock { _opened.append((id, peer, origin)) }
    }

    func connectionClosed(_ id: ConnectionID) {
        lock.withLock { _closed.append(id) }
    }

    func tick(nowMilliseconds: Int64) {
        lock.withLock { _ticks += 1 }
    }

    func messageReceived(_ id: ConnectionID, text: [UInt8]) {
        let message = String(decoding: text, as: UTF8.self)
        lock.withLock { _messages.append(message) }
        guard let server else { return }
        func send(_ string: String) { server.send(id, Array(string.utf8)) }
        if message.hasPrefix("burst:") {
            for part in message.dropFirst(6).split(separator: ",") { send(String(part)) }
        } else if message == "latest" {
            server.sendLatest(id, slot: .tally("s1"), Array("tally1".utf8))
            send("event1")
            server.sendLatest(id, slot: .presence, Array("presence1".utf8))
            server.sendLatest(id, slot: .tally("s1"), Array("tally2".utf8))
            server.sendLatest(id, slot: .presence, Array("presence2".utf8))
        } else if message.hasPrefix("close:") {
            send("bye")
            server.close(id, code: UInt16(message.dropFirst(6)).map(CloseCode.init(rawValue:)) ?? .normal, reason: "done")
            send("after close")  // dropped: nothing may follow a requested close
        } else if message == "flood" {
            let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 64 << 10)
            for _ in 0..<40 { server.send(id, chunk) }  // 2.5 MiB in one turn, past the 1 MiB limit
        } else if message.hasPrefix("many:") {
            // many:COUNT:SIZE sends COUNT numbered events of SIZE bytes in one turn.
            let numbers = message.dropFirst(5).split(separator: ":").compactMap { Int($0) }
            for index in 0..<numbers[0] {
                let label = "\(index):"
                send(label + String(repeating: "x", count: max(0, numbers[1] - label.utf8.count)))
            }
        } else if message == "actor" {
            bound?.assumeIsolated { $0.enter() }
            send("entered")
        } else if message == "whoami" {
            send("\(id)")
        } else if message.hasPrefix("broadcast:") {
            // broadcast:COUNT:SIZE sends COUNT events of SIZE bytes to every open connection.
            let numbers = message.dropFirst(10).split(separator: ":").compactMap { Int($0) }
            let targets = lock.withLock { Set(_opened.map(\.id)).subtracting(_closed) }
            for index in 0..<numbers[0] {
                let label = "\(index):"
                let event = Array((label + String(repeating: "x", count: max(0, numbers[1] - label.utf8.count))).utf8)
                for target in targets { server.send(target, event) }
            }
        } else {
            send("echo:" + message)
        }
    }

    func httpRequest(_ request: HTTPRequest) -> HTTPResponse? {
        switch request.path {
        case "/healthz":
            return .text("{\"status\":\"ok\"}", contentType: "application/json")
        case "/metrics":
            let counters = server?.counters ?? TransportCounters()
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

/// A running server on 127.0.0.1 with a temporary web root; stopped at the end of `body`.
func withServer<T>(
    messageLimitBytes: Int = 1024, keepaliveSeconds: Int = 60, outboundQueueLimitBytes: Int = 1 << 20,
    batchLimitBytes: Int = 64 << 10, configure: (inout TransportOptions) -> Void = { _ in },
    _ body: (WebSocketServer, EchoHandler, Int) throws -> T
) throws -> T {
    let (server, handler, root) = try startServer(messageLimitBytes: messageLimitBytes, keepaliveSeconds: keepaliveSeconds,
                                                  outboundQueueLimitBytes: outboundQueueLimitBytes,
                                                  batchLimitBytes: batchLimitBytes, configure: configure)
    defer {
        server.stop()
        server.waitUntilStopped(timeoutMilliseconds: 10_000)
        try? FileManager.default.removeItem(atPath: root)
    }
    return try body(server, handler, server.boundPort)
}

/// Starts a server on 127.0.0.1, port 0, with a scripted handler and a temporary web root
/// (returned, for the caller to remove).
func startServer(messageLimitBytes: Int = 1024, keepaliveSeconds: Int = 60,
                 outboundQueueLimitBytes: Int = 1 << 20, batchLimitBytes: Int = 64 << 10,
                 configure: (inout TransportOptions) -> Void = { _ in }) throws
    -> (WebSocketServer, EchoHandler, String) {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("stelling-web-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    let files = [
        "index.html": "<h1>participant</h1>",
        "moderator.html": "<h1>moderator</h1>",
        "screen.html": "<h1>screen</h1>",
        "app.js": "export const x = 1;",
        "style.css": "body { margin: 0 }",
        "icons/logo.svg": "<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
        ".secret": "hidden",
    ]
    for (name, contents) in files {
        let url = root.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(contents.utf8).write(to: url)
    }
    let handler = EchoHandler()
    var logger = Logger(label: "stelling.test")
    logger.logLevel = .warning
    var options = TransportOptions(host: "127.0.0.1", port: 0, webRoot: root.path,
                                   messageLimitBytes: messageLimitBytes, keepaliveSeconds: keepaliveSeconds,
                                   outboundQueueLimitBytes: outboundQueueLimitBytes, batchLimitBytes: batchLimitBytes,
                                   shutdownGraceMilliseconds: 2000)
    configure(&options)
    let server = WebSocketServer(options: options, handler: handler, logger: logger)
    handler.server = server
    do {
        try server.start()
    } catch {
        try? FileManager.default.removeItem(at: root)
        throw error
    }
    return (server, handler, root.path)
}

/// Polls `condition` every 10 ms until it holds or `timeout` seconds pass.
func eventually(timeout: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = RawWebSocket.now() + timeout
    while RawWebSocket.now() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}
