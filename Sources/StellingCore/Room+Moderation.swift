/// The moderator's requests (PROTOCOL.md, Moderator requests).
extension Room {
    mutating func handleModerator(_ body: Request.Body, from connection: ConnectionID, ref: String?, now: Instant) -> [Effect] {
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
        case .join, .chat, .vote, .ask, .upvote, .chatMode, .questions, .questionState:
            return fail(connection, .badRequest, ref)
        }
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
        return [.persist(record, then: then)]
    }
}
