import Foundation
import Logging
import StellingCore
import StellingLoad
import StellingServer
import StellingStore

/// A real Stelling server in this process on a free loopback port, on the SQLite store in a fresh folder.
final class StellingTestServer: @unchecked Sendable {
    static let key = "load-test-moderator-key"

    let server: Server
    let store: EventStore
    let folder: URL
    var url: String { "ws://127.0.0.1:\(server.port)/ws" }

    init(limits: Limits = Limits(joinBurst: 100_000, joinBurstTotal: 100_000)) throws {
        let configuration = Configuration(
            title: "Load test", groups: ["Rijk", "Provincie", "Gemeente"],
            statements: [StatementSpec(id: "s1", text: "Een"), StatementSpec(id: "s2", text: "Twee")],
            moderatorKey: Self.key, keepaliveSeconds: 120, limits: limits)
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("stelling-load-\(UUID().uuidString)")
        let store = try EventStore(path: folder.appendingPathComponent("event.sqlite").path, configuration: configuration)
        self.store = store
        var logger = Logger(label: "stelling-load-test")
        logger.logLevel = .error
        let options = TransportOptions(host: "127.0.0.1", port: 0, webRoot: FileManager.default.temporaryDirectory.path,
                                       keepaliveSeconds: configuration.keepaliveSeconds)
        server = Server(room: Room(configuration: configuration), options: options, store: store, logger: logger)
        try server.start()
    }

    deinit {
        server.transport.stop()
        _ = server.transport.waitUntilStopped(timeoutMilliseconds: 5000)
        store.close(timeout: 5)
        try? FileManager.default.removeItem(at: folder)
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
