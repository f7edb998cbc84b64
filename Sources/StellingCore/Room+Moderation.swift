/// The moderator's requests (PROTOCOL.md, Moderator requests).
extension Room {
    mutating func handleModerator(
        _ body: Request.Body, from connection: ConnectionID, ref: String?, now: Instant,
        random: inout some RandomNumberGenerator
    ) -> [Effect] {
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
            return [.persist(record, then: then)] + (open ? [] : seal(currentIndex, now: now))
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
        case let .erase(participant):
            return handleErase(participant, from: connection, ref: ref, now: now, random: &random)
        case .join, .chat, .vote, .ask, .upvote, .chatMode, .questions, .questionState:
            return fail(connection, .badRequest, ref)
        }
    }

    /// Erases a participant (docs/DECISIONS.md, Live erasure): the record, then the ack, a
    /// `hidden` event for each of their messages that was visible, and their connections
    /// closed with 4001. Their sessions end at once, so nothing more is accepted from them.
    mutating func handleErase(
        _ participant: String?, from connection: ConnectionID, ref: String?, now: Instant,
        random: inout some RandomNumberGenerator
    ) -> [Effect] {
        guard let participant, let state = participants[ParticipantID(participant)] else {
            return fail(connection, .unknownParticipant, ref)
        }
        var replacement: ParticipantID
        repeat { replacement = ParticipantID("x" + Room.randomID(length: 7, using: &random)) } while participants[replacement] != nil
        let visible = chat.filter { $0.from.id == state.id && !$0.hidden }.map(\.id)
        let askedPublicly = questions.indices.filter { questions[$0].asker == state.id && questions[$0].state.isPublic }
        let theirs = sessions.filter { $0.value.role == .participant && $0.value.id == state.id }.map(\.key).sorted()
        for session in theirs { disconnect(session) }
        let record = Record.participantErased(state.id, replacement: replacement, at: now)
        apply(record)
        var then = ack(connection, ref)
        for id in visible { then.append(.broadcast(.hidden(id), to: .everyone)) }
        then += erasureBroadcasts(publicBefore: askedPublicly)
        for session in theirs { then.append(.close(session, code: .erased)) }
        return [.persist(record, then: then)]
    }

    /// Shows a statement with voting open; the statement left closes and its tally goes out once more.
    mutating func show(_ index: Int, from connection: ConnectionID, ref: String?, now: Instant) -> [Effect] {
        let leaving = votingOpen ? currentIndex : nil
        let record = Record.statementShown(statements[index].id, at: now, present: present)
        apply(record)
        var then = ack(connection, ref)
        if let leaving, leaving != index { then.append(tallyBroadcast(at: leaving, now: now)) }
        then.append(.broadcast(.statement(current: currentState, statements: nil), to: .everyone))
        then.append(tallyBroadcast(at: index, now: now))
        var effects: [Effect] = [.persist(record, then: then)]
        if let leaving, leaving != index { effects += seal(leaving, now: now) }
        return effects
    }

    /// `privacy.ballot: secret`: once voting on a statement closes, who chose what is dropped
    /// (docs/PRIVACY.md). Nothing to seal when nobody voted since the last seal.
    mutating func seal(_ index: Int, now: Instant) -> [Effect] {
        guard configuration.privacy.ballot == .secret, !statements[index].votes.isEmpty else { return [] }
        let record = Record.ballotSealed(statements[index].id, at: now)
        apply(record)
        return [.persist(record, then: [])]
    }
}
