import CWebSockets
import Foundation

/// Many WebSocket client connections on one libwebsockets context and one service thread.
///
/// Made for tests and the load tool: thousands of connections cost one
/// thread. Every method may be called from any thread; the connections'
/// callbacks run on the service thread.
public final class WebSocketClientPool: Sendable {
    private let client: ClientLoop
    private let nextID = Guarded<UInt64>(0)

    /// Starts the service thread; `maxMessageBytes` caps one incoming message (the default is 1 MiB).
    ///
    /// Raises the soft limit on open files to the hard limit first, because
    /// libwebsockets sizes its connection table from it. `napMicroseconds` (default 0) is the
    /// shortest service pass: a shorter one is topped up with a sleep. With thousands of
    /// connections, poll(2) over all of them for every few messages costs more than the
    /// messages; a few hundred microseconds lets many become ready per pass, at that much
    /// added latency, and a busy pass (longer than that) never sleeps.
    public init(maxMessageBytes: Int = 1 << 20, napMicroseconds: UInt32 = 0) throws(ClientPoolError) {
        raiseOpenFileLimit()
        client = try ClientLoop.start(maxMessageBytes: maxMessageBytes, napMicroseconds: napMicroseconds)
    }

    deinit {
        shutdown()
    }

    /// Opens a connection to `url` (`ws://host:port/path`, or `wss://` for TLS, which accepts
    /// any certificate: this is a test and load tool) asynchronously; its first event tells how it went.
    ///
    /// - Parameters:
    ///   - subprotocol: offered in `Sec-WebSocket-Protocol`; nil offers none. The default is `stelling.v1`.
    ///   - origin: sent as the `Origin` header when set.
    ///   - sourceAddress: the local IP address to connect from, such as `127.0.0.2`, to use more than one
    ///     address's worth of ephemeral ports.
    ///   - onText: when set, receives every text message on the service thread instead of the inbox.
    ///   - callbacks: when set, receive every event on the service thread, and the inbox stays empty.
    public func connect(
        url: String,
        subprotocol: String? = "stelling.v1",
        origin: String? = nil,
        sourceAddress: String? = nil,
        onText: (@Sendable (String) -> Void)? = nil,
        callbacks: ClientCallbacks? = nil
    ) -> ClientConnection {
        let id = nextID.withLock { id -> UInt64 in
            id += 1
            return id
        }
        let target: Result<ClientConnection.Target, ConnectError> = if let endpoint = WebSocketURL(url) {
            .success(ClientConnection.Target(
                host: endpoint.host, port: endpoint.port, path: endpoint.path,
                subprotocol: subprotocol, origin: origin, sourceAddress: sourceAddress, secure: endpoint.secure))
        } else {
            .failure(ConnectError(message: "unsupported URL: \(url)"))
        }
        let connection = ClientConnection(id: id, target: target, onText: onText, callbacks: callbacks, client: client)
        if case .failure(let error) = target {
            connection.deliver(.failed(error.message))
        } else if !client.connect(connection) {
            connection.deliver(.failed("the pool is shut down"))
        }
        return connection
    }

    /// Limits libwebsockets' own log (process-wide) to errors; the load tool calls it first, as
    /// its warnings repeat per connection (a refused handshake is reported in the summary).
    public static func quietLibraryLog() {
        LWSLog.quiet()
    }

    /// Closes every connection without a closing handshake and stops the service thread.
    ///
    /// Waits at most `timeout` seconds for the thread; later calls return at once.
    public func shutdown(timeout: Double = 10) {
        client.stop(timeout: timeout)
    }
}

/// The pool's libwebsockets context could not be made.
public struct ClientPoolError: Error, Sendable, Equatable {
    /// For people.
    public var message: String
}

/// The parts of a `ws://` or `wss://` URL that libwebsockets' connect call wants.
public struct WebSocketURL: Equatable, Sendable {
    /// The host name or address (an IPv6 literal without its brackets).
    public var host: String
    /// The port; the scheme's default when the URL names none.
    public var port: Int32
    /// The path and query; "/" when the URL has none.
    public var path: String
    /// `wss://`: TLS.
    public var secure = false

    /// Parses `ws://host[:port][/path]` or `wss://…`; nil for anything else.
    public init?(_ text: String) {
        let lower = text.lowercased()
        guard lower.hasPrefix("ws://") || lower.hasPrefix("wss://") else { return nil }
        secure = lower.hasPrefix("wss://")
        let defaultPort: Int32 = secure ? 443 : 80
        let rest = text.dropFirst(secure ? 6 : 5)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        path = slash == rest.endIndex ? "/" : String(rest[slash...])
        if authority.hasPrefix("[") {
            // An IPv6 literal: [::1]:8080
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            guard let port = Self.port(after, default: defaultPort) else { return nil }
            self.port = port
        } else {
            let colon = authority.firstIndex(of: ":") ?? authority.endIndex
            host = String(authority[..<colon])
            guard let port = Self.port(authority[colon...], default: defaultPort) else { return nil }
            self.port = port
        }
        guard !host.isEmpty else { return nil }
    }

    /// `""` is the scheme's port; `":N"` is N when it is a valid port.
    private static func port(_ text: Substring, default defaultPort: Int32) -> Int32? {
        if text.isEmpty { return defaultPort }
        guard text.first == ":", let port = Int32(text.dropFirst()), (1...65535).contains(port) else { return nil }
        return port
    }
}
