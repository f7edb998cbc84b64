/// What participants send: chat and votes.
extension Room {
    mutating func handleChat(_ text: String?, session: Session, from connection: ConnectionID, ref: String?, now: Instant) -> [Effect] {
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

    mutating func handleVote(
        statement: String?, choice: String?, session: Session, from connection: ConnectionID, ref: String?, now: Instant
    ) -> [Effect] {
        guard session.role == .participant else { return fail(connection, .forbidden, ref) }
        guard let statement, let index = statementIndex[StatementID(statement)] else {
            return fail(connection, .unknownStatement, ref)
        }
        guard index == currentIndex, votingOpen else { return fail(connection, .votingClosed, ref) }
        guard let choice, let chosen = Choice(rawValue: choice) else { return fail(connection, .invalidChoice, ref) }
        if statements[index].sealedVoters.contains(session.id) {
            // A secret ballot's counted vote cannot be changed: nobody knows any more which it was.
            return [.send(connection, .error(.votingClosed, message: "Your vote on this statement was counted when voting closed; a secret ballot cannot be changed.", ref: ref))]
        }
        guard takeToken(for: session.id, chat: false, now: now) else { return fail(connection, .rateLimited, ref) }
        let record = Record.voteCast(statement: statements[index].id, participant: session.id, choice: chosen, at: now)
        apply(record)
        return [.persist(record, then: ack(connection, ref))]
    }
}
