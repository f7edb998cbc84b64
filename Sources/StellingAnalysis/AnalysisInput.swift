import StellingCore

/// What the opinion analysis reads: the statements, the event's configured groups, and each
/// participant's final votes (issue 15). Values only; the caller reads them from wherever they are.
public struct AnalysisInput: Sendable, Equatable {
    /// One statement of the analysis, in the event's order.
    public struct Statement: Sendable, Equatable {
        /// The statement's id, as in the protocol.
        public var id: String
        /// The statement's text.
        public var text: String

        /// Makes a statement.
        public init(id: String, text: String) {
            self.id = id
            self.text = text
        }
    }

    /// One participant: id, configured group (or none) and the vote per statement.
    public struct Participant: Sendable, Equatable {
        /// The participant's id.
        public var id: String
        /// The configured group the participant chose when joining, if any.
        public var group: String?
        /// The final vote on each statement (same order as `statements`); `nil` where none.
        public var votes: [Choice?]

        /// Makes a participant.
        public init(id: String, group: String?, votes: [Choice?]) {
            self.id = id
            self.group = group
            self.votes = votes
        }
    }

    /// The statements, in order: the columns of the vote matrix.
    public private(set) var statements: [Statement]
    /// The groups of the configuration, in configured order.
    public private(set) var configuredGroups: [String]
    /// The participants, in the order they joined: the rows of the vote matrix.
    public internal(set) var participants: [Participant] = []

    /// Makes an input with no participants yet.
    public init(statements: [Statement], configuredGroups: [String]) {
        self.statements = statements
        self.configuredGroups = configuredGroups
    }

    /// Adds a participant. Its `votes` must have one entry per statement.
    public mutating func add(_ participant: Participant) throws(AnalysisError) {
        guard participant.votes.count == statements.count else {
            throw .voteCount(participant: participant.id, expected: statements.count, got: participant.votes.count)
        }
        participants.append(participant)
    }
}

/// Why an analysis could not be made.
public enum AnalysisError: Error, Equatable, CustomStringConvertible {
    /// A participant's vote list does not have one entry per statement.
    case voteCount(participant: String, expected: Int, got: Int)
    /// A given partition does not have one label per analysed participant, or has a negative label.
    case partition(expected: Int, got: Int)

    /// A sentence saying what is wrong.
    public var description: String {
        switch self {
        case let .voteCount(participant, expected, got):
            "participant \(participant) has \(got) votes in the analysis input, expected one per statement (\(expected))"
        case let .partition(expected, got):
            "the partition has \(got) labels, expected one label (0 or more) per analysed participant (\(expected))"
        }
    }
}
