/// The whole state of one event and every rule of PROTOCOL.md that decides it. A value: no
/// clock, no randomness, no I/O. `handle` validates a request and returns effects; state
/// changes only through `apply(_:)`, so replaying the stored records rebuilds the room.
public struct Room: Sendable {
    /// The event's configuration.
    public let configuration: Configuration

    /// Statements in order with their state.
    public internal(set) var statements: [StatementState] = []
    var statementIndex: [StatementID: Int] = [:]
    /// The index of the shown statement.
    public internal(set) var currentIndex: Int?
    /// Whether voting on the shown statement is open.
    public internal(set) var votingOpen = false
    /// Every participant ever joined, by id.
    public internal(set) var participants: [ParticipantID: ParticipantState] = [:]
    var tokenIndex: [String: ParticipantID] = [:]
    /// Every accepted chat message; a message's id is its position plus one.
    public internal(set) var chat: [ChatMessage] = []
    /// The pinned announcement.
    public internal(set) var announcement: String?

    var sessions: [ConnectionID: Session] = [:]
    var moderatorConnections: Set<ConnectionID> = []
    var connectionCounts: [ParticipantID: Int] = [:]
    var buckets: [ParticipantID: RateBuckets] = [:]
    /// Counts admissions; a broadcast reaches the connections admitted up to its number.
    public internal(set) var admissions: UInt64 = 0

    var tallyDirty = false
    var lastTallyAt: Instant?
    var presenceDirty = false
    var lastPresenceAt: Instant?
    var lastPresenceSent = 0

    /// Revision 2: who may chat.
    public internal(set) var chatMode: ChatMode = .open
    /// Revision 2: every question in order of asking; a question's number is its position plus one.
    public internal(set) var questions: [Question] = []
    /// Revision 2: who upvotes each question, by position.
    var upvoters: [Set<ParticipantID>] = []
    /// Revision 2: whether asking is open.
    public internal(set) var questionsOpen = true
    /// Revision 2: the position of the live question.
    var liveQuestion: Int?
    /// When each participant's last chat message was accepted (slow mode; rebuilt from the records).
    var lastChatAt: [ParticipantID: Instant] = [:]
    /// Issue 11: participants' chat messages for the whole event (moderators exempt).
    var chatBudget = TokenBucket(burst: 1, perSecond: 1)
    /// The event's chat fan-out budget, in deliveries (`limits.chat_fanout_per_second`).
    var chatFanout = TokenBucket(burst: 1, perSecond: 1)
    /// Positions of questions whose upvotes changed since the last `upvotes` event.
    var upvotesDirty: Set<Int> = []
    var lastUpvotesAt: Instant?
    /// Issue 16: the cluster's nodes with sessions in this room, by node number, with their names.
    public internal(set) var clusterNodes: [UInt32: String] = [:]

    /// The least time between two `upvotes` events (PROTOCOL.md, Revision 2).
    public static let upvotesIntervalMilliseconds: Int64 = 500

    /// How many recent chat messages a welcome carries.
    public static let welcomeChatCount = 100

    /// Makes a room with the configured statements and nothing else.
    public init(configuration: Configuration) {
        self.configuration = configuration
        questionsOpen = configuration.questionsOpen
        let budget = configuration.limits.chatBudgetPerSecond
        chatBudget = TokenBucket(burst: max(1, Int(budget.rounded(.up))), perSecond: budget)
        let fanout = configuration.limits.chatFanoutPerSecond
        chatFanout = TokenBucket(burst: max(1, Int(fanout.rounded(.up))), perSecond: fanout)
        for spec in configuration.statements where statementIndex[StatementID(spec.id)] == nil {
            appendStatement(StatementID(spec.id), text: spec.text)
        }
    }

    /// Rebuilds a room by applying stored records in order (DESIGN.md, Durability and recovery).
    public init(configuration: Configuration, replaying records: some Sequence<Record>) {
        self.init(configuration: configuration)
        for record in records { apply(record) }
        tallyDirty = false
        upvotesDirty = []
    }

    // MARK: Queries

    /// Distinct participants with at least one joined connection.
    public var present: Int { connectionCounts.count }

    /// The shown statement's id.
    public var currentStatement: StatementID? { currentIndex.map { statements[$0].id } }

    /// The `current` object of PROTOCOL.md.
    public var currentState: CurrentState? {
        guard let currentIndex else { return nil }
        let statement = statements[currentIndex]
        return CurrentState(statement: statement.id, voting: votingOpen ? .open : .closed,
                            results: statement.resultsVisible ? .visible : .hidden)
    }

    /// Every statement as listed to clients.
    public var statementList: [StatementSummary] { statements.map { StatementSummary(id: $0.id, text: $0.text) } }

    /// The statement with this id.
    public func statement(_ id: StatementID) -> StatementState? { statementIndex[id].map { statements[$0] } }

    /// The tally of a statement now.
    public func tally(of id: StatementID) -> Tally? {
        guard let index = statementIndex[id] else { return nil }
        return tally(at: index)
    }

