/// How the WebSocket/HTTP transport listens and what it allows.
public struct TransportOptions: Sendable, Equatable {
    /// The address to listen on. The default is "0.0.0.0" (every IPv4 address; "::" adds IPv6).
    public var host: String
    /// The TCP port; 0 picks a free one (read it back from `WebSocketServer.boundPort`). The default is 8080.
    public var port: Int
    /// The folder the static web pages are served from. The default is "web".
    public var webRoot: String
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

    /// Makes options; every value has the default its property documents.
    public init(
        host: String = "0.0.0.0",
        port: Int = 8080,
        webRoot: String = "web",
        subprotocol: String = "stelling.v1",
        messageLimitBytes: Int = 8192,
        keepaliveSeconds: Int = 60,
        tickIntervalMilliseconds: Int = 50,
        outboundQueueLimitBytes: Int = 1 << 20,
        batchLimitBytes: Int = 64 << 10,
        shutdownGraceMilliseconds: Int = 3000
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
    }
}
