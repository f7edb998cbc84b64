/// Which joined connections receive a broadcast.
public enum Audience: Equatable, Sendable {
    /// Every joined connection: participants, moderators and screens.
    case everyone
    /// Moderator connections only.
    case moderators
    /// Every connection of one participant (Revision 2: a question's asker).
    case participant(ParticipantID)
    /// Moderators and every connection of one participant (a pending question).
    case moderatorsAnd(ParticipantID)
    /// Everyone but moderators and one participant's connections (the others' view of a question).
    case othersThanModeratorsAnd(ParticipantID)
}

/// What the shell must do after the room handled something (DESIGN.md, The shape of a request).
/// Effects are carried out in order; the `then` effects of a `persist` wait until the store
/// reports the record durable, and so does every effect after it.
public indirect enum Effect: Equatable, Sendable {
    /// Send an event to one connection.
    case send(ConnectionID, Event)
    /// Send one event, encoded once, to every connection of an audience joined so far.
    case broadcast(Event, to: Audience)
    /// Store a record; carry out `then` once it is durable.
    case persist(Record, then: [Effect])
    /// Close a connection after what is queued for it has left.
    case close(ConnectionID, code: CloseCode)
}

/// A durable fact. The room changes only by applying records, so the store can rebuild it by
/// applying them again (DESIGN.md, Durability and recovery).
public enum Record: Equatable, Sendable {
    /// A new participant; only the resume token's hash is kept.
    case participantJoined(id: ParticipantID, name: String, group: String?, tokenHash: String, at: Instant)
    /// A vote, replacing any earlier vote of the same participant on the statement.
    case voteCast(statement: StatementID, participant: ParticipantID, choice: Choice, at: Instant)
    /// An accepted chat message.
    case chatPosted(ChatMessage)
    /// A moderator hid a message.
    case messageHidden(MessageID, at: Instant)
    /// A moderator muted or unmuted a participant.
    case participantMuted(ParticipantID, muted: Bool, at: Instant)
    /// A statement is now shown with voting open; voting on the one shown before closed.
    /// `present` is the number of participants present then (for turnout in the exports).
    case statementShown(StatementID, at: Instant, present: Int)
    /// Voting on the shown statement was opened or closed, with the participants present then.
    case votingChanged(StatementID, open: Bool, at: Instant, present: Int)
    /// A statement's results were shown or hidden.
    case resultsRevealed(StatementID, visible: Bool, at: Instant)
    /// A statement was appended live.
    case statementAdded(StatementID, text: String, at: Instant)
    /// The announcement was pinned (`nil`: removed).
    case announcementSet(String?, at: Instant)
    /// A participant was erased (GDPR art. 17): name and token gone, chat texts replaced by
    /// `Room.erasedText`, and `id` replaced everywhere by `replacement`, a new random id tied
    /// to no person. Counts and per-group counts stay. The store rewrites the earlier rows
    /// too, so a replayed erasure has `id == replacement`.
    case participantErased(ParticipantID, replacement: ParticipantID, at: Instant)
    /// `privacy.ballot: secret`: voting on the statement closed; only its counts are kept from
    /// now on. The store folds the statement's votes into anonymous counts and a list of who
    /// voted (without what), and deletes the votes.
    case ballotSealed(StatementID, at: Instant)
    /// Replay only (the store's sealed counts): `count` votes for `choice` in `group` (`nil`:
    /// no group) on a sealed statement, tied to no participant.
    case sealedVotes(StatementID, group: String?, choice: Choice, count: Int)
    /// Replay only (the store's list of who voted on a sealed statement): the participant may
    /// not vote on it again; what they chose is not kept.
    case sealedVoter(StatementID, ParticipantID)
    /// Revision 2: a moderator set the chat mode.
    case chatModeSet(ChatMode, at: Instant)
    /// Revision 2: a participant asked a question (state `open`, or `pending` when moderated).
    case questionAsked(Question)
    /// Revision 2: a participant added (`up`) or removed their upvote.
    case questionUpvoted(QuestionID, participant: ParticipantID, up: Bool, at: Instant)
    /// Revision 2: a moderator set a question's state; making one `live` makes the live one `answered`.
    case questionStateSet(QuestionID, state: QuestionState, at: Instant)
    /// Revision 2: a moderator opened or closed asking.
    case questionsOpened(Bool, at: Instant)

    /// When the fact happened.
    public var at: Instant {
        switch self {
        case let .participantJoined(_, _, _, _, at), let .voteCast(_, _, _, at), let .messageHidden(_, at),
             let .participantMuted(_, _, at), let .statementShown(_, at, _), let .votingChanged(_, _, at, _),
             let .resultsRevealed(_, _, at), let .statementAdded(_, _, at), let .announcementSet(_, at),
             let .participantErased(_, _, at), let .ballotSealed(_, at),
             let .chatModeSet(_, at), let .questionUpvoted(_, _, _, at), let .questionStateSet(_, _, at),
             let .questionsOpened(_, at):
            return at
        case .sealedVotes, .sealedVoter:
            return Instant(milliseconds: 0)
        case let .questionAsked(question):
            return question.at
        case let .chatPosted(message):
            return message.at
        }
    }
}