    /// The role a joined connection has.
    public func role(of connection: ConnectionID) -> Role? { sessions[connection]?.role }

    /// The id a joined connection acts as.
    public func identity(of connection: ConnectionID) -> ParticipantID? { sessions[connection]?.id }

    /// Joined connections by role.
    public var joinedConnections: [Role: Int] {
        var counts: [Role: Int] = [:]
        for session in sessions.values { counts[session.role, default: 0] += 1 }
        return counts
    }

    /// The connections of an audience that were admitted by admission number `upTo`.
    public func recipients(of audience: Audience, admittedUpTo upTo: UInt64) -> [ConnectionID] {
        switch audience {
        case .everyone:
            return sessions.compactMap { $0.value.admission <= upTo ? $0.key : nil }
        case .moderators:
            return moderatorConnections.filter { sessions[$0].map { $0.admission <= upTo } ?? false }
        case let .participant(id):
            return sessions.compactMap { $0.value.admission <= upTo && $0.value.role == .participant && $0.value.id == id ? $0.key : nil }
        case let .moderatorsAnd(id):
            return sessions.compactMap {
                $0.value.admission <= upTo && ($0.value.role == .moderator || ($0.value.role == .participant && $0.value.id == id))
                    ? $0.key : nil
            }
        case let .othersThanModeratorsAnd(id):
            return sessions.compactMap {
                $0.value.admission <= upTo && $0.value.role != .moderator && !($0.value.role == .participant && $0.value.id == id)
                    ? $0.key : nil
            }
        }
    }

    // MARK: Requests

    /// Decodes and handles one client message; a malformed one gets `bad_request`.
    public mutating func receive(
        _ message: some Collection<UInt8>, from connection: ConnectionID, now: Instant,
        random: inout some RandomNumberGenerator
    ) -> [Effect] {
        handle(Request.decode(message), from: connection, now: now, random: &random)
    }

    /// Handles a decoded client message (for a shell that looks at the request first).
    public mutating func handle(
        _ decoded: Result<Request, DecodeFailure>, from connection: ConnectionID, now: Instant,
        random: inout some RandomNumberGenerator
    ) -> [Effect] {
        switch decoded {
        case let .success(request):
            return handle(request, from: connection, now: now, random: &random)
        case let .failure(failure):
            return [.send(connection, .error(.badRequest, message: failure.message, ref: failure.ref))]
        }
    }

    /// Applies one request from a connection (PROTOCOL.md). `now` and `random` come from the caller.
    public mutating func handle(
        _ request: Request, from connection: ConnectionID, now: Instant,
        random: inout some RandomNumberGenerator
    ) -> [Effect] {
        let ref = request.ref
        guard let session = sessions[connection] else {
            guard case let .join(join) = request.body else { return fail(connection, .notJoined, ref) }
            return handleJoin(join, from: connection, ref: ref, now: now, random: &random)
        }
        switch request.body {
        case .join:
            return [.send(connection, .error(.badRequest, message: "This connection has joined already.", ref: ref))]
        case let .chat(text):
            return handleChat(text, session: session, from: connection, ref: ref, now: now)
        case let .vote(statement, choice):
            return handleVote(statement: statement, choice: choice, session: session, from: connection, ref: ref, now: now)
        case let .ask(text, anonymous):
            return handleAsk(text, anonymous: anonymous, session: session, from: connection, ref: ref, now: now)
        case let .upvote(question, up):
            return handleUpvote(question, up: up, session: session, from: connection, ref: ref, now: now)
        case .chatMode, .questions, .questionState:
            guard session.role == .moderator else { return fail(connection, .forbidden, ref) }
            return handleRevision2Moderator(request.body, from: connection, ref: ref, now: now)
        default:
            guard session.role == .moderator else { return fail(connection, .forbidden, ref) }
            return handleModerator(request.body, from: connection, ref: ref, now: now, random: &random)
        }
    }

    /// Forgets a closed connection. Presence is announced by `tick`.
    public mutating func disconnect(_ connection: ConnectionID) {
        guard let session = sessions.removeValue(forKey: connection) else { return }
        moderatorConnections.remove(connection)
        guard session.role == .participant, let count = connectionCounts[session.id] else { return }
        if count <= 1 {
            connectionCounts.removeValue(forKey: session.id)
            presenceDirty = true
        } else {
            connectionCounts[session.id] = count - 1
        }
    }

