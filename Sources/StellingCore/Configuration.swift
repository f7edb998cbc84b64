/// Everything the room and the server need to know about one event, as read from the
/// configuration file (PROTOCOL.md, Configuration contract). Defaults are the protocol's.
public struct Configuration: Equatable, Sendable {
    /// The event's title, shown on every page. Required.
    public var title: String
    /// The programme shown to participants (time and item). The default is empty.
    public var programme: [ProgrammeItem]
    /// The groups a participant may choose from; empty means the event has no groups.
    public var groups: [String]
    /// The statements in their order. The default is none (the moderator adds them live).
    public var statements: [StatementSpec]
    /// The moderator key. `nil` means the server makes a strong one at start.
    public var moderatorKey: String?
    /// The address to listen on. The default is `0.0.0.0`.
    public var host: String
    /// The TCP port. The default is 8080.
    public var port: Int
    /// The SQLite database path, relative paths taken from the configuration file's folder.
    /// The default is `data/stelling.sqlite`.
    public var database: String
    /// Seconds of silence after which a peer is dropped. The default is 60.
    public var keepaliveSeconds: Int
    /// The least time between two tally events while counts change. The default is 250 ms.
    public var tallyIntervalMilliseconds: Int
    /// Origins allowed to open a WebSocket; empty means the server's own host only.
    public var allowedOrigins: [String]
    /// Reverse proxies whose `X-Forwarded-For` is believed: addresses and CIDR ranges, IPv4
    /// and IPv6 (checked by the configuration reader). The default is loopback only:
    /// `127.0.0.0/8` and `::1`.
    public var trustedProxies: [String]
    /// The first language of the web pages, `nl` or `en`. The default is `nl`.
    public var language: String
    /// A folder of web pages to serve instead of those built into the binary; relative paths
    /// are taken from the configuration file's folder. The default is none (built in).
    public var webRoot: String?
    /// Size, length and rate limits.
    public var limits: Limits
    /// The TLS certificate (PEM) path; with `tlsPrivateKey`, the server speaks HTTPS and WSS.
    /// Relative paths are taken from the configuration file's folder. The default is none.
    public var tlsCertificate: String?
    /// The TLS private key (PEM) path, relative like `tlsCertificate`. The default is none.
    public var tlsPrivateKey: String?

    /// Makes a configuration with the protocol's defaults for everything but the title.
    public init(
        title: String,
        programme: [ProgrammeItem] = [],
        groups: [String] = [],
        statements: [StatementSpec] = [],
        moderatorKey: String? = nil,
        host: String = "0.0.0.0",
        port: Int = 8080,
        database: String = "data/stelling.sqlite",
        keepaliveSeconds: Int = 60,
        tallyIntervalMilliseconds: Int = 250,
        allowedOrigins: [String] = [],
        trustedProxies: [String] = ["127.0.0.0/8", "::1"],
        language: String = "nl",
        webRoot: String? = nil,
        limits: Limits = Limits(),
        tlsCertificate: String? = nil,
        tlsPrivateKey: String? = nil
    ) {
        self.title = title
        self.programme = programme
        self.groups = groups
        self.statements = statements
        self.moderatorKey = moderatorKey
        self.host = host
        self.port = port
        self.database = database
        self.keepaliveSeconds = keepaliveSeconds
        self.tallyIntervalMilliseconds = tallyIntervalMilliseconds
        self.allowedOrigins = allowedOrigins
        self.trustedProxies = trustedProxies
        self.language = language
        self.webRoot = webRoot
        self.limits = limits
        self.tlsCertificate = tlsCertificate
        self.tlsPrivateKey = tlsPrivateKey
    }
}

/// One line of the programme: `{"time":"14:00","item":"Welkom"}`.
public struct ProgrammeItem: Equatable, Sendable {
    /// The time as written in the configuration, e.g. `14:00`.
    public var time: String
    /// What happens then.
    public var item: String

    /// Makes a programme line.
    public init(time: String, item: String) {
        self.time = time
        self.item = item
    }
}

/// A statement as configured: its id and its text.
public struct StatementSpec: Equatable, Sendable {
    /// The statement's id, e.g. `s1`.
    public var id: String
    /// The statement's text.
    public var text: String

    /// Makes a configured statement.
    public init(id: String, text: String) {
        self.id = id
        self.text = text
    }
}

/// Size, length and rate limits (PROTOCOL.md, `limits`).
public struct Limits: Equatable, Sendable {
    /// The largest client message in bytes. The default is 8192.
    public var messageBytes: Int
    /// The longest chat message, announcement or added statement in code points. The default is 500.
    public var chatChars: Int
    /// Chat messages a participant may send at once. The default is 5.
    public var chatBurst: Int
    /// Chat messages a second after the burst. The default is 1.
    public var chatPerSecond: Double
    /// Votes a participant may send at once. The default is 10.
    public var voteBurst: Int
    /// Votes a second after the burst. The default is 2.
    public var votesPerSecond: Double
    /// Joins one network address may make at once (offices share an address). The default is 200.
    public var joinBurst: Int
    /// Joins a second per network address after the burst. The default is 50.
    public var joinsPerSecond: Double
    /// Joins the whole event takes at once (a rush at the hour). The default is 2000.
    public var joinBurstTotal: Int
    /// Joins a second the whole event takes after that burst. The default is 500.
    public var joinsPerSecondTotal: Double
    /// Records waiting for the store (a full disk) past which new requests get `unavailable`
    /// instead of queueing. The default is 10000.
    public var storeBacklogRecords: Int
    /// Bytes queued for one connection before it is closed as too slow (1008). The default is 1 MiB.
    public var outboundQueueBytes: Int
    /// The most TCP connections the server holds at once. The default is 20000.
    public var maxConnections: Int
    /// The most TCP connections from one address (a whole ministry behind NAT shares one). The default is 500.
    public var maxConnectionsPerAddress: Int

    /// Makes limits with the protocol's defaults.
    public init(
        messageBytes: Int = 8192,
        chatChars: Int = 500,
        chatBurst: Int = 5,
        chatPerSecond: Double = 1,
        voteBurst: Int = 10,
        votesPerSecond: Double = 2,
        joinBurst: Int = 200,
        joinsPerSecond: Double = 50,
        joinBurstTotal: Int = 2000,
        joinsPerSecondTotal: Double = 500,
        storeBacklogRecords: Int = 10_000,
        outboundQueueBytes: Int = 1 << 20,
        maxConnections: Int = 20000,
        maxConnectionsPerAddress: Int = 500
    ) {
        self.messageBytes = messageBytes
        self.chatChars = chatChars
        self.chatBurst = chatBurst
        self.chatPerSecond = chatPerSecond
        self.voteBurst = voteBurst
        self.votesPerSecond = votesPerSecond
        self.joinBurst = joinBurst
        self.joinsPerSecond = joinsPerSecond
        self.joinBurstTotal = joinBurstTotal
        self.joinsPerSecondTotal = joinsPerSecondTotal
        self.storeBacklogRecords = storeBacklogRecords
        self.outboundQueueBytes = outboundQueueBytes
        self.maxConnections = maxConnections
        self.maxConnectionsPerAddress = maxConnectionsPerAddress
    }
}
