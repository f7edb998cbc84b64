/// How the WebSocket/HTTP transport listens and what it allows.
public struct TransportOptions: Sendable, Equatable {
    /// The address to listen on. The default is "0.0.0.0" (every IPv4 address; "::" adds IPv6).
    public var host: String
    /// The TCP port; 0 picks a free one (read it back from `WebSocketServer.boundPort`). The default is 8080.
    public var port: Int
    /// The folder the static web pages are served from; nil serves the pages built into the
    /// binary (EmbeddedWeb). The default is nil.
    public var webRoot: String?
    /// The WebSocket subprotocol; upgrades that offer none bind to it too. The default is "stelling.v1".
    public var subprotocol: String
    /// The largest client message, reassembled; a larger one closes the connection with 1009. The default is 8192.
    public var messageLimitBytes: Int
    /// A connection from which nothing arrived for this long is dropped; it is pinged after half. The default is 60 s.
    public var keepaliveSeconds: Int
    /// How often `TransportHandler.tick(nowMilliseconds:)` is called. The default is 50 ms.
    public var tickIntervalMilliseconds: Int
    /// Past this many queued outbound bytes a connection is closed with 1008 "too slow". The default is 1 MiB.
    public var outboundQueueLimitBytes: Int
    /// The most bytes of queued events joined into one outgoing message (one event always fits). The default is 64 KiB.
    public var batchLimitBytes: Int
    /// How long `stop()` waits for WebSockets to close before the context is torn down. The default is 3000 ms.
    public var shutdownGraceMilliseconds: Int
    /// Origins whose pages may open a WebSocket (`https://host[:port]`); empty means the
    /// server's own host (the `Origin`'s host[:port] must equal the `Host` header). An upgrade
    /// without an `Origin` header (not a browser) is always allowed. The default is empty.
    public var allowedOrigins: [String]
    /// Serve HTTPS and WSS with this certificate and key (PEM files); nil serves plain HTTP. The default is nil.
    public var tls: TLSFiles?
    /// The most TCP connections (HTTP and WebSocket) at once; more get 503. The default is 20000.
    public var maxConnections: Int
    /// The most TCP connections from one address (IPv4 address, IPv6 /64) at once; more get 429.
    /// Offices behind one NAT address share it. The default is 500.
    public var maxConnectionsPerAddress: Int
    /// A client must send its whole HTTP request head within this time after connecting (or
    /// after its previous response, for a pipelined one), else it is dropped. The default is 10 s.
    public var requestHeadTimeoutSeconds: Int
    /// An idle keep-alive HTTP connection is closed after this long. The default is 5 s.
    public var httpIdleTimeoutSeconds: Int
    /// Peers whose `X-Forwarded-For` names the client (reverse proxies). The default is
    /// loopback only (127.0.0.0/8 and ::1).
    public var trustedProxies: TrustedProxies
    /// Adds the Autobahn conformance echo endpoint `/echo` (docs/CONFORMANCE.md); only on a
    /// loopback host. The default is false.
    public var echoConformance: Bool
    /// The event loop libwebsockets runs on: its own poll(2) loop, or libev or libuv (epoll). The default is poll.
    public var eventLoop: EventLoop
    /// Listens with SO_REUSEPORT, so several processes on one machine share the port and the
    /// kernel spreads new connections over them (cluster nodes, docs/SCALING.md). The default is false.
    public var reusePort: Bool = false

    /// Makes options; every value has the default its property documents.
    public init(
        host: String = "0.0.0.0",
        port: Int = 8080,
        webRoot: String? = nil,
        subprotocol: String = "stelling.v1",
        messageLimitBytes: Int = 8192,
        keepaliveSeconds: Int = 60,
        tickIntervalMilliseconds: Int = 50,
        outboundQueueLimitBytes: Int = 1 << 20,
        batchLimitBytes: Int = 64 << 10,
        shutdownGraceMilliseconds: Int = 3000,
        allowedOrigins: [String] = [],
        tls: TLSFiles? = nil,
        maxConnections: Int = 20000,
        maxConnectionsPerAddress: Int = 500,
        requestHeadTimeoutSeconds: Int = 10,
        httpIdleTimeoutSeconds: Int = 5,
        trustedProxies: TrustedProxies = .loopback,
        echoConformance: Bool = false,
        eventLoop: EventLoop = .poll
    ) {
        self.host = host
        self.port = port
        self.webRoot = webRoot
        self.subprotocol = subprotocol
        self.messageLimitBytes = messageLimitBytes
        self.keepaliveSeconds = keepaliveSeconds
        self.tickIntervalMilliseconds = tickIntervalMilliseconds
        self.outboundQueueLimitBytes = outboundQueueLimitBytes
        self.batchLimitBytes = batchLimitBytes
        self.shutdownGraceMilliseconds = shutdownGraceMilliseconds
        self.allowedOrigins = allowedOrigins
        self.tls = tls
        self.maxConnections = maxConnections
        self.maxConnectionsPerAddress = maxConnectionsPerAddress
        self.requestHeadTimeoutSeconds = requestHeadTimeoutSeconds
        self.httpIdleTimeoutSeconds = httpIdleTimeoutSeconds
        self.trustedProxies = trustedProxies
        self.echoConformance = echoConformance
        self.eventLoop = eventLoop
    }
}

/// The certificate and private key for HTTPS and WSS, as PEM file paths.
public struct TLSFiles: Sendable, Equatable {
    /// The certificate chain (PEM), the server's certificate first.
    public var certificatePath: String
    /// The private key (PEM, unencrypted).
    public var privateKeyPath: String

    /// Makes the pair.
    public init(certificatePath: String, privateKeyPath: String) {
        self.certificatePath = certificatePath
        self.privateKeyPath = privateKeyPath
    }
}

extension TransportOptions {
    /// The WebSocket path of the conformance echo endpoint (`--echo-conformance`).
    public static let echoPath = "/echo"
    /// The subprotocol that also selects the echo (on `/ws` too) when `echoConformance` is on.
    public static let echoSubprotocol = "echo"
    /// The message limit on the echo endpoint: 1 MiB.
    public static let echoMessageLimitBytes = 1 << 20
}

/// Whether `host` names the loopback interface only: 127.0.0.0/8, ::1 or localhost.
public func isLoopbackHost(_ host: String) -> Bool {
    let lower = host.lowercased()
    if lower == "localhost" || lower == "::1" || lower == "[::1]" { return true }
    let parts = lower.split(separator: ".", omittingEmptySubsequences: false)
    return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
}

/// The event loop the server's libwebsockets context runs on (`event_loop` in the configuration file).
public enum EventLoop: String, Equatable, Sendable, CaseIterable {
    /// libwebsockets' own loop on poll(2): every pass scans every descriptor.
    case poll
    /// libev (epoll on Linux), through libwebsockets' libev plugin.
    case libev
    /// libuv (epoll on Linux), through libwebsockets' libuv plugin.
    case libuv
}