    /// Sends what is due by time: the tally of the shown statement at most every
    /// `tally_interval_ms` while counts change, presence at most every second.
    public mutating func tick(now: Instant) -> [Effect] {
        var effects: [Effect] = []
        if tallyDirty, let currentIndex,
           lastTallyAt.map({ now.milliseconds - $0.milliseconds >= Int64(configuration.tallyIntervalMilliseconds) }) ?? true {
            effects.append(tallyBroadcast(at: currentIndex, now: now))
        }
        if !upvotesDirty.isEmpty,
           lastUpvotesAt.map({ now.milliseconds - $0.milliseconds >= Room.upvotesIntervalMilliseconds }) ?? true {
            let counts = upvotesDirty.sorted().compactMap { index in
                questions[index].state.isPublic ? UpvoteCount(question: questions[index].id, upvotes: questions[index].upvotes) : nil
            }
            upvotesDirty = []
            if !counts.isEmpty {
                lastUpvotesAt = now
                effects.append(.broadcast(.upvotes(counts), to: .everyone))
            }
        }
        if presenceDirty, lastPresenceAt.map({ now.milliseconds - $0.milliseconds >= 1000 }) ?? true {
            presenceDirty = false
            if present != lastPresenceSent {
                lastPresenceSent = present
                lastPresenceAt = now
                effects.append(.broadcast(.presence(present), to: .everyone))
            }
        }
        return effects
    }

    // MARK: Helpers

    mutating func appendStatement(_ id: StatementID, text: String) {
        statementIndex[id] = statements.count
        statements.append(StatementState(id: id, text: text, position: statements.count + 1))
    }

    func tally(at index: Int) -> Tally {
        let statement = statements[index]
        let groups = configuration.groups.isEmpty ? nil
            : configuration.groups.map { (name: $0, counts: statement.groupCounts[$0] ?? Counts()) }
        return Tally(statement: statement.id, counts: statement.counts, present: present, groups: groups)
    }

    /// The tally of a statement to whoever may see it: moderators always, everyone while visible.
    mutating func tallyBroadcast(at index: Int, now: Instant) -> Effect {
        if index == currentIndex {
            tallyDirty = false
            lastTallyAt = now
        }
        return .broadcast(.tally(tally(at: index)), to: statements[index].resultsVisible ? .everyone : .moderators)
    }

    mutating func takeToken(for id: ParticipantID, chat: Bool, now: Instant) -> Bool {
        var bucket = rateBuckets(for: id)
        let allowed = chat ? bucket.chat.take(at: now) : bucket.vote.take(at: now)
        buckets[id] = bucket
        return allowed
    }

    /// Makes a participant's buckets on first use.
    func rateBuckets(for id: ParticipantID) -> RateBuckets {
        if let existing = buckets[id] { return existing }
        let limits = configuration.limits
        return RateBuckets(
            chat: TokenBucket(burst: limits.chatBurst, perSecond: limits.chatPerSecond),
            vote: TokenBucket(burst: limits.voteBurst, perSecond: limits.votesPerSecond),
            question: TokenBucket(burst: limits.questionBurst, perSecond: limits.questionsPerMinute / 60))
    }

    func fail(_ connection: ConnectionID, _ code: ErrorCode, _ ref: String?) -> [Effect] {
        [.send(connection, .error(code, ref: ref))]
    }

    func ack(_ connection: ConnectionID, _ ref: String?) -> [Effect] {
        ref.map { [.send(connection, .ack(ref: $0, id: nil))] } ?? []
    }
}

/// A statement and everything decided about it.
public struct StatementState: Equatable, Sendable {
    /// The statement's id.
    public let id: StatementID
    /// The statement's text.
    public let text: String
    /// Its place in the order, from 1.
    public let position: Int
    /// When it was first shown.
    public internal(set) var openedAt: Instant?
    /// When voting on it last closed; `nil` while open or never closed.
    public internal(set) var closedAt: Instant?
    /// Participants present when voting on it last closed.
    public internal(set) var presentAtClose: Int?
    /// Whether its results are visible to participants and screens.
    public internal(set) var resultsVisible = false
    /// Each participant's current vote.
    public internal(set) var votes: [ParticipantID: Choice] = [:]
    /// The totals of `votes`.
    public internal(set) var counts = Counts()
    /// The totals per configured group.
    public internal(set) var groupCounts: [String: Counts] = [:]
    /// `privacy.ballot: secret`: who voted before voting closed, without what they chose.
    public internal(set) var sealedVoters: Set<ParticipantID> = []

    init(id: StatementID, text: String, position: Int) {
        self.id = id
        self.text = text
        self.position = position
    }
}

/// A participant as the room keeps them.
public struct ParticipantState: Equatable, Sendable {
    /// The participant's id.
    public let id: ParticipantID
    /// The name given at the first join, trimmed.
    public let name: String
    /// The group, if the event has groups and one was chosen.
    public let group: String?
    /// Whether a moderator muted their chat.
    public internal(set) var muted: Bool
}

/// What the room knows of a joined connection.
struct Session: Sendable {
    var role: Role
    var id: ParticipantID
    var name: String
    var group: String?
    var admission: UInt64 = 0
}

/// A participant's (or moderator's) rate limits; they survive reconnects.
struct RateBuckets: Sendable {
    var chat: TokenBucket
    /// Votes and (Revision 2) upvotes share this bucket.
    var vote: TokenBucket
    /// Revision 2: asking questions.
    var question: TokenBucket
}
