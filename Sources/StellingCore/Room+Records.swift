/// Records: the only way the room's state changes, live and on replay.
extension Room {
    /// Applies one record to the state. The only place the event's state changes.
    public mutating func apply(_ record: Record) {
        switch record {
        case let .participantJoined(id, name, group, tokenHash, _):
            participants[id] = ParticipantState(id: id, name: name, group: group, muted: false)
            if !tokenHash.isEmpty { tokenIndex[tokenHash] = id }
        case let .voteCast(statement, participant, choice, _):
            guard let index = statementIndex[statement] else { return }
            let group = participants[participant]?.group.flatMap { configuration.groups.contains($0) ? $0 : nil }
            if let previous = statements[index].votes[participant] {
                statements[index].counts.add(previous, -1)
                if let group { statements[index].groupCounts[group, default: Counts()].add(previous, -1) }
            }
            statements[index].votes[participant] = choice
            statements[index].counts.add(choice, 1)
            if let group { statements[index].groupCounts[group, default: Counts()].add(choice, 1) }
            if index == currentIndex { tallyDirty = true }
        case let .chatPosted(message):
            chat.append(message)
            if message.from.role == .participant { lastChatAt[message.from.id] = message.at }
        case let .messageHidden(id, _):
            guard id.rawValue >= 1, id.rawValue <= chat.count else { return }
            chat[id.rawValue - 1].hidden = true
        case let .participantMuted(id, muted, _):
            participants[id]?.muted = muted
        case let .statementShown(statement, at, present):
            guard let index = statementIndex[statement] else { return }
            if votingOpen, let currentIndex, currentIndex != index {
                statements[currentIndex].closedAt = at
                statements[currentIndex].presentAtClose = present
            }
            currentIndex = index
            votingOpen = true
            if statements[index].openedAt == nil { statements[index].openedAt = at }
            statements[index].closedAt = nil
        case let .votingChanged(statement, open, at, present):
            guard let index = statementIndex[statement], index == currentIndex else { return }
            votingOpen = open
            statements[index].closedAt = open ? nil : at
            if !open { statements[index].presentAtClose = present }
        case let .resultsRevealed(statement, visible, _):
            guard let index = statementIndex[statement] else { return }
            statements[index].resultsVisible = visible
        case let .statementAdded(id, text, _):
            guard statementIndex[id] == nil else { return }
            appendStatement(id, text: text)
        case let .announcementSet(text, _):
            announcement = text
        case let .participantErased(id, replacement, _):
            erase(id, replacement: replacement)
        case let .ballotSealed(statement, _):
            guard let index = statementIndex[statement] else { return }
            statements[index].sealedVoters.formUnion(statements[index].votes.keys)
            statements[index].votes = [:]
        case let .sealedVotes(statement, group, choice, count):
            guard let index = statementIndex[statement] else { return }
            statements[index].counts.add(choice, count)
            if let group, configuration.groups.contains(group) {
                statements[index].groupCounts[group, default: Counts()].add(choice, count)
            }
        case let .sealedVoter(statement, participant):
            guard let index = statementIndex[statement] else { return }
            statements[index].sealedVoters.insert(participant)
        case .chatModeSet, .questionAsked, .questionUpvoted, .questionStateSet, .questionsOpened:
            _ = applyRevision2(record)
        }
    }

    /// The text that replaces an erased participant's chat messages, in every language.
    public static let erasedText = "[verwijderd]"

    /// Replaces a participant by an anonymous one: same group (so counts stay), no name, no
    /// token; their votes move to `replacement`, their messages lose their text and are hidden.
    mutating func erase(_ id: ParticipantID, replacement: ParticipantID) {
        guard let erased = participants.removeValue(forKey: id) else { return }
        participants[replacement] = ParticipantState(id: replacement, name: "", group: erased.group, muted: false)
        tokenIndex = tokenIndex.filter { $0.value != id }
        for index in statements.indices {
            if let choice = statements[index].votes.removeValue(forKey: id) { statements[index].votes[replacement] = choice }
            if statements[index].sealedVoters.remove(id) != nil { statements[index].sealedVoters.insert(replacement) }
        }
        for index in chat.indices where chat[index].from.id == id {
            chat[index].from = Author(id: replacement, name: "", role: chat[index].from.role)
            chat[index].text = Room.erasedText
            chat[index].hidden = true
        }
        eraseQuestions(of: id, replacement: replacement)
    }
}
