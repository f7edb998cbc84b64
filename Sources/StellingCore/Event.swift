/// The snapshot a `welcome` carries (PROTOCOL.md, Roles and joining).
public struct Welcome: Equatable, Sendable {
    /// Who joined.
    public var you: You
    /// The secret resume token; participants only.
    public var resume: String?
    /// The event's title.
    public var title: String
    /// The programme.
    public var programme: [ProgrammeItem]
    /// The configured groups (empty when none).
    public var groups: [String]
    /// Every statement in order.
    public var statements: [StatementSummary]
    /// The shown statement and its state, or `nil` before the first.
    public var current: CurrentState?
    /// Distinct participants present, the joiner included.
    public var present: Int
    /// The joiner's votes by statement.
    public var myVotes: [(statement: StatementID, choice: Choice)]
    /// The current statement's tally when this client may see it.
    public var tally: Tally?
    /// Up to the last 100 visible chat messages, oldest first.
    public var chat: [ChatMessage]
    /// The pinned announcement.
    public var announcement: String?
    /// Revision 2: the chat mode.
    public var chatMode: ChatMode = .open
    /// Revision 2: the questions this client may see, in order of asking.
    public var questions: [QuestionView] = []
    /// Revision 2: whether asking is open.
    public var questionsOpen = true
    /// Revision 2: the questions this participant upvotes; `nil` for moderators and screens.
    public var myUpvotes: [QuestionID]?

    /// What this server implements of Revision 2: the welcome's top-level `features`.
    public static let features = ["chat_mode", "questions"]

    /// Makes a welcome snapshot.
    public init(
        you: You, resume: String?, title: String, programme: [ProgrammeItem], groups: [String],
        statements: [StatementSummary], current: CurrentState?, present: Int,
        myVotes: [(statement: StatementID, choice: Choice)], tally: Tally?, chat: [ChatMessage], announcement: String?
    ) {
        self.you = you
        self.resume = resume
        self.title = title
        self.programme = programme
        self.groups = groups
        self.statements = statements
        self.current = current
        self.present = present
        self.myVotes = myVotes
        self.tally = tally
        self.chat = chat
        self.announcement = announcement
    }

    public static func == (lhs: Welcome, rhs: Welcome) -> Bool {
        lhs.you == rhs.you && lhs.resume == rhs.resume && lhs.title == rhs.title && lhs.programme == rhs.programme
            && lhs.groups == rhs.groups && lhs.statements == rhs.statements && lhs.current == rhs.current
            && lhs.present == rhs.present && lhs.myVotes.map(\.statement) == rhs.myVotes.map(\.statement)
            && lhs.myVotes.map(\.choice) == rhs.myVotes.map(\.choice) && lhs.tally == rhs.tally
            && lhs.chat == rhs.chat && lhs.announcement == rhs.announcement
            && lhs.chatMode == rhs.chatMode && lhs.questions == rhs.questions
            && lhs.questionsOpen == rhs.questionsOpen && lhs.myUpvotes == rhs.myUpvotes
    }
}

/// What an `ack` may carry besides its `ref`.
public enum AckID: Equatable, Sendable {
    /// The id of an accepted chat message.
    case message(MessageID)
    /// The id of an added statement.
    case statement(StatementID)
    /// Revision 2: the id of an asked question.
    case question(QuestionID)
}

/// An event from the server (PROTOCOL.md, Events from the server).
public enum Event: Equatable, Sendable {
    case welcome(Welcome, ref: String?)
    /// The current statement or its state changed; `statements` only when the list changed.
    case statement(current: CurrentState?, statements: [StatementSummary]?)
    case tally(Tally)
    case chat(ChatMessage)
    case hidden(MessageID)
    case presence(Int)
    /// `nil` text removes the announcement.
    case announcement(String?)
    case ack(ref: String, id: AckID?)
    case error(ErrorCode, message: String, ref: String?)
    /// Revision 2: `rate_limited` with `retry_after_ms`, how long until the request would be accepted.
    case rateLimited(retryAfterMilliseconds: Int64, message: String, ref: String?)
    /// Revision 2: the chat mode changed.
    case chatMode(ChatMode)
    /// Revision 2: a question was asked or its state changed, as this audience may see it.
    case question(QuestionView)
    /// Revision 2: upvote counts that changed, in order of asking.
    case upvotes([UpvoteCount])
    /// Revision 2: asking opened or closed (`{"type":"questions","open":…}`).
    case questionsOpen(Bool)

