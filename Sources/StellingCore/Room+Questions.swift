/// Revision 2: chat modes and questions to the panel (PROTOCOL.md, Revision 2).
///
/// Who sees a question: moderators always, whole, with the asker; the asker always, whole, with
/// themselves as `from` (they know they asked, and their page must not offer an upvote of their own
/// question); everyone else only `open`, `live` and `answered` questions, with `from` `null` when
/// asked anonymously, and the stub `{"id","state":"dismissed"}` when a question they saw is dismissed.
/// A question a client may not see is `unknown_question` to it, so that ids do not leak.
extension Room {
    // MARK: Queries

    /// The participants upvoting a question now (empty for an unknown id).
    public func upvoters(of id: QuestionID) -> Set<ParticipantID> {
        questionIndex(id.rawValue).map { upvoters[$0] } ?? []
    }

    /// The position of a question id, or `nil`.
    func questionIndex(_ id: String?) -> Int? {
        guard let id, let number = QuestionID(id).number, number <= questions.count else { return nil }
        return number - 1
    }

    /// Whether a joined session may see the question at `index` at all.
    func maySee(_ index: Int, session: Session) -> Bool {
        let question = questions[index]
        if session.role == .moderator { return true }
        if session.role == .participant, question.asker == session.id { return true }
        return question.state.isPublic
    }

    /// The questions a joined session may see, in order of asking (the welcome's `questions`).
    func questionViews(for session: Session) -> [QuestionView] {
        questions.indices.compactMap { index in
            guard maySee(index, session: session) else { return nil }
            let question = questions[index]
            let privileged = session.role == .moderator || (session.role == .participant && question.asker == session.id)
            return .whole(question, showAsker: privileged)
        }
    }

    /// The questions a participant upvotes, in order of asking (the welcome's `myUpvotes`).
    func upvotedQuestions(by id: ParticipantID) -> [QuestionID] {
        questions.indices.compactMap { index in
            upvoters[index].contains(id) && questions[index].state != .dismissed ? questions[index].id : nil
        }
    }

    /// The broadcasts that tell everyone who may see it about a question's new state. `wasPublic`
    /// is whether everyone could see it before the change.
    func questionBroadcasts(_ index: Int, wasPublic: Bool) -> [Effect] {
        let question = questions[index]
        let privileged = Audience.moderatorsAnd(question.asker)
        let others = Audience.othersThanModeratorsAnd(question.asker)
        var effects: [Effect] = [.broadcast(.question(.whole(question, showAsker: true)), to: privileged)]
        if question.state.isPublic {
            effects.append(.broadcast(.question(.whole(question, showAsker: false)), to: others))
        } else if question.state == .dismissed, wasPublic {
            effects.append(.broadcast(.question(.dismissed(question.id)), to: others))
        }
        return effects
    }

    // MARK: Participants

    mutating func handleAsk(
        _ text: String?, anonymous: Bool, session: Session, from connection: ConnectionID, ref: String?, now: Instant
    ) -> [Effect] {
        guard session.role == .participant else { return fail(connection, .forbidden, ref) }
        guard questionsOpen else { return fail(connection, .questionsClosed, ref) }
        if participants[session.id]?.muted == true { return fail(connection, .muted, ref) }
        guard let text, !TextRules.isBlank(text) else { return fail(connection, .empty, ref) }
        guard TextRules.length(text) <= configuration.limits.questionChars else { return fail(connection, .tooLong, ref) }
        var own = rateBuckets(for: session.id)
        guard own.question.take(at: now) else {
            return rateLimited(connection, after: own.question.millisecondsUntilToken(at: now), ref)
        }
        buckets[session.id] = own
        let question = Question(
            id: QuestionID(number: questions.count + 1), text: text, asker: session.id, name: session.name,
            anonymous: anonymous, at: now, state: configuration.questionsModerated ? .pending : .open)
        let record = Record.questionAsked(question)
        apply(record)
        var then: [Effect] = []
        if let ref { then.append(.send(connection, .ack(ref: ref, id: .question(question.id)))) }
        then += questionBroadcasts(questions.count - 1, wasPublic: false)
        return [.persist(record, then: then)]
    }

    mutating func handleUpvote(
        _ id: String?, up: Bool, session: Session, from connection: ConnectionID, ref: String?, now: Instant
    ) -> [Effect] {
        guard session.role == .participant else { return fail(connection, .forbidden, ref) }
        guard let index = questionIndex(id), maySee(index, session: session) else {
            return fail(connection, .unknownQuestion, ref)
        }
        let question = questions[index]
        guard question.asker != session.id else {
            return [.send(connection, .error(.forbidden, message: "You cannot upvote your own question.", ref: ref))]
        }
        guard question.state.acceptsUpvotes else { return fail(connection, .questionClosed, ref) }
        guard upvoters[index].contains(session.id) != up else { return ack(connection, ref) }
        var own = rateBuckets(for: session.id)
        guard own.vote.take(at: now) else {
            return rateLimited(connection, after: own.vote.millisecondsUntilToken(at: now), ref)
        }
        buckets[session.id] = own
        let record = Record.questionUpvoted(question.id, participant: session.id, up: up, at: now)
        apply(record)
        return [.persist(record, then: ack(connection, ref))]
    }

