/// What a joined connection may do (PROTOCOL.md, Roles and joining).
public enum Role: String, Sendable, CaseIterable {
    case participant
    case moderator
    case screen
}

/// A vote's choice.
public enum Choice: String, Sendable, CaseIterable {
    case agree
    case disagree
    case pass
}

/// Every error code of PROTOCOL.md.
public enum ErrorCode: String, Sendable, CaseIterable, Error {
    case badRequest = "bad_request"
    case notJoined = "not_joined"
    case invalidName = "invalid_name"
    case invalidGroup = "invalid_group"
    case unauthorized
    case forbidden
    case unknownStatement = "unknown_statement"
    case votingClosed = "voting_closed"
    case invalidChoice = "invalid_choice"
    case tooLong = "too_long"
    case empty
    case rateLimited = "rate_limited"
    case muted
    case noMoreStatements = "no_more_statements"
    case noCurrentStatement = "no_current_statement"
    case unknownMessage = "unknown_message"
    case unknownParticipant = "unknown_participant"
    /// Revision 2: participants may not chat while the chat is closed.
    case chatClosed = "chat_closed"
    /// Revision 2: asking is closed.
    case questionsClosed = "questions_closed"
    /// Revision 2: no question with that id (that this client may see).
    case unknownQuestion = "unknown_question"
    /// Revision 2: the question is answered or dismissed.
    case questionClosed = "question_closed"
    /// The server cannot save new work now (its store is failing, e.g. a full disk, and the
    /// backlog is at its bound); nothing of the request was done. Not in PROTOCOL.md: see
    /// docs/DECISIONS.md, "A full disk".
    case unavailable

    /// A short English explanation for people; programs read the code.
    public var defaultMessage: String {
        switch self {
        case .badRequest: "The request is not valid."
        case .notJoined: "Join first."
        case .invalidName: "A name needs 1 to 40 characters and no control characters."
        case .invalidGroup: "That group is not one of this event's groups."
        case .unauthorized: "The moderator key is wrong."
        case .forbidden: "Your role may not do that."
        case .unknownStatement: "There is no statement with that id."
        case .votingClosed: "Voting on that statement is closed."
        case .invalidChoice: "Choose agree, disagree or pass."
        case .tooLong: "The text is too long."
        case .empty: "The text is empty."
        case .rateLimited: "Too many requests; wait a moment."
        case .muted: "The moderator has muted your chat."
        case .noMoreStatements: "There is no next statement."
        case .noCurrentStatement: "No statement is shown."
        case .unknownMessage: "There is no chat message with that id."
        case .unknownParticipant: "There is no participant with that id."
        case .chatClosed: "The moderator has closed the chat."
        case .questionsClosed: "Asking questions is closed."
        case .unknownQuestion: "There is no question with that id."
        case .questionClosed: "That question is answered or dismissed."
        case .unavailable: "The server cannot save anything right now; try again in a moment."
        }
    }
}

/// A WebSocket close code (RFC 6455 7.4): the one type the room, the transport and the
/// client use. The named ones are those Stelling sends; any other (such as 4001 from a test
/// peer) is made with `init(rawValue:)`.
public struct CloseCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    /// The code as sent on the wire.
    public let rawValue: UInt16

    /// Makes a close code from its number.
    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// Makes a close code from a number literal: `4001`.
    public init(integerLiteral value: UInt16) {
        self.rawValue = value
    }

    /// 1000: a normal closure.
    public static let normal = CloseCode(rawValue: 1000)
    /// 1001: the server is going away (shutdown).
    public static let goingAway = CloseCode(rawValue: 1001)
    /// 1003: a data type the endpoint does not accept (a binary message).
    public static let unsupportedData = CloseCode(rawValue: 1003)
    /// 1008: a policy violation: unauthorized, or a client too slow to read its events.
    public static let policyViolation = CloseCode(rawValue: 1008)
    /// 1009: a message larger than the limit.
    public static let messageTooBig = CloseCode(rawValue: 1009)
    /// 1012: the server restarts; reconnect (a cluster node that was taken for gone, docs/SCALING.md).
    public static let serviceRestart = CloseCode(rawValue: 1012)
    /// 4001, an application code (RFC 6455 7.4.2): a moderator erased this participant
    /// (docs/DECISIONS.md, Live erasure); the page must not reconnect with its token.
    public static let erased = CloseCode(rawValue: 4001)

    /// The number.
    public var description: String { String(rawValue) }
}

