import Testing
@testable import StellingCore
import StellingTesting

/// Issue 13 in the core: the live `erase` request (docs/DECISIONS.md, Live erasure).
@Suite struct PrivacyTests {
    /// Anna (Rijk) voted and chatted twice (one message hidden); Bram (Gemeente) voted and chatted.
    struct Scene {
        var harness = Harness()
        var moderator: ConnectionID
        var anna: ConnectionID
        var annaID: ParticipantID
        var annaToken: String
        var bram: ConnectionID
        var screen: ConnectionID

        init() {
            moderator = harness.moderator()
            let (annaConnection, annaWelcome) = harness.participant("Anna", group: "Rijk")
            let (bramConnection, _) = harness.participant("Bram", group: "Gemeente")
            (anna, annaID, annaToken, bram) = (annaConnection, annaWelcome.you.id, annaWelcome.resume!, bramConnection)
            screen = harness.screen()
            _ = harness.send(#"{"type":"next"}"#, from: moderator)
            _ = harness.send(#"{"type":"vote","statement":"s1","choice":"agree"}"#, from: anna)
            _ = harness.send(#"{"type":"vote","statement":"s1","choice":"disagree"}"#, from: bram)
            _ = harness.send(#"{"type":"chat","text":"geheim van Anna"}"#, from: anna)
            _ = harness.send(#"{"type":"chat","text":"van Bram"}"#, from: bram)
            _ = harness.send(#"{"type":"chat","text":"nog een van Anna"}"#, from: anna)
            _ = harness.send(#"{"type":"hide","message":3}"#, from: moderator)
        }
    }

    /// s1's totals, then its Rijk and Gemeente counts.
    static func counts(_ room: Room) -> [Counts?] {
        guard let statement = room.statement("s1") else { return [] }
        return [statement.counts, statement.groupCounts["Rijk"], statement.groupCounts["Gemeente"]]
    }

    @Test func participantsAndScreensAreForbiddenToErase() {
        var scene = Scene()
        let request = "{\"type\":\"erase\",\"participant\":\"\(scene.annaID)\"}"
        #expect(scene.harness.send(request, from: scene.bram).errors(to: scene.bram) == [.forbidden])
        #expect(scene.harness.send(request, from: scene.screen).errors(to: scene.screen) == [.forbidden])
        #expect(scene.harness.room.participants[scene.annaID]?.name == "Anna")
    }

    @Test(arguments: [#"{"type":"erase"}"#, #"{"type":"erase","participant":"pNobody1"}"#,
                      #"{"type":"erase","participant":"screen-5"}"#, #"{"type":"erase","participant":null}"#])
    func anUnknownOrMissingIdIsUnknownParticipant(request: String) {
        var scene = Scene()
        let before = scene.harness.records.count
        #expect(scene.harness.send(request, from: scene.moderator).errors(to: scene.moderator) == [.unknownParticipant])
        #expect(scene.harness.records.count == before)
    }

    @Test func aModeratorsIdIsNotAParticipantsToErase() {
        var scene = Scene()
        let moderatorID = scene.harness.room.identity(of: scene.moderator)!
        let request = "{\"type\":\"erase\",\"participant\":\"\(moderatorID)\"}"
        #expect(scene.harness.send(request, from: scene.moderator).errors(to: scene.moderator) == [.unknownParticipant])
    }

    @Test func aParticipantThatIsNotAStringIsBadRequest() {
        var scene = Scene()
        #expect(scene.harness.send(#"{"type":"erase","participant":7}"#, from: scene.moderator).errors(to: scene.moderator) == [.badRequest])
    }

    @Test func erasingRemovesNameTokenTextsAndTheLinkButKeepsTheCounts() {
        var scene = Scene()
        let countsBefore = Self.counts(scene.harness.room)
        let deliveries = scene.harness.send("{\"type\":\"erase\",\"participant\":\"\(scene.annaID)\",\"ref\":\"e1\"}", from: scene.moderator)
        #expect(deliveries.to(scene.moderator).first == .ack(ref: "e1", id: nil))
        let room = scene.harness.room
        #expect(room.participants[scene.annaID] == nil)
        guard case let .participantErased(erased, replacement, _)? = scene.harness.records.last else {
            Issue.record("no erase record"); return
        }
        #expect(erased == scene.annaID)
        #expect(replacement.rawValue.hasPrefix("x") && replacement.rawValue.count == 8)
        #expect(room.participants[replacement] == ParticipantState(id: replacement, name: "", group: "Rijk", muted: false))
        let countsAfter = Self.counts(room)
        #expect(countsAfter == countsBefore, "counts and per-group counts stay")
        #expect(countsAfter[1] == Counts(agree: 1))
        #expect(room.statement("s1")?.votes[scene.annaID] == nil)
        #expect(room.statement("s1")?.votes[replacement] == .agree)
        let annas = room.chat.filter { $0.from.id == replacement }
        #expect(annas.map(\.id) == [1, 3])
        #expect(annas.allSatisfy { $0.text == Room.erasedText && $0.from.name == "" && $0.hidden })
        #expect(room.chat[1].text == "van Bram" && !room.chat[1].hidden)
        #expect(!room.chat.contains { $0.text.contains("Anna") || $0.from.name == "Anna" })
    }

    @Test func everyoneGetsHiddenForTheVisibleMessagesAndTheErasedConnectionsClose() {
        var scene = Scene()
        let deliveries = scene.harness.send("{\"type\":\"erase\",\"participant\":\"\(scene.annaID)\"}", from: scene.moderator)
        // Message 3 was hidden already: only message 1 gets a new `hidden`.
        for connection in [scene.moderator, scene.bram, scene.screen] {
            #expect(deliveries.to(connection) == [.hidden(1)], "\(connection)")
        }
        #expect(deliveries.to(scene.anna).isEmpty)
        #expect(scene.harness.closed.map(\.0) == [scene.anna])
        #expect(scene.harness.closed.map(\.1) == [.erased])
        #expect(CloseCode.erased.rawValue == 4001)
        #expect(scene.harness.room.present == 1)
    }

    @Test func theErasedTokenNoLongerResumesAndAWelcomeCarriesNoErasedMessage() {
        var scene = Scene()
        _ = scene.harness.send("{\"type\":\"erase\",\"participant\":\"\(scene.annaID)\"}", from: scene.moderator)
        let connection = scene.harness.connection()
        let deliveries = scene.harness.send("{\"type\":\"join\",\"name\":\"Nieuw\",\"resume\":\"\(scene.annaToken)\"}", from: connection)
        guard case let .welcome(welcome, _)? = deliveries.to(connection).first else { Issue.record("no welcome"); return }
        #expect(welcome.you.name == "Nieuw")
        #expect(welcome.you.id != scene.annaID)
        #expect(welcome.myVotes.isEmpty)
        #expect(welcome.chat.map(\.text) == ["van Bram"])
    }

    @Test func erasingDismissesTheirQuestionsForEveryoneAndKeepsTheirUpvotesCounted() {
        var scene = Scene()
        _ = scene.harness.send(#"{"type":"ask","text":"Vraag van Anna"}"#, from: scene.anna)
        _ = scene.harness.send(#"{"type":"ask","text":"Vraag van Bram"}"#, from: scene.bram)
        _ = scene.harness.send(#"{"type":"upvote","question":"q2"}"#, from: scene.anna)
        let deliveries = scene.harness.send("{\"type\":\"erase\",\"participant\":\"\(scene.annaID)\"}", from: scene.moderator)
        let room = scene.harness.room
        #expect(room.questions[0].state == .dismissed && room.questions[0].text == Room.erasedText && room.questions[0].name == "")
        #expect(room.questions[1].upvotes == 1)
        #expect(deliveries.to(scene.bram).contains(.question(.dismissed("q1"))))
        #expect(deliveries.to(scene.screen).contains(.question(.dismissed("q1"))))
        #expect(deliveries.to(scene.moderator).contains { if case let .question(.whole(question, _)) = $0 { question.id == "q1" && question.text == Room.erasedText } else { false } })
        let replayed = Room(configuration: room.configuration, replaying: scene.harness.records)
        #expect(replayed.questions == room.questions)
    }

    @Test func anErasedIdCannotBeErasedAgain() {
        var scene = Scene()
        let request = "{\"type\":\"erase\",\"participant\":\"\(scene.annaID)\"}"
        _ = scene.harness.send(request, from: scene.moderator)
        #expect(scene.harness.send(request, from: scene.moderator).errors(to: scene.moderator) == [.unknownParticipant])
    }

    @Test func replayingTheRecordsRebuildsTheErasedRoom() {
        var scene = Scene()
        _ = scene.harness.send("{\"type\":\"erase\",\"participant\":\"\(scene.annaID)\"}", from: scene.moderator)
        let replayed = Room(configuration: scene.harness.room.configuration, replaying: scene.harness.records)
        #expect(replayed.participants == scene.harness.room.participants)
        #expect(replayed.chat == scene.harness.room.chat)
        #expect(replayed.statement("s1")?.counts == scene.harness.room.statement("s1")?.counts)
        #expect(replayed.statement("s1")?.groupCounts == scene.harness.room.statement("s1")?.groupCounts)
    }

    @Test func aStoredErasureReplaysWithTheNewIdOnBothSides() {
        // The store rewrites the rows and keeps only the new id: replaying that must change nothing.
        var scene = Scene()
        _ = scene.harness.send("{\"type\":\"erase\",\"participant\":\"\(scene.annaID)\"}", from: scene.moderator)
        var room = scene.harness.room
        guard case let .participantErased(_, replacement, at)? = scene.harness.records.last else { return }
        let participants = room.participants
        room.apply(.participantErased(replacement, replacement: replacement, at: at))
        #expect(room.participants == participants)
        #expect(room.tally(of: "s1") == scene.harness.room.tally(of: "s1"))
    }
}

/// `privacy.ballot: secret` in the core (docs/PRIVACY.md, Secret ballot).
@Suite struct SecretBallotTests {
    static func secret() -> Configuration {
        var configuration = Harness.configuration()
        configuration.privacy.ballot = .secret
        return configuration
    }

    @Test func closingVotingDropsWhoChoseWhatAndKeepsTheCounts() {
        var harness = Harness(Self.secret())
        let moderator = harness.moderator()
        let (anna, _) = harness.participant("Anna", group: "Rijk")
        let (bram, _) = harness.participant("Bram")
        _ = harness.send(#"{"type":"next"}"#, from: moderator)
        _ = harness.send(#"{"type":"vote","statement":"s1","choice":"agree"}"#, from: anna)
        _ = harness.send(#"{"type":"vote","statement":"s1","choice":"pass"}"#, from: bram)
        let annaID = harness.room.identity(of: anna)!
        let closing = harness.send(#"{"type":"close","ref":"c"}"#, from: moderator)
        #expect(closing.to(moderator).first == .ack(ref: "c", id: nil))
        guard case .ballotSealed("s1", _)? = harness.records.last else { Issue.record("no seal: \(harness.records)"); return }
        let statement = harness.room.statement("s1")!
        #expect(statement.votes.isEmpty)
        #expect(statement.counts == Counts(agree: 1, pass: 1))
        #expect(statement.groupCounts["Rijk"] == Counts(agree: 1))
        #expect(statement.sealedVoters == [annaID, harness.room.identity(of: bram)!])
        #expect(closing.to(moderator).compactMap(\.tallyValue).first?.counts == Counts(agree: 1, pass: 1))
    }

    @Test func nextAndGotoSealTheStatementTheyLeave() {
        var harness = Harness(Self.secret())
        let moderator = harness.moderator()
        let (anna, _) = harness.participant("Anna")
        _ = harness.send(#"{"type":"next"}"#, from: moderator)
        _ = harness.send(#"{"type":"vote","statement":"s1","choice":"agree"}"#, from: anna)
        _ = harness.send(#"{"type":"next"}"#, from: moderator)
        #expect(harness.room.statement("s1")?.votes.isEmpty == true)
        _ = harness.send(#"{"type":"vote","statement":"s2","choice":"disagree"}"#, from: anna)
        _ = harness.send(#"{"type":"goto","statement":"s3"}"#, from: moderator)
        #expect(harness.room.statement("s2")?.votes.isEmpty == true)
        #expect(harness.room.statement("s2")?.counts == Counts(disagree: 1))
        // Nothing to seal when nobody voted: no record.
        let before = harness.records.count
        _ = harness.send(#"{"type":"close"}"#, from: moderator)
        #expect(harness.records.count == before + 1)
    }

    @Test func afterReopeningEarlierVotersCannotChangeTheirVoteAndNewVotersCount() {
        var harness = Harness(Self.secret())
        let moderator = harness.moderator()
        let (anna, _) = harness.participant("Anna")
        _ = harness.send(#"{"type":"next"}"#, from: moderator)
        _ = harness.send(#"{"type":"vote","statement":"s1","choice":"agree"}"#, from: anna)
        _ = harness.send(#"{"type":"close"}"#, from: moderator)
        _ = harness.send(#"{"type":"open"}"#, from: moderator)
        #expect(harness.send(#"{"type":"vote","statement":"s1","choice":"disagree","ref":"v"}"#, from: anna).errors(to: anna) == [.votingClosed])
        let (bram, _) = harness.participant("Bram")
        _ = harness.send(#"{"type":"vote","statement":"s1","choice":"disagree"}"#, from: bram)
        _ = harness.send(#"{"type":"vote","statement":"s1","choice":"pass"}"#, from: bram)
        #expect(harness.room.statement("s1")?.counts == Counts(agree: 1, pass: 1))
        _ = harness.send(#"{"type":"close"}"#, from: moderator)
        #expect(harness.room.statement("s1")?.counts == Counts(agree: 1, pass: 1))
        #expect(harness.room.statement("s1")?.sealedVoters.count == 2)
    }

    @Test func theDefaultPseudonymousBallotKeepsEveryVote() {
        var harness = Harness()
        let moderator = harness.moderator()
        let (anna, _) = harness.participant("Anna")
        _ = harness.send(#"{"type":"next"}"#, from: moderator)
        _ = harness.send(#"{"type":"vote","statement":"s1","choice":"agree"}"#, from: anna)
        _ = harness.send(#"{"type":"close"}"#, from: moderator)
        #expect(harness.room.statement("s1")?.votes.count == 1)
        #expect(!harness.records.contains { if case .ballotSealed = $0 { true } else { false } })
        _ = harness.send(#"{"type":"open"}"#, from: moderator)
        #expect(harness.send(#"{"type":"vote","statement":"s1","choice":"pass","ref":"v"}"#, from: anna).to(anna) == [.ack(ref: "v", id: nil)])
    }

    @Test func aResumedVoterSeesNoSealedChoice() {
        var harness = Harness(Self.secret())
        let moderator = harness.moderator()
        let (anna, welcome) = harness.participant("Anna")
        _ = harness.send(#"{"type":"next"}"#, from: moderator)
        _ = harness.send(#"{"type":"vote","statement":"s1","choice":"agree"}"#, from: anna)
        _ = harness.send(#"{"type":"close"}"#, from: moderator)
        let again = harness.connection()
        let deliveries = harness.send("{\"type\":\"join\",\"name\":\"Anna\",\"resume\":\"\(welcome.resume!)\"}", from: again)
        guard case let .welcome(resumed, _)? = deliveries.to(again).first else { Issue.record("no welcome"); return }
        #expect(resumed.you.id == welcome.you.id)
        #expect(resumed.myVotes.isEmpty)
    }

    @Test func replayingSealedCountsRebuildsTheTally() {
        var room = Room(configuration: Self.secret())
        room.apply(.statementShown("s1", at: Instant(milliseconds: 0), present: 0))
        room.apply(.sealedVotes("s1", group: "Rijk", choice: .agree, count: 3))
        room.apply(.sealedVotes("s1", group: nil, choice: .pass, count: 2))
        room.apply(.sealedVotes("s1", group: "Weg", choice: .pass, count: 1))
        room.apply(.sealedVoter("s1", "pA"))
        #expect(room.statement("s1")?.counts == Counts(agree: 3, pass: 3))
        #expect(room.statement("s1")?.groupCounts == ["Rijk": Counts(agree: 3)])
        #expect(room.statement("s1")?.sealedVoters == ["pA"])
    }
}