    // MARK: Moderators

    mutating func handleRevision2Moderator(_ body: Request.Body, from connection: ConnectionID, ref: String?, now: Instant) -> [Effect] {
        switch body {
        case let .chatMode(name, seconds):
            let mode: ChatMode
            switch name {
            case "open"?: mode = .open
            case "closed"?: mode = .closed
            case "slow"?:
                let value = seconds ?? Int64(ChatMode.defaultSlowSeconds)
                guard value >= Int64(ChatMode.minimumSlowSeconds), value <= Int64(ChatMode.maximumSlowSeconds) else {
                    return [.send(connection, .error(.badRequest, message: "Slow mode takes 5 to 600 seconds.", ref: ref))]
                }
                mode = .slow(seconds: Int(value))
            default:
                return [.send(connection, .error(.badRequest, message: "The chat mode is open, slow or closed.", ref: ref))]
            }
            guard mode != chatMode else { return ack(connection, ref) }
            let record = Record.chatModeSet(mode, at: now)
            apply(record)
            return [.persist(record, then: ack(connection, ref) + [.broadcast(.chatMode(mode), to: .everyone)])]
        case let .questions(open):
            guard open != questionsOpen else { return ack(connection, ref) }
            let record = Record.questionsOpened(open, at: now)
            apply(record)
            return [.persist(record, then: ack(connection, ref) + [.broadcast(.questionsOpen(open), to: .everyone)])]
        case let .questionState(id, stateName):
            guard let index = questionIndex(id) else { return fail(connection, .unknownQuestion, ref) }
            guard let stateName, let state = QuestionState(rawValue: stateName), state != .pending else {
                return [.send(connection, .error(.badRequest, message: "The state is open, live, answered or dismissed.", ref: ref))]
            }
            guard questions[index].state != state else { return ack(connection, ref) }
            let previousLive = state == .live ? liveQuestion : nil
            let wasPublic = questions[index].state.isPublic
            let record = Record.questionStateSet(questions[index].id, state: state, at: now)
            apply(record)
            var then = ack(connection, ref)
            if let previousLive, previousLive != index { then += questionBroadcasts(previousLive, wasPublic: true) }
            then += questionBroadcasts(index, wasPublic: wasPublic)
            return [.persist(record, then: then)]
        default:
            return fail(connection, .badRequest, ref)
        }
    }

    // MARK: Erasure

    /// An erased participant's questions (docs/PRIVACY.md): text `Room.erasedText`, no name, the
    /// replacement as asker, dismissed; their upvotes move to the replacement, so counts stay.
    mutating func eraseQuestions(of id: ParticipantID, replacement: ParticipantID) {
        for index in questions.indices {
            if questions[index].asker == id {
                questions[index].asker = replacement
                questions[index].name = ""
                questions[index].text = Room.erasedText
                if questions[index].state == .live { liveQuestion = nil }
                if questions[index].state != .answered { questions[index].state = .dismissed }
            }
            if upvoters[index].remove(id) != nil { upvoters[index].insert(replacement) }
        }
    }

    /// The broadcasts after an erasure: each of the erased participant's questions that others
    /// could see goes out again (the stub for dismissed ones, the erased text for answered ones).
    func erasureBroadcasts(publicBefore: [Int]) -> [Effect] {
        publicBefore.flatMap { questionBroadcasts($0, wasPublic: true) }
    }

    // MARK: Records

    /// Applies a Revision 2 record; `false` when the record is not one.
    mutating func applyRevision2(_ record: Record) -> Bool {
        switch record {
        case let .chatModeSet(mode, _):
            chatMode = mode
        case let .questionAsked(question):
            guard question.id.number == questions.count + 1 else { return true }
            questions.append(question)
            upvoters.append([])
        case let .questionUpvoted(id, participant, up, _):
            guard let index = questionIndex(id.rawValue) else { return true }
            let changed = up ? upvoters[index].insert(participant).inserted : upvoters[index].remove(participant) != nil
            if changed {
                questions[index].upvotes = upvoters[index].count
                upvotesDirty.insert(index)
            }
        case let .questionStateSet(id, state, at):
            guard let index = questionIndex(id.rawValue) else { return true }
            if state == .live, let live = liveQuestion, live != index {
                questions[live].state = .answered
                questions[live].answeredAt = at
            }
            if questions[index].state == .live, state != .live { liveQuestion = nil }
            if state == .live { liveQuestion = index }
            questions[index].state = state
            questions[index].answeredAt = state == .answered ? at : nil
        case let .questionsOpened(open, _):
            questionsOpen = open
        default:
            return false
        }
        return true
    }
}
