import StellingCluster
import StellingCore
import StellingLWS

/// How one Stelling process listens, stores and admits connections: read from the same
/// configuration file as the room's rules (StellingCore's `Configuration`), but none of the
/// room's business.
public struct ServerSettings: Equatable, Sendable {
    /// The address to listen on. The default is `0.0.0.0`.
    public var host: String
    /// The TCP port. The default is 8080.
    public var port: Int
    /// The SQLite database path, relative paths taken from the configuration file's folder.
    /// The default is `data/stelling.sqlite`.
    public var database: String
    /// A folder of web pages to serve instead of those built into the binary; relative paths
    /// are taken from the configuration file's folder. The default is none (built in).
    public var webRoot: String?
    /// The TLS certificate (PEM) path; with `tlsPrivateKey`, the server speaks HTTPS and WSS.
    /// Relative paths are taken from the configuration file's folder. The default is none.
    public var tlsCertificate: String?
    /// The TLS private key (PEM) path, relative like `tlsCertificate`. The default is none.
    public var tlsPrivateKey: String?
    /// Origins allowed to open a WebSocket; empty means the server's own host only.
    public var allowedOrigins: [String]
    /// Reverse proxies whose `X-Forwarded-For` is believed: addresses and CIDR ranges, IPv4
    /// and IPv6 (checked by the configuration reader). The default is loopback only:
    /// `127.0.0.0/8` and `::1`.
    public var trustedProxies: [String]
    /// The most TCP connections the server holds at once (`limits.max_connections`). The default is 20000.
    public var maxConnections: Int
    /// The most TCP connections from one address, a whole ministry behind NAT sharing one
    /// (`limits.max_connections_per_address`). The default is 500.
    public var maxConnectionsPerAddress: Int
    /// The event loop libwebsockets runs on (`event_loop`). The default is `poll`.
    public var eventLoop: EventLoop
    /// Issue 16: this node's part in an event served by several nodes through Redis (`cluster`).
    /// The default is none: one server with its SQLite database.
    public var cluster: ClusterSettings? = nil

    /// Makes settings; every value has the default its property documents.
    public init(
        host: String = "0.0.0.0",
        port: Int = 8080,
        database: String = "data/stelling.sqlite",
        webRoot: String? = nil,
        tlsCertificate: String? = nil,
        tlsPrivateKey: String? = nil,
        allowedOrigins: [String] = [],
        trustedProxies: [String] = ["127.0.0.0/8", "::1"],
        maxConnections: Int = 20000,
        maxConnectionsPerAddress: Int = 500,
        eventLoop: EventLoop = .poll
    ) {
        self.host = host
        self.port = port
        self.database = database
        self.webRoot = webRoot
        self.tlsCertificate = tlsCertificate
        self.tlsPrivateKey = tlsPrivateKey
        self.allowedOrigins = allowedOrigins
        self.trustedProxies = trustedProxies
        self.maxConnections = maxConnections
        self.maxConnectionsPerAddress = maxConnectionsPerAddress
        self.eventLoop = eventLoop
    }
}

/// The `cluster` section (docs/SCALING.md): one event served by several nodes through Redis.
public struct ClusterSettings: Equatable, Sendable {
    /// `cluster.redis`: `redis://[[user]:password@]host[:port][/db]`.
    public var redis: String
    /// `cluster.event`: the event's name space in Redis; the same on every node.
    public var event: String
    /// `cluster.node`: this node's name, unique in the event.
    public var node: String
    /// `cluster.reuse_port`: listen with SO_REUSEPORT, so several nodes on one machine share one
    /// port and the kernel spreads connections over them. The default is false.
    public var reusePort: Bool

    /// Makes the section.
    public init(redis: String, event: String, node: String, reusePort: Bool = false) {
        self.redis = redis
        self.event = event
        self.node = node
        self.reusePort = reusePort
    }

    /// The characters of event and node names: letters, digits, `.`, `_`, `-` (they go into Redis
    /// keys and log lines).
    public static func nameProblem(_ name: String, longest: Int) -> String? {
        guard !name.isEmpty, name.utf8.count <= longest else { return "must be 1 to \(longest) characters" }
        let allowed = name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0)) }
        return allowed ? nil : "may hold only letters a-z, digits and . _ -"
    }
}

extension ClusterSettings {
    /// Why `text` is not a usable `cluster.redis` address, or nil.
    static func redisProblem(_ text: String) -> String? {
        do {
            _ = try RedisURL(parsing: text)
            return nil
        } catch {
            return error.description
        }
    }
}
