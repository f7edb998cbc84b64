/// A question's id, e.g. `q3`: `q` and the question's number in the order of asking.
public struct QuestionID: Hashable, Comparable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The id as sent on the wire.
    public let rawValue: String

    /// Wraps an id.
    public init(_ rawValue: String) { self.rawValue = rawValue }
    /// Wraps an id written as a literal (tests).
    public init(stringLiteral value: String) { self.rawValue = value }
    /// The id of the `number`th question asked (from 1).
    public init(number: Int) { self.rawValue = "q\(number)" }

    /// The question's number, or `nil` when the id is not of the form `q<number>`.
    public var number: Int? {
        guard rawValue.hasPrefix("q"), let number = Int(rawValue.dropFirst()), number >= 1,
              rawValue == "q\(number)" else { return nil }
        return number
    }

    public static func < (lhs: QuestionID, rhs: QuestionID) -> Bool {
        switch (lhs.number, rhs.number) {
        case let (left?, right?): left < right
        default: lhs.rawValue < rhs.rawValue
        }
    }
    public var description: String { rawValue }
}

/// Where a question stands (PROTOCOL.md, Revision 2, Questions to the panel).
public enum QuestionState: String, Sendable, CaseIterable {
    /// Asked while questions are moderated: only moderators and the asker see it.
    case pending
    /// Visible to everyone and open to upvotes.
    case open
    /// Put to the panel now; at most one question is live.
    case live
    /// The panel answered it (or another question went live after it).
    case answered
    /// A moderator set it aside: only moderators and the asker see it whole.
    case dismissed

    /// Whether upvotes may still change (`question_closed` otherwise).
    public var acceptsUpvotes: Bool { self == .pending || self == .open || self == .live }

    /// Whether every client may see the question (not only moderators and the asker).
    public var isPublic: Bool { self == .open || self == .live || self == .answered }
}

/// A question to the panel as the room keeps it.
public struct Question: Equatable, Sendable {
    /// The question's id.
    public var id: QuestionID
    /// The text exactly as received.
    public var text: String
    /// The participant who asked.
    public var asker: ParticipantID
    /// The asker's name when asking.
    public var name: String
    /// Whether it was asked anonymously: then only moderators and the asker see who asked.
    public var anonymous: Bool
    /// When it was asked.
    public var at: Instant
    /// Where it stands.
    public var state: QuestionState
    /// The number of participants upvoting it now.
    public var upvotes: Int
    /// When it was last marked answered; `nil` unless answered.
    public var answeredAt: Instant?

    /// Makes a question.
    public init(id: QuestionID, text: String, asker: ParticipantID, name: String, anonymous: Bool, at: Instant,
                state: QuestionState, upvotes: Int = 0, answeredAt: Instant? = nil) {
        self.id = id
        self.text = text
        self.asker = asker
        self.name = name
        self.anonymous = anonymous
        self.at = at
        self.state = state
        self.upvotes = upvotes
        self.answeredAt = answeredAt
    }
}

/// A question as one recipient may see it (PROTOCOL.md, Revision 2).
public enum QuestionView: Equatable, Sendable {
    /// The whole question; `from` is filled when `showAsker` (moderators, the asker, or a question
    /// not asked anonymously), else `null`.
    case whole(Question, showAsker: Bool)
    /// `{"id":"q3","state":"dismissed"}`: what everyone but moderators and the asker gets when a
    /// question is dismissed, so that a page drops it.
    case dismissed(QuestionID)
}

/// One question's upvote count in an `upvotes` event.
public struct UpvoteCount: Equatable, Sendable {
    /// The question.
    public var question: QuestionID
    /// Its upvotes now.
    public var upvotes: Int

    /// Makes a count.
    public init(question: QuestionID, upvotes: Int) {
        self.question = question
        self.upvotes = upvotes
    }
}

/// Who may chat (PROTOCOL.md, Revision 2, Chat modes).
public enum ChatMode: Equatable, Sendable {
    /// Everyone may chat within the normal rate limit.
    case open
    /// A participant may post one message every `seconds` (5 to 600).
    case slow(seconds: Int)
    /// Participants may not chat (`chat_closed`); moderators still may.
    case closed

    /// The shortest slow-mode interval.
    public static let minimumSlowSeconds = 5
    /// The longest slow-mode interval.
    public static let maximumSlowSeconds = 600
    /// The slow-mode interval when `seconds` is left out.
    public static let defaultSlowSeconds = 30

    /// The wire name: `open`, `slow` or `closed`.
    public var name: String {
        switch self {
        case .open: "open"
        case .slow: "slow"
        case .closed: "closed"
        }
    }
}

extension JSONWriter {
    /// Writes a chat mode object: `{"mode":"slow","seconds":30}` (`seconds` only with `slow`).
    mutating func writeChatModeFields(_ mode: ChatMode) {
        field("mode", mode.name)
        if case let .slow(seconds) = mode { field("seconds", seconds) }
    }

    /// Writes a question object as one recipient sees it.
    public mutating func write(_ view: QuestionView) {
        beginObject()
        switch view {
        case let .whole(question, showAsker):
            field("id", question.id.rawValue)
            field("text", question.text)
            key("from")
            if showAsker || !question.anonymous {
                beginObject(); field("id", question.asker.rawValue); field("name", question.name); endObject()
            } else {
                null()
            }
            key("anonymous"); bool(question.anonymous)
            field("at", question.at.rfc3339)
            field("upvotes", question.upvotes)
            field("state", question.state.rawValue)
        case let .dismissed(id):
            field("id", id.rawValue)
            field("state", QuestionState.dismissed.rawValue)
        }
        endObject()
    }
}