    /// Makes an error event with the code's default message.
    public static func error(_ code: ErrorCode, ref: String?) -> Event {
        .error(code, message: code.defaultMessage, ref: ref)
    }

    /// Whether a newer event of the same kind makes a pending one useless (DESIGN.md, Fan-out).
    public var latestValueSlot: LatestValueSlot? {
        switch self {
        case let .tally(tally): .tally(tally.statement)
        case .presence: .presence
        default: nil
        }
    }

    /// The event as one line of JSON text, encoded once per broadcast.
    public func encoded() -> [UInt8] {
        var json = JSONWriter()
        json.beginObject()
        switch self {
        case let .welcome(welcome, ref):
            json.field("type", "welcome")
            if let ref { json.field("ref", ref) }
            json.key("features"); json.write(strings: Welcome.features)
            json.key("you"); json.write(welcome.you)
            if let resume = welcome.resume { json.field("resume", resume) }
            json.key("session")
            json.beginObject()
            json.field("title", welcome.title)
            json.key("programme"); json.write(welcome.programme)
            json.key("groups"); json.write(strings: welcome.groups)
            json.key("statements"); json.write(welcome.statements)
            json.key("current"); json.write(welcome.current)
            json.field("present", welcome.present)
            json.key("myVotes")
            json.beginObject()
            for vote in welcome.myVotes { json.field(vote.statement.rawValue, vote.choice.rawValue) }
            json.endObject()
            json.key("tally")
            if let tally = welcome.tally { json.write(tally, withType: false) } else { json.null() }
            json.key("chat"); json.beginArray(); for message in welcome.chat { json.write(message, withHidden: false) }; json.endArray()
            json.field("announcement", welcome.announcement)
            json.key("chatMode"); json.beginObject(); json.writeChatModeFields(welcome.chatMode); json.endObject()
            json.key("questions"); json.beginArray(); for question in welcome.questions { json.write(question) }; json.endArray()
            json.key("questionsOpen"); json.bool(welcome.questionsOpen)
            if let myUpvotes = welcome.myUpvotes {
                json.key("myUpvotes"); json.write(strings: myUpvotes.map(\.rawValue))
            }
            json.endObject()
        case let .statement(current, statements):
            json.field("type", "statement")
            json.key("current"); json.write(current)
            if let statements { json.key("statements"); json.write(statements) }
        case let .tally(tally):
            json.field("type", "tally")
            json.writeTallyFields(tally)
        case let .chat(message):
            json.field("type", "chat")
            json.key("message"); json.write(message, withHidden: false)
        case let .hidden(id):
            json.field("type", "hidden")
            json.field("message", id.rawValue)
        case let .presence(present):
            json.field("type", "presence")
            json.field("present", present)
        case let .announcement(text):
            json.field("type", "announcement")
            json.field("text", text)
        case let .ack(ref, id):
            json.field("type", "ack")
            json.field("ref", ref)
            switch id {
            case let .message(message)?: json.field("id", message.rawValue)
            case let .statement(statement)?: json.field("id", statement.rawValue)
            case let .question(question)?: json.field("id", question.rawValue)
            case nil: break
            }
        case let .error(code, message, ref):
            json.field("type", "error")
            json.field("code", code.rawValue)
            json.field("message", message)
            if let ref { json.field("ref", ref) }
        case let .rateLimited(retryAfter, message, ref):
            json.field("type", "error")
            json.field("code", ErrorCode.rateLimited.rawValue)
            json.field("message", message)
            json.field("retry_after_ms", Int(retryAfter))
            if let ref { json.field("ref", ref) }
        case let .chatMode(mode):
            json.field("type", "chat_mode")
            json.writeChatModeFields(mode)
        case let .question(view):
            json.field("type", "question")
            json.key("question"); json.write(view)
        case let .upvotes(counts):
            json.field("type", "upvotes")
            json.key("counts")
            json.beginObject()
            for count in counts { json.field(count.question.rawValue, count.upvotes) }
            json.endObject()
        case let .questionsOpen(open):
            json.field("type", "questions")
            json.key("open"); json.bool(open)
        }
        json.endObject()
        return json.bytes
    }
}

