import Foundation
import Logging
import StellingCore
import StellingLWS
import StellingServer
import StellingStore

/// A real Stelling server on a free loopback port, with the room, the event service and the
/// SQLite store in a temporary folder, plus a pool of libwebsockets clients to drive it.
public final class LiveEvent: @unchecked Sendable {
    /// The moderator key of `configuration()`.
    public static let key = "integration-test-moderator-key"

    /// The server under test.
    public let server: Server
    /// The event's store.
    public let store: EventStore
    /// The temporary folder of the store, removed at the end.
    public let folder: URL
    /// The pool the clients connect through.
    public let pool: WebSocketClientPool
    /// The server's port on 127.0.0.1.
    public let port: Int
    /// Whether the server speaks TLS.
    public let secure: Bool
    /// The WebSocket URL of the server.
    public var url: String { "\(secure ? "wss" : "ws")://127.0.0.1:\(port)/ws" }

    /// A small event: three groups, three statements, a fast tally and join limits no test reaches.
    public static func configuration(groups: [String] = ["Rijk", "Provincie", "Gemeente"]) -> Configuration {
        var configuration = Configuration(
            title: "Leren samen werken aan opgaven",
            programme: [ProgrammeItem(time: "14:00", item: "Welkom")],
            groups: groups,
            statements: [StatementSpec(id: "s1", text: "Een"), StatementSpec(id: "s2", text: "Twee"), StatementSpec(id: "s3", text: "Drie")],
            moderatorKey: key)
        configuration.tallyIntervalMilliseconds = 100
        configuration.limits.joinBurst = 100_000 // every test client joins from 127.0.0.1
        configuration.limits.joinBurstTotal = 100_000
        return configuration
    }

