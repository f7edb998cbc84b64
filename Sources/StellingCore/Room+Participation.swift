/// What participants send: chat and votes.
extension Room {
    mutating func handleChat(_ text: String?, session: Session, from connection: ConnectionID, ref: String?, now: Instant) -> [Effect] {
        guard session.role != .screen else { return fail(connection, .forbidden, ref) }
        let participant = session.role == .participant
        if participant, chatMode == .closed { return fail(connection, .chatClosed, ref) }
        if participant, participants[session.id]?.muted == true { return fail(connection, .muted, ref) }
        guard let text, !TextRules.isBlank(text) else { return fail(connection, .empty, ref) }
        guard TextRules.length(text) <= configuration.limits.chatChars else { return fail(connection, .tooLong, ref) }
        if participant, case let .slow(seconds) = chatMode, let last = lastChatAt[session.id] {
            let wait = Int64(seconds) * 1000 - (now.milliseconds - last.milliseconds)
            if wait > 0 { return rateLimited(connection, after: wait, ref) }
        }
        // The event's chat budget is checked before the participant's own bucket is spent, and
        // spent after it: a refused message costs nothing (only valid requests spend tokens).
        // The fan-out budget charges one delivery per joined connection (at most its burst, so one
        // message a second always fits).
        let deliveries = min(Double(sessions.count), chatFanout.burst)
        if participant, !chatBudget.hasToken(at: now) || !chatFanout.hasTokens(deliveries, at: now) {
            let wait = max(chatBudget.millisecondsUntilToken(at: now), chatFanout.millisecondsUntil(deliveries, at: now))
            return rateLimited(connection, after: wait, ref, message: "The chat is busy; wait a moment.")
        }
        var own = rateBuckets(for: session.id)
        guard own.chat.take(at: now) else {
            return rateLimited(connection, after: own.chat.millisecondsUntilToken(at: now), ref)
        }
        buckets[session.id] = own
        if participant {
            _ = chatBudget.take(at: now)
            _ = chatFanout.take(deliveries, at: now)
        }
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
        guard takeToken(for: session.id, chat: false, now: now) else {
            return rateLimited(connection, after: rateBuckets(for: session.id).vote.millisecondsUntilToken(at: now), ref)
        }
        let record = Record.voteCast(statement: statements[index].id, participant: session.id, choice: chosen, at: now)
        apply(record)
        return [.persist(record, then: ack(connection, ref))]
    }

    /// `rate_limited` with `retry_after_ms` (Revision 2), at least 1 ms.
    func rateLimited(_ connection: ConnectionID, after milliseconds: Int64, _ ref: String?,
                     message: String = ErrorCode.rateLimited.defaultMessage) -> [Effect] {
        [.send(connection, .rateLimited(retryAfterMilliseconds: max(1, milliseconds), message: message, ref: ref))]
    }
}
