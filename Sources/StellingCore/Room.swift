/// The whole state of one event and every rule of PROTOCOL.md that decides it. A value: no
/// clock, no randomness, no I/O. `handle` validates a request and returns effects; state
/// changes only through `apply(_:)`, so replaying the stored records rebuilds the room.
public struct Room: Sendable {
    /// The event's configuration.
    public let configuration: Configuration

    /// Statements in order with their state.
    public private(set) var statements: [StatementState] = []
    private var statementIndex: [StatementID: Int] = [:]
    /// The index of the shown statement.
    public private(set) var currentIndex: Int?
    /// Whether voting on the shown statement is open.
    public private(set) var votingOpen = false
    /// Every participant ever joined, by id.
    public private(set) var participants: [ParticipantID: ParticipantState] = [:]
    private var tokenIndex: [String: ParticipantID] = [:]
    /// Every accepted chat message; a message's id is its position plus one.
    public private(set) var chat: [ChatMessage] = []
    /// The pinned announcement.
    public private(set) var announcement: String?

    private var sessions: [ConnectionID: Session] = [:]
    private var moderatorConnections: Set<ConnectionID> = []
    private var connectionCounts: [ParticipantID: Int] = [:]
    private var buckets: [ParticipantID: RateBuckets] = [:]
    /// Counts admissions; a broadcast reaches the connections admitted up to its number.
    public private(set) var admissions: UInt64 = 0

    private var tallyDirty = false
    private var lastTallyAt: Instant?
    private var presenceDirty = false
    private var lastPresenceAt: Instant?
    private var lastPresenceSent = 0

    /// How many recent chat messages a welcome carries.
    public static let welcomeChatCount = 100

    /// Makes a room with the configured statements and nothing else.
    public init(configuration: Configuration) {
        self.configuration = configuration
        for spec in configuration.statements where statementIndex[StatementID(spec.id)] == nil {
            appendStatement(StatementID(spec.id), text: spec.text)
        }
    }

