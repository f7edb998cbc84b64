/// Joining: participants (new or resumed), moderators and screens, and the welcome snapshot.
extension Room {
    mutating func handleJoin(
        _ join: Request.Join, from connection: ConnectionID, ref: String?, now: Instant,
        random: inout some RandomNumberGenerator
    ) -> [Effect] {
        let credentials = JoinCredentials(keyVerified: configuration.acceptsModeratorKey(join.key), resumeHash: join.resume.map { SHA256.hex($0.utf8) },
                                          resumeToken: join.resume, newToken: nil)
        return handleJoin(join, credentials: credentials, from: connection, ref: ref, now: now, random: &random)
    }

    /// A join whose secrets were checked (a single server checks them here; in a cluster the node
    /// that received the join did, `ReplicatedJoin`).
    mutating func handleJoin(
        _ join: Request.Join, credentials: JoinCredentials, from connection: ConnectionID, ref: String?, now: Instant,
        random: inout some RandomNumberGenerator
    ) -> [Effect] {
        switch join.role {
        case .moderator:
            guard credentials.keyVerified else {
                return [.send(connection, .error(.unauthorized, ref: ref)), .close(connection, code: .policyViolation)]
            }
            var name = "Moderator"
            if let raw = join.name {
                guard let valid = TextRules.validName(raw) else { return fail(connection, .invalidName, ref) }
                name = valid
            }
            let id = ParticipantID("m" + String(SHA256.hex(name.utf8).prefix(10)))
            admit(connection, Session(role: .moderator, id: id, name: name, group: nil))
            return [.send(connection, .welcome(welcome(for: connection, resume: nil), ref: ref))]
        case .screen:
            admit(connection, Session(role: .screen, id: ParticipantID("screen-\(connection.rawValue)"), name: "Screen", group: nil))
            return [.send(connection, .welcome(welcome(for: connection, resume: nil), ref: ref))]
        case .participant:
            if let hash = credentials.resumeHash, let id = tokenIndex[hash], let participant = participants[id] {
                admit(connection, Session(role: .participant, id: id, name: participant.name, group: participant.group))
                return [.send(connection, .welcome(welcome(for: connection, resume: credentials.resumeToken ?? ""), ref: ref))]
            }
            guard let raw = join.name, let name = TextRules.validName(raw) else {
                return fail(connection, .invalidName, ref)
            }
            var group: String?
            if !configuration.groups.isEmpty, let asked = join.group {
                // Swift's == is canonical equivalence ("\u{212A}" == "K"): keep the configured spelling.
                guard let configured = configuration.groups.first(where: { $0 == asked }) else {
                    return fail(connection, .invalidGroup, ref)
                }
                group = configured
            }
            var id: ParticipantID
            repeat { id = ParticipantID("p" + Room.randomID(length: 7, using: &random)) } while participants[id] != nil
            let token: String
            let tokenHash: String
            if let made = credentials.newToken {
                (token, tokenHash) = made
            } else {
                token = Room.newToken(using: &random)
                tokenHash = SHA256.hex(token.utf8)
            }
            let record = Record.participantJoined(id: id, name: name, group: group, tokenHash: tokenHash, at: now)
            apply(record)
            admit(connection, Session(role: .participant, id: id, name: name, group: group))
            return [.persist(record, then: [.send(connection, .welcome(welcome(for: connection, resume: token), ref: ref))])]
        }
    }

    /// A new resume token: 32 random bytes, base64url.
    public static func newToken(using random: inout some RandomNumberGenerator) -> String {
        var tokenBytes = [UInt8](repeating: 0, count: 32)
        for index in tokenBytes.indices { tokenBytes[index] = UInt8.random(in: .min ... .max, using: &random) }
        return Base64URL.encode(tokenBytes)
    }

    mutating func admit(_ connection: ConnectionID, _ session: Session) {
        admissions += 1
        var session = session
        session.admission = admissions
        sessions[connection] = session
        switch session.role {
        case .moderator:
            moderatorConnections.insert(connection)
        case .participant:
            let count = connectionCounts[session.id, default: 0]
            connectionCounts[session.id] = count + 1
            if count == 0 { presenceDirty = true }
        case .screen:
            break
        }
    }

    func welcome(for connection: ConnectionID, resume: String?) -> Welcome {
        let session = sessions[connection]!
        var myVotes: [(statement: StatementID, choice: Choice)] = []
        if session.role == .participant {
            for statement in statements {
                if let choice = statement.votes[session.id] { myVotes.append((statement.id, choice)) }
            }
        }
        var visibleTally: Tally?
        if let currentIndex, session.role == .moderator || statements[currentIndex].resultsVisible {
            visibleTally = tally(at: currentIndex)
        }
        var recent: [ChatMessage] = []
        for message in chat.reversed() where !message.hidden {
            recent.append(message)
            if recent.count == Room.welcomeChatCount { break }
        }
        var welcome = Welcome(
            you: You(id: session.id, name: session.name, role: session.role, group: session.group),
            resume: resume, title: configuration.title, programme: configuration.programme,
            groups: configuration.groups, statements: statementList, current: currentState, present: present,
            myVotes: myVotes, tally: visibleTally, chat: recent.reversed(), announcement: announcement)
        welcome.chatMode = chatMode
        welcome.questions = questionViews(for: session)
        welcome.questionsOpen = questionsOpen
        if session.role == .participant { welcome.myUpvotes = upvotedQuestions(by: session.id) }
        return welcome
    }
}
