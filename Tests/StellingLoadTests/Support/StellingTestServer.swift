import Foundation
import Logging
import StellingCore
import StellingLoad
import StellingServer

/// A real Stelling server in this process on a free loopback port, acknowledging from memory.
final class StellingTestServer: @unchecked Sendable {
    static let key = "load-test-moderator-key"

    let server: Server
    var url: String { "ws://127.0.0.1:\(server.port)/ws" }

    init(limits: Limits = Limits()) throws {
        let configuration = Configuration(
            title: "Load test", groups: ["Rijk", "Provincie", "Gemeente"],
            statements: [StatementSpec(id: "s1", text: "Een"), StatementSpec(id: "s2", text: "Twee")],
            moderatorKey: Self.key, keepaliveSeconds: 120, limits: limits)
        let sink = MemorySink()
        var logger = Logger(label: "stelling-load-test")
        logger.logLevel = .error
        let options = TransportOptions(host: "127.0.0.1", port: 0, webRoot: FileManager.default.temporaryDirectory.path,
                                       keepaliveSeconds: configuration.keepaliveSeconds)
        server = Server(room: Room(configuration: configuration), options: options, sink: sink, logger: logger,
                        registerDurable: { sink.onDurable($0) })
        try server.start()
    }

    deinit {
        server.transport.stop()
        _ = server.transport.waitUntilStopped(timeoutMilliseconds: 5000)
    }

    /// Options for a run against this server: its URL and key, this process's pid, no progress lines.
    func options(clients: Int = 200) -> LoadOptions {
        var options = LoadOptions(url: url)
        options.moderatorKey = Self.key
        options.clients = clients
        options.serverPID = getpid()
        options.timeout = 30
        options.hold = 0.3
        options.progress = nil
        return options
    }
}
