/// The room's rules for one event, as read from the configuration file (PROTOCOL.md,
/// Configuration contract). Defaults are the protocol's. How the server listens, stores and
/// admits connections is StellingServer's `ServerSettings`, read from the same file.
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
    /// Seconds of silence after which a peer is dropped. The default is 60.
    public var keepaliveSeconds: Int
    /// The least time between two tally events while counts change. The default is 250 ms.
    public var tallyIntervalMilliseconds: Int
    /// The first language of the web pages, `nl` or `en`. The default is `nl`.
    public var language: String
    /// Size, length and rate limits.
    public var limits: Limits
    /// Days after an event's last activity when its personal data is purged (at the server's
    /// start, or by `stelling purge`). The default is none: nothing is deleted by itself.
    public var retentionDays: Int? = nil
    /// How votes and small groups are kept and shown (docs/PRIVACY.md).
    public var privacy = PrivacySettings()
    /// Revision 2 (`questions.moderated`): new questions wait as `pending` until a moderator opens
    /// them. The default is `false`.
    public var questionsModerated = false
    /// Revision 2 (`questions.open`): whether asking is open when the event starts. The default is `true`.
    public var questionsOpen = true
    /// Revision 2 (`public_url`): the participant page's public address, shown on the screen and in
    /// `/qr.svg`. The default is none: the address the screen's browser used.
    public var publicURL: String?

    /// Makes a configuration with the protocol's defaults for everything but the title.
    public init(
        title: String,
        programme: [ProgrammeItem] = [],
        groups: [String] = [],
        statements: [StatementSpec] = [],
        moderatorKey: String? = nil,
        keepaliveSeconds: Int = 60,
        tallyIntervalMilliseconds: Int = 250,
        language: String = "nl",
        limits: Limits = Limits()
    ) {
        self.title = title
        self.programme = programme
        self.groups = groups
        self.statements = statements
        self.moderatorKey = moderatorKey
        self.keepaliveSeconds = keepaliveSeconds
        self.tallyIntervalMilliseconds = tallyIntervalMilliseconds
        self.language = language
        self.limits = limits
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
    /// Revision 2: questions a participant may ask at once. The default is 2.
    public var questionBurst = 2
    /// Revision 2: questions a minute after the burst. The default is 2.
    public var questionsPerMinute: Double = 2
    /// Revision 2: the longest question in code points. The default is 300.
    public var questionChars = 300
    /// Issue 11 section 4: participants' chat messages a second for the whole event (moderators
    /// exempt), one second's worth at once. Every message goes to every listener, so this bounds the
    /// fan-out: 50 a second to 10,000 listeners is 500,000 events a second, under half of what one
    /// core sends (docs/DECISIONS.md). The default is 50.
    public var chatBudgetPerSecond: Double = 50
    /// Issue 11 section 4: chat deliveries a second for the whole event. A participant's message
    /// costs one delivery per joined connection it is broadcast to; one second's worth at once. So
    /// the messages a second shrink as the audience grows: 60,000 / 5,000 listeners = 12 a
    /// second (and at most `chatBudgetPerSecond`). The default is 60,000 (docs/DECISIONS.md).
    public var chatFanoutPerSecond: Double = 60_000

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
        outboundQueueBytes: Int = 1 << 20
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
    }
}

/// The `privacy:` section (issue 13; docs/PRIVACY.md).
public struct PrivacySettings: Equatable, Sendable {
    /// What is kept of who chose what.
    public enum Ballot: String, Equatable, Sendable, CaseIterable {
        /// Every participant's choice is kept under their pseudonymous id (PROTOCOL.md's votes.csv).
        case pseudonymous
        /// Once a statement's voting closes only its counts and per-group counts are kept.
        case secret
    }

    /// The ballot. The default is `pseudonymous`.
    public var ballot: Ballot
    /// Groups with fewer voters on a statement show "< N" instead of their counts on the pages
    /// and in the published exports. The default is 5; 1 shows every group.
    public var minGroupSize: Int

    /// Makes privacy settings with their defaults.
    public init(ballot: Ballot = .pseudonymous, minGroupSize: Int = 5) {
        self.ballot = ballot
        self.minGroupSize = minGroupSize
    }
}