    /// Starts a server on `configuration`, with the store in a fresh temporary folder.
    public init(configuration: Configuration = LiveEvent.configuration(), keepaliveSeconds: Int? = nil, tls: TLSFiles? = nil,
         maxConnectionsPerAddress: Int = 100_000, trustedProxies: TrustedProxies = .loopback,
         eventLoop: EventLoop = .poll) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("stelling-live-\(UUID().uuidString)")
        let store = try EventStore(path: folder.appendingPathComponent("event.sqlite").path, configuration: configuration)
        self.store = store
        var logger = Logger(label: "stelling-test")
        logger.logLevel = .error
        let options = TransportOptions(
            host: "127.0.0.1", port: 0, webRoot: FileManager.default.temporaryDirectory.path,
            messageLimitBytes: configuration.limits.messageBytes,
            keepaliveSeconds: keepaliveSeconds ?? configuration.keepaliveSeconds,
            tls: tls,
            maxConnectionsPerAddress: maxConnectionsPerAddress,  // every test client comes from 127.0.0.1
            trustedProxies: trustedProxies,
            eventLoop: eventLoop)
        server = Server(room: Room(configuration: configuration), options: options, store: store, logger: logger)
        try server.start()
        secure = tls != nil
        port = server.port
        pool = try WebSocketClientPool()
    }

    deinit {
        pool.shutdown(timeout: 5)
        server.transport.stop()
        server.transport.waitUntilStopped(timeoutMilliseconds: 5000)
        store.close(timeout: 5)
        try? FileManager.default.removeItem(at: folder)
    }

    /// A new, open client.
    public func client(subprotocol: String? = "stelling.v1") throws -> TestClient {
        let connection = pool.connect(url: url, subprotocol: subprotocol)
        guard connection.waitOpen(timeout: 5) else { throw TestFailure("client did not open") }
        return TestClient(connection)
    }

    /// A joined participant.
    public func participant(_ name: String = "Anna", group: String? = nil) throws -> (TestClient, JSONObject) {
        let client = try client()
        var fields: [(String, String?)] = [("type", "join"), ("name", name)]
        if let group { fields.append(("group", group)) }
        client.send(object: fields)
        let welcome = try client.expect("welcome")
        return (client, welcome)
    }

    /// A joined moderator.
    public func moderator(_ name: String = "Ruben") throws -> TestClient {
        let client = try client()
        client.send(object: [("type", "join"), ("role", "moderator"), ("key", LiveEvent.key), ("name", name)])
        _ = try client.expect("welcome")
        return client
    }

    /// A joined moderator who has shown the first statement (voting open).
    public func moderatorShowingFirstStatement(_ name: String = "Ruben") throws -> TestClient {
        let client = try moderator(name)
        client.send(#"{"type":"next"}"#)
        _ = try client.expect("statement")
        return client
    }

    /// A joined screen.
    public func screen() throws -> TestClient {
        let client = try client()
        client.send(#"{"type":"join","role":"screen"}"#)
        _ = try client.expect("welcome")
        return client
    }

    /// An HTTP GET on this server.
    public func http(_ path: String, headers: [String: String] = [:]) throws -> RawWebSocket.HTTPResult {
        try RawWebSocket.http(port: port, path: path, headers: headers)
    }
}

/// A test's own failure, with what went wrong.
public struct TestFailure: Error, CustomStringConvertible {
    /// What went wrong.
    public var description: String
    /// A failure saying `description`.
    public init(_ description: String) { self.description = description }
}

/// One JSON object as a test reads it.
public typealias JSONObject = [String: JSONValue]

/// One client connection that reads events one at a time, as JSON objects.
public final class TestClient: @unchecked Sendable {
    /// The libwebsockets client connection.
    public let connection: ClientConnection
    /// Events read but not yet asked for by `expect`.
    private var pending: [JSONObject] = []

    /// Reads from `connection`.
    public init(_ connection: ClientConnection) { self.connection = connection }

    /// Sends raw text.
    public func send(_ text: String) { connection.send(text) }

    /// Sends a JSON object of string fields (nil ones as null), in order.
    public func send(object fields: [(String, String?)]) {
        var writer = JSONWriter()
        writer.beginObject()
        for (key, value) in fields { writer.field(key, value) }
        writer.endObject()
        connection.send(String(decoding: writer.bytes, as: UTF8.self))
    }

    /// The next event, or nil when none arrives in time.
    public func next(timeout: Double = 5) -> JSONObject? {
        if !pending.isEmpty { return pending.removeFirst() }
        guard let text = connection.nextEvent(timeout: timeout) else { return nil }
        guard case let .object(object)? = JSONValue.parse(Array(text.utf8)) else { return ["unparsable": .string(text)] }
        return object
    }

    /// The next event of `type`, skipping `presence` and `tally` events that come between
    /// (they are timed by the server); any other event on the way is a failure.
    public func expect(_ type: String, timeout: Double = 5, skipping: Set<String> = ["presence", "tally"]) throws -> JSONObject {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0, let event = next(timeout: remaining) else {
                throw TestFailure("no \(type) event within \(timeout) s")
            }
            if event["type"] == .string(type) { return event }
            if case let .string(other)? = event["type"], skipping.contains(other) { continue }
            throw TestFailure("expected \(type), got \(event)")
        }
    }

    /// The next error's code (with the ref it carried).
    public func expectError(timeout: Double = 5) throws -> (code: String, ref: String?) {
        let event = try expect("error", timeout: timeout)
        guard case let .string(code)? = event["code"] else { throw TestFailure("error without code: \(event)") }
        if case let .string(ref)? = event["ref"] { return (code, ref) }
        return (code, nil)
    }

    /// The events that arrive before the answer (ack or error) to the request with `ref`, and that
    /// answer: the barrier for "nothing else arrived". The server answers a connection's requests in
    /// order, after every event already queued for it, so an event due before the request is in `before`.
    public func untilAnswer(_ ref: String, timeout: Double = 5) throws -> (before: [JSONObject], answer: JSONObject) {
        let deadline = Date().addingTimeInterval(timeout)
        var before: [JSONObject] = []
        while true {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0, let event = next(timeout: remaining) else {
                throw TestFailure("no answer to \(ref) within \(timeout) s")
            }
            if ["ack", "error"].contains(event.string("type") ?? ""), event.string("ref") == ref { return (before, event) }
            before.append(event)
        }
    }

    /// Every event that arrives within `window` seconds.
    public func drain(window: Double = 0.3) -> [JSONObject] {
        var events: [JSONObject] = []
        while let event = next(timeout: window) { events.append(event) }
        return events
    }

    /// The close code once the server closes, or nil if it does not within `timeout`.
    public func closeCode(timeout: Double = 5) -> CloseCode?? {
        let deadline = Date().addingTimeInterval(timeout)
        while deadline.timeIntervalSinceNow > 0 {
            switch connection.next(timeout: deadline.timeIntervalSinceNow) {
            case let .closed(code, _)?: return .some(code)
            case .failed?: return .some(nil)
            case nil: return nil
            default: continue
            }
        }
        return nil
    }
}

extension JSONObject {
    /// The string at `key`, if it is one.
    public func string(_ key: String) -> String? { if case let .string(value)? = self[key] { value } else { nil } }
    /// The integer at `key`, if it is one.
    public func int(_ key: String) -> Int? { if case let .integer(value)? = self[key] { Int(value) } else { nil } }
    /// The object at `key`, if it is one.
    public func object(_ key: String) -> JSONObject? { if case let .object(value)? = self[key] { value } else { nil } }
    /// The array at `key`, if it is one.
    public func array(_ key: String) -> [JSONValue]? { if case let .array(value)? = self[key] { value } else { nil } }
}
