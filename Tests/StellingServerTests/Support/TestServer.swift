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

/// Starts an `EchoServer` on 127.0.0.1, port 0, with these limits and a temporary web root
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
    let echo: EchoServer
    do {
        echo = try EchoServer(webRoot: root.path, logLevel: .warning) { options in
            options.messageLimitBytes = messageLimitBytes
            options.keepaliveSeconds = keepaliveSeconds
            options.outboundQueueLimitBytes = outboundQueueLimitBytes
            options.batchLimitBytes = batchLimitBytes
            options.shutdownGraceMilliseconds = 2000
            configure(&options)
        }
    } catch {
        try? FileManager.default.removeItem(at: root)
        throw error
    }
    return (echo.server, echo.handler, root.path)
}
