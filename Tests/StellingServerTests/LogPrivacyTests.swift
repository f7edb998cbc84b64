import Foundation
import Logging
import StellingCore
import StellingLoad
import StellingLWS
import StellingStore
import Testing
@testable import StellingServer
import StellingTesting

/// Keeps every log line a server writes, rendered with its metadata.
final class CapturedLog: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    func append(_ line: String) { lock.lock(); lines.append(line); lock.unlock() }
    var text: String { lock.lock(); defer { lock.unlock() }; return lines.joined(separator: "\n") }

    struct Handler: LogHandler {
        let log: CapturedLog
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String,
                 file: String, function: String, line: UInt) {
            let all = self.metadata.merging(metadata ?? [:]) { $1 }
            log.append("\(level) \(message) \(all.map { "\($0)=\($1)" }.sorted().joined(separator: " "))")
        }
    }
}

@Suite(.timeLimit(.minutes(1)))
struct LogPrivacyTests {
    @Test func evenAtTraceTheServerLogsNoWholeAddressNameTokenOrText() throws {
        let captured = CapturedLog()
        var logger = Logger(label: "privacy-test") { _ in CapturedLog.Handler(log: captured) }
        logger.logLevel = .trace
        let configuration = LiveEvent.configuration()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("stelling-log-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try EventStore(path: folder.appendingPathComponent("event.sqlite").path, configuration: configuration)
        let options = TransportOptions(host: "127.0.0.1", port: 0, webRoot: folder.path,
                                       messageLimitBytes: 8192, keepaliveSeconds: 60, maxConnectionsPerAddress: 1000)
        let server = Server(room: Room(configuration: configuration), options: options, store: store, logger: logger)
        try server.start()
        let pool = try WebSocketClientPool()
        let connection = pool.connect(url: "ws://127.0.0.1:\(server.port)/ws", subprotocol: "stelling.v1")
        #expect(connection.waitOpen(timeout: 5))
        let client = TestClient(connection)
        client.send(#"{"type":"join","name":"Geheime Naam"}"#)
        let welcome = try client.expect("welcome")
        client.send(#"{"type":"chat","text":"vertrouwelijke tekst","ref":"c"}"#)
        _ = try client.expect("ack", skipping: ["presence", "tally", "chat"])
        connection.close()
        pool.shutdown(timeout: 5)
        server.transport.stop()
        server.transport.waitUntilStopped(timeoutMilliseconds: 5000)
        store.close(timeout: 5)

        let text = captured.text
        #expect(text.contains("127.0.0.0/24"), "the debug line shows the network: \(text)")
        // The server's own listening address is not a peer's.
        let peers = text.split(separator: "\n").filter { !$0.contains("transport listening") }.joined(separator: "\n")
        #expect(!peers.contains("127.0.0.1"))
        #expect(!text.contains("Geheime Naam"))
        #expect(!text.contains("vertrouwelijke"))
        #expect(!text.contains(welcome.string("resume") ?? "no token"))
    }
}