    /// Rebuilds a room by applying stored records in order (DESIGN.md, Durability and recovery).
    public init(configuration: Configuration, replaying records: some Sequence<Record>) {
        self.init(configuration: configuration)
        for record in records { apply(record) }
        tallyDirty = false
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
        default:
            guard session.role == .moderator else { return fail(connection, .forbidden, ref) }
            return handleModerator(request.body, from: connection, ref: ref, now: now)
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

    // MARK: Join

    private mutating func handleJoin(
        _ join: Request.Join, from connection: ConnectionID, ref: String?, now: Instant,
        random: inout some RandomNumberGenerator
    ) -> [Effect] {
        switch join.role {
        case .moderator:
            guard let key = join.key, let expected = configuration.moderatorKey, Room.keysMatch(key, expected) else {
                return [.send(connection, .error(.unauthorized, ref: ref)), .close(connection, code: .policyViolation)]
            }
            var name = "Moderator"
            if let raw = join.name {
                guard let valid = TextRules.validName(raw) else { return fail(connection, .invalidName, ref) }
                name = valid
            }
            let id = ParticipantID("m" + String(SHA256.hex(name.utf8).prefix(10)))
            admit(connection, Session(role: .moderator, id: id, name: name, group: nil))
            return [.send(connection, .welcome(welcome(for: connection, resume: nil), ref: ref))]
        case .screen:
            admit(connection, Session(role: .screen, id: ParticipantID("screen-\(connection.rawValue)"), name: "Screen", group: nil))
            return [.send(connection, .welcome(welcome(for: connection, resume: nil), ref: ref))]
        case .participant:
            if let token = join.resume, let id = tokenIndex[SHA256.hex(token.utf8)], let participant = participants[id] {
                admit(connection, Session(role: .participant, id: id, name: participant.name, group: participant.group))
                return [.send(connection, .welcome(welcome(for: connection, resume: token), ref: ref))]
            }
            guard let raw = join.name, let name = TextRules.validName(raw) else {
                return fail(connection, .invalidName, ref)
            }
            var group: String?
            if !configuration.groups.isEmpty, let asked = join.group {
                // Swift's == is canonical equivalence ("\u{212A}" == "K"): keep the configured spelling.
                guard let configured = configuration.groups.first(where: { $0 == asked }) else {
                    return fail(connection, .invalidGroup, ref)
                }
                group = configured
            }
            var id: ParticipantID
            repeat { id = ParticipantID("p" + Room.randomID(length: 7, using: &random)) } while participants[id] != nil
            var tokenBytes = [UInt8](repeating: 0, count: 32)
            for index in tokenBytes.indices { tokenBytes[index] = UInt8.random(in: .min ... .max, using: &random) }
            let token = Base64URL.encode(tokenBytes)
            let record = Record.participantJoined(id: id, name: name, group: group, tokenHash: SHA256.hex(token.utf8), at: now)
            apply(record)
            admit(connection, Session(role: .participant, id: id, name: name, group: group))
            return [.persist(record, then: [.send(connection, .welcome(welcome(for: connection, resume: token), ref: ref))])]
        }
    }

    private mutating func admit(_ connection: ConnectionID, _ session: Session) {
        admissions += 1
        var session = session
        session.admission = admissions
        sessions[connection] = session
        switch session.role {
        case .moderator:
            moderatorConnections.insert(connection)
        case .participant:
            let count = connectionCounts[session.id, default: 0]
            connectionCounts[session.id] = count + 1
            if count == 0 { presenceDirty = true }
        case .screen:
            break
        }
    }

    private func welcome(for connection: ConnectionID, resume: String?) -> Welcome {
        let session = sessions[connection]!
        var myVotes: [(statement: StatementID, choice: Choice)] = []
        if session.role == .participant {
            for statement in statements {
                if let choice = statement.votes[session.id] { myVotes.append((statement.id, choice)) }
            }
        }
        var visibleTally: Tally?
        if let currentIndex, session.role == .moderator || statements[currentIndex].resultsVisible {
            visibleTally = tally(at: currentIndex)
        }
        var recent: [ChatMessage] = []
        for message in chat.reversed() where !message.hidden {
            recent.append(message)
            if recent.count == Room.welcomeChatCount { break }
        }
        return Welcome(
            you: You(id: session.id, name: session.name, role: session.role, group: session.group),
            resume: resume, title: configuration.title, programme: configuration.programme,
            groups: configuration.groups, statements: statementList, current: currentState, present: present,
            myVotes: myVotes, tally: visibleTally, chat: recent.reversed(), announcement: announcement)
    }

    // MARK: Participant requests

    private mutating func handleChat(_ text: String?, session: Session, from connection: ConnectionID, ref: String?, now: Instant) -> [Effect] {
        guard session.role != .screen else { return fail(connection, .forbidden, ref) }
        if session.role == .participant, participants[session.id]?.muted == true { return fail(connection, .muted, ref) }
        guard let text, !TextRules.isBlank(text) else { return fail(connection, .empty, ref) }
        guard TextRules.length(text) <= configuration.limits.chatChars else { return fail(connection, .tooLong, ref) }
        guard takeToken(for: session.id, chat: true, now: now) else { return fail(connection, .rateLimited, ref) }
        let message = ChatMessage(id: MessageID(chat.count + 1), from: Author(id: session.id, name: session.name, role: session.role),
                                  text: text, at: now, statement: currentStatement)
        let record = Record.chatPosted(message)
        apply(record)
        var then: [Effect] = []
        if let ref { then.append(.send(connection, .ack(ref: ref, id: .message(message.id)))) }
        then.append(.broadcast(.chat(message), to: .everyone))
        return [.persist(record, then: then)]
    }

    private mutating func handleVote(
        statement: String?, choice: String?, session: Session, from connection: ConnectionID, ref: String?, now: Instant
    ) -> [Effect] {
        guard session.role == .participant else { return fail(connection, .forbidden, ref) }
        guard let statement, let index = statementIndex[StatementID(statement)] else {
            return fail(connection, .unknownStatement, ref)
        }
        guard index == currentIndex, votingOpen else { return fail(connection, .votingClosed, ref) }
        guard let choice, let chosen = Choice(rawValue: choice) else { return fail(connection, .invalidChoice, ref) }
        guard takeToken(for: session.id, chat: false, now: now) else { return fail(connection, .rateLimited, ref) }
        let record = Record.voteCast(statement: statements[index].id, participant: session.id, choice: chosen, at: now)
        apply(record)
        return [.persist(record, then: ack(connection, ref))]
    }

    // MARK: Moderator requests

    private mutating func handleModerator(_ body: Request.Body, from connection: ConnectionID, ref: String?, now: Instant) -> [Effect] {
        switch body {
        case .next:
            let next = currentIndex.map { $0 + 1 } ?? 0
            guard next < statements.count else { return fail(connection, .noMoreStatements, ref) }
            return show(next, from: connection, ref: ref, now: now)
        case let .goto(statement):
            guard let statement, let index = statementIndex[StatementID(statement)] else {
                return fail(connection, .unknownStatement, ref)
            }
            return show(index, from: connection, ref: ref, now: now)
        case .close, .open:
            let open = body == .open
            guard let currentIndex else { return fail(connection, .noCurrentStatement, ref) }
            guard votingOpen != open else { return ack(connection, ref) }
            let record = Record.votingChanged(statements[currentIndex].id, open: open, at: now, present: present)
            apply(record)
            var then = ack(connection, ref)
            if !open { then.append(tallyBroadcast(at: currentIndex, now: now)) }
            then.append(.broadcast(.statement(current: currentState, statements: nil), to: .everyone))
            return [.persist(record, then: then)]
        case let .reveal(visible):
            guard let currentIndex else { return fail(connection, .noCurrentStatement, ref) }
            guard statements[currentIndex].resultsVisible != visible else { return ack(connection, ref) }
            let record = Record.resultsRevealed(statements[currentIndex].id, visible: visible, at: now)
            apply(record)
            var then = ack(connection, ref)
            then.append(.broadcast(.statement(current: currentState, statements: nil), to: .everyone))
            if visible { then.append(tallyBroadcast(at: currentIndex, now: now)) }
            return [.persist(record, then: then)]
        case let .add(text):
            guard let text, !TextRules.isBlank(text) else { return fail(connection, .empty, ref) }
            guard TextRules.length(text) <= configuration.limits.chatChars else { return fail(connection, .tooLong, ref) }
            var number = statements.count + 1
            while statementIndex[StatementID("s\(number)")] != nil { number += 1 }
            let id = StatementID("s\(number)")
            let record = Record.statementAdded(id, text: text, at: now)
            apply(record)
            var then: [Effect] = []
            if let ref { then.append(.send(connection, .ack(ref: ref, id: .statement(id)))) }
            then.append(.broadcast(.statement(current: currentState, statements: statementList), to: .everyone))
            return [.persist(record, then: then)]
        case let .hide(message):
            guard let message, message >= 1, message <= Int64(chat.count) else { return fail(connection, .unknownMessage, ref) }
            let id = MessageID(Int(message))
            guard !chat[id.rawValue - 1].hidden else { return ack(connection, ref) }
            let record = Record.messageHidden(id, at: now)
            apply(record)
            return [.persist(record, then: ack(connection, ref) + [.broadcast(.hidden(id), to: .everyone)])]
        case let .mute(participant, muted):
            guard let participant, let state = participants[ParticipantID(participant)] else {
                return fail(connection, .unknownParticipant, ref)
            }
            guard state.muted != muted else { return ack(connection, ref) }
            let record = Record.participantMuted(state.id, muted: muted, at: now)
            apply(record)
            return [.persist(record, then: ack(connection, ref))]
        case let .announce(text):
            guard TextRules.length(text) <= configuration.limits.chatChars else { return fail(connection, .tooLong, ref) }
            let pinned: String? = text.isEmpty ? nil : text
            guard pinned != announcement else { return ack(connection, ref) }
            let record = Record.announcementSet(pinned, at: now)
            apply(record)
            return [.persist(record, then: ack(connection, ref) + [.broadcast(.announcement(pinned), to: .everyone)])]
        case .join, .chat, .vote:
            return fail(connection, .badRequest, ref)
        }
    }

    /// Shows a statement with voting open; the statement left closes and its tally goes out once more.
    private mutating func show(_ index: Int, from connection: ConnectionID, ref: String?, now: Instant) -> [Effect] {
        let leaving = votingOpen ? currentIndex : nil
        let record = Record.statementShown(statements[index].id, at: now, present: present)
        apply(record)
        var then = ack(connection, ref)
        if let leaving, leaving != index { then.append(tallyBroadcast(at: leaving, now: now)) }
        then.append(.broadcast(.statement(current: currentState, statements: nil), to: .everyone))
        then.append(tallyBroadcast(at: index, now: now))
        return [.persist(record, then: then)]
    }

    // MARK: Records

    /// Applies one record to the state. The only place the event's state changes.
    public mutating func apply(_ record: Record) {
        switch record {
        case let .participantJoined(id, name, group, tokenHash, _):
            participants[id] = ParticipantState(id: id, name: name, group: group, muted: false)
            tokenIndex[tokenHash] = id
        case let .voteCast(statement, participant, choice, _):
            guard let index = statementIndex[statement] else { return }
            let group = participants[participant]?.group.flatMap { configuration.groups.contains($0) ? $0 : nil }
            if let previous = statements[index].votes[participant] {
                statements[index].counts.add(previous, -1)
                if let group { statements[index].groupCounts[group, default: Counts()].add(previous, -1) }
            }
            statements[index].votes[participant] = choice
            statements[index].counts.add(choice, 1)
            if let group { statements[index].groupCounts[group, default: Counts()].add(choice, 1) }
            if index == currentIndex { tallyDirty = true }
        case let .chatPosted(message):
            chat.append(message)
        case let .messageHidden(id, _):
            guard id.rawValue >= 1, id.rawValue <= chat.count else { return }
            chat[id.rawValue - 1].hidden = true
        case let .participantMuted(id, muted, _):
            participants[id]?.muted = muted
        case let .statementShown(statement, at, present):
            guard let index = statementIndex[statement] else { return }
            if votingOpen, let currentIndex, currentIndex != index {
                statements[currentIndex].closedAt = at
                statements[currentIndex].presentAtClose = present
            }
            currentIndex = index
            votingOpen = true
            if statements[index].openedAt == nil { statements[index].openedAt = at }
            statements[index].closedAt = nil
        case let .votingChanged(statement, open, at, present):
            guard let index = statementIndex[statement], index == currentIndex else { return }
            votingOpen = open
            statements[index].closedAt = open ? nil : at
            if !open { statements[index].presentAtClose = present }
        case let .resultsRevealed(statement, visible, _):
            guard let index = statementIndex[statement] else { return }
            statements[index].resultsVisible = visible
        case let .statementAdded(id, text, _):
            guard statementIndex[id] == nil else { return }
            appendStatement(id, text: text)
        case let .announcementSet(text, _):
            announcement = text
        }
    }

    // MARK: Helpers

    private mutating func appendStatement(_ id: StatementID, text: String) {
        statementIndex[id] = statements.count
        statements.append(StatementState(id: id, text: text, position: statements.count + 1))
    }

    private func tally(at index: Int) -> Tally {
        let statement = statements[index]
        let groups = configuration.groups.isEmpty ? nil
            : configuration.groups.map { (name: $0, counts: statement.groupCounts[$0] ?? Counts()) }
        return Tally(statement: statement.id, counts: statement.counts, present: present, groups: groups)
    }

    /// The tally of a statement to whoever may see it: moderators always, everyone while visible.
    private mutating func tallyBroadcast(at index: Int, now: Instant) -> Effect {
        if index == currentIndex {
            tallyDirty = false
            lastTallyAt = now
        }
        return .broadcast(.tally(tally(at: index)), to: statements[index].resultsVisible ? .everyone : .moderators)
    }

    private mutating func takeToken(for id: ParticipantID, chat: Bool, now: Instant) -> Bool {
        let limits = configuration.limits
        var bucket = buckets[id] ?? RateBuckets(
            chat: TokenBucket(burst: limits.chatBurst, perSecond: limits.chatPerSecond),
            vote: TokenBucket(burst: limits.voteBurst, perSecond: limits.votesPerSecond))
        let allowed = chat ? bucket.chat.take(at: now) : bucket.vote.take(at: now)
        buckets[id] = bucket
        return allowed
    }

    private func fail(_ connection: ConnectionID, _ code: ErrorCode, _ ref: String?) -> [Effect] {
        [.send(connection, .error(code, ref: ref))]
    }

    private func ack(_ connection: ConnectionID, _ ref: String?) -> [Effect] {
        ref.map { [.send(connection, .ack(ref: $0, id: nil))] } ?? []
    }

    /// Compares keys in constant time by comparing their digests.
    public static func keysMatch(_ given: String, _ expected: String) -> Bool {
        let left = SHA256.digest(given.utf8)
        let right = SHA256.digest(expected.utf8)
        var difference: UInt8 = 0
        for index in 0..<32 { difference |= left[index] ^ right[index] }
        return difference == 0
    }

    private static let idAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)

    static func randomID(length: Int, using random: inout some RandomNumberGenerator) -> String {
        var out: [UInt8] = []
        for _ in 0..<length { out.append(idAlphabet[Int.random(in: 0..<idAlphabet.count, using: &random)]) }
        return String(decoding: out, as: UTF8.self)
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
    var vote: TokenBucket
}