/// Who sent a chat message, as shown with it.
public struct Author: Equatable, Sendable {
    /// The sender's id.
    public var id: ParticipantID
    /// The sender's name.
    public var name: String
    /// The sender's role (participant or moderator).
    public var role: Role

    /// Makes an author.
    public init(id: ParticipantID, name: String, role: Role) {
        self.id = id
        self.name = name
        self.role = role
    }
}

/// An accepted chat message.
public struct ChatMessage: Equatable, Sendable {
    /// The message's id.
    public var id: MessageID
    /// Who sent it.
    public var from: Author
    /// The text exactly as received.
    public var text: String
    /// When it was accepted.
    public var at: Instant
    /// The statement shown when it was sent, if any.
    public var statement: StatementID?
    /// Whether a moderator hid it.
    public var hidden: Bool

    /// Makes a chat message.
    public init(id: MessageID, from: Author, text: String, at: Instant, statement: StatementID?, hidden: Bool = false) {
        self.id = id
        self.from = from
        self.text = text
        self.at = at
        self.statement = statement
        self.hidden = hidden
    }
}

/// Voting state of the shown statement.
public enum VotingState: String, Sendable {
    case open
    case closed
}

/// Visibility of a statement's results to participants and screens.
public enum Visibility: String, Sendable {
    case hidden
    case visible
}

/// The `current` object: which statement is shown and in what state.
public struct CurrentState: Equatable, Sendable {
    /// The statement shown.
    public var statement: StatementID
    /// Whether voting is open.
    public var voting: VotingState
    /// Whether results are visible to participants and screens.
    public var results: Visibility

    /// Makes a current state.
    public init(statement: StatementID, voting: VotingState, results: Visibility) {
        self.statement = statement
        self.voting = voting
        self.results = results
    }
}

/// A statement as listed to clients.
public struct StatementSummary: Equatable, Sendable {
    /// The statement's id.
    public var id: StatementID
    /// The statement's text.
    public var text: String

    /// Makes a listed statement.
    public init(id: StatementID, text: String) {
        self.id = id
        self.text = text
    }
}

/// Counts of one choice set: agree, disagree, pass.
public struct Counts: Equatable, Sendable {
    /// Votes for agree.
    public var agree: Int
    /// Votes for disagree.
    public var disagree: Int
    /// Votes for pass.
    public var pass: Int

    /// Makes counts.
    public init(agree: Int = 0, disagree: Int = 0, pass: Int = 0) {
        self.agree = agree
        self.disagree = disagree
        self.pass = pass
    }

    /// The number of votes counted.
    public var total: Int { agree + disagree + pass }

    /// Adds `delta` (1 or -1) to the count of `choice`.
    public mutating func add(_ choice: Choice, _ delta: Int) {
        switch choice {
        case .agree: agree += delta
        case .disagree: disagree += delta
        case .pass: pass += delta
        }
    }
}

/// The tally of one statement (PROTOCOL.md, the `tally` event).
public struct Tally: Equatable, Sendable {
    /// The statement counted.
    public var statement: StatementID
    /// The totals; `voters` is their sum.
    public var counts: Counts
    /// Participants present when the tally was taken.
    public var present: Int
    /// Per-group counts, every configured group included; `nil` when the event has no groups.
    public var groups: [(name: String, counts: Counts)]?

    /// Makes a tally.
    public init(statement: StatementID, counts: Counts, present: Int, groups: [(name: String, counts: Counts)]?) {
        self.statement = statement
        self.counts = counts
        self.present = present
        self.groups = groups
    }

    /// The number of participants who voted on the statement.
    public var voters: Int { counts.total }

    public static func == (lhs: Tally, rhs: Tally) -> Bool {
        guard lhs.statement == rhs.statement, lhs.counts == rhs.counts, lhs.present == rhs.present else { return false }
        switch (lhs.groups, rhs.groups) {
        case (nil, nil): return true
        case let (left?, right?):
            return left.count == right.count && zip(left, right).allSatisfy { $0.name == $1.name && $0.counts == $1.counts }
        default: return false
        }
    }
}

/// The identity a `welcome` tells the joiner.
public struct You: Equatable, Sendable {
    /// The joiner's id.
    public var id: ParticipantID
    /// The joiner's name.
    public var name: String
    /// The joiner's role.
    public var role: Role
    /// The joiner's group, if any.
    public var group: String?

    /// Makes an identity.
    public init(id: ParticipantID, name: String, role: Role, group: String?) {
        self.id = id
        self.name = name
        self.role = role
        self.group = group
    }
}