/// The per-connection slots whose pending event a newer one replaces.
public enum LatestValueSlot: Sendable, Hashable {
    /// One statement's tally: per statement, so that the closing tally of a statement that
    /// `next` or `goto` leaves is never replaced by the new statement's first tally.
    case tally(StatementID)
    /// The number of participants present.
    case presence
}

extension JSONWriter {
    /// Writes a `you` object.
    mutating func write(_ you: You) {
        beginObject()
        field("id", you.id.rawValue)
        field("name", you.name)
        field("role", you.role.rawValue)
        field("group", you.group)
        endObject()
    }

    /// Writes a statement list.
    mutating func write(_ statements: [StatementSummary]) {
        beginArray()
        for statement in statements {
            beginObject(); field("id", statement.id.rawValue); field("text", statement.text); endObject()
        }
        endArray()
    }

    /// Writes a programme: `[{"time":…,"item":…}]`.
    public mutating func write(_ programme: [ProgrammeItem]) {
        beginArray()
        for item in programme {
            beginObject(); field("time", item.time); field("item", item.item); endObject()
        }
        endArray()
    }

    /// Writes an array of strings.
    public mutating func write(strings: [String]) {
        beginArray()
        for string in strings { self.string(string) }
        endArray()
    }

    /// Writes a `current` object or `null`.
    public mutating func write(_ current: CurrentState?) {
        guard let current else { null(); return }
        beginObject()
        field("statement", current.statement.rawValue)
        field("voting", current.voting.rawValue)
        field("results", current.results.rawValue)
        endObject()
    }

    /// Writes a tally object (with `"type":"tally"` when it is an event of its own).
    mutating func write(_ tally: Tally, withType: Bool) {
        beginObject()
        if withType { field("type", "tally") }
        writeTallyFields(tally)
        endObject()
    }

    mutating func writeTallyFields(_ tally: Tally) {
        field("statement", tally.statement.rawValue)
        field("agree", tally.counts.agree)
        field("disagree", tally.counts.disagree)
        field("pass", tally.counts.pass)
        field("voters", tally.voters)
        field("present", tally.present)
        if let groups = tally.groups {
            key("groups")
            beginObject()
            for group in groups {
                key(group.name)
                beginObject()
                field("agree", group.counts.agree)
                field("disagree", group.counts.disagree)
                field("pass", group.counts.pass)
                endObject()
            }
            endObject()
        }
    }

    /// Writes a chat message object; exports add `hidden`, and write `"name": null` when they
    /// are made without names (PROTOCOL.md, names).
    public mutating func write(_ message: ChatMessage, withHidden: Bool, withName: Bool = true) {
        beginObject()
        field("id", message.id.rawValue)
        key("from")
        beginObject()
        field("id", message.from.id.rawValue)
        field("name", withName ? message.from.name : nil)
        field("role", message.from.role.rawValue)
        endObject()
        field("text", message.text)
        field("at", message.at.rfc3339)
        field("statement", message.statement?.rawValue)
        if withHidden { key("hidden"); bool(message.hidden) }
        endObject()
    }
}
