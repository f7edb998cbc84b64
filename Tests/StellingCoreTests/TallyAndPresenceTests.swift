import Testing
@testable import StellingCore
import StellingTesting

@Suite struct TallyTests {
    @Test func tallyCountsPerGroupWithEveryGroupPresentAndUngroupedInTotalsOnly() {
        var harness = Harness()
        let moderator = harness.moderator()
        _ = harness.send("{\"type\":\"next\"}", from: moderator)
        let votes: [(String?, String)] = [("Rijk", "agree"), ("Rijk", "disagree"), ("Gemeente", "agree"), (nil, "pass"), (nil, "agree")]
        for (index, vote) in votes.enumerated() {
            let (connection, _) = harness.participant("P\(index)", group: vote.0)
            _ = harness.send("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"\(vote.1)\"}", from: connection)
        }
        let tally = harness.room.tally(of: "s1")
        #expect(tally == Tally(statement: "s1", counts: Counts(agree: 3, disagree: 1, pass: 1), present: 5, groups: [
            (name: "Rijk", counts: Counts(agree: 1, disagree: 1)),
            (name: "Provincie", counts: Counts()),
            (name: "Gemeente", counts: Counts(agree: 1)),
        ]))
        #expect(tally?.voters == 5)
    }

    @Test func tallyHasNoGroupsWhenTheEventHasNone() {
        var harness = Harness(Harness.configuration(groups: []))
        let moderator = harness.moderator()
        _ = harness.send("{\"type\":\"next\"}", from: moderator)
        let (anna, _) = harness.participant()
        _ = harness.send("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"agree\"}", from: anna)
        #expect(harness.room.tally(of: "s1")?.groups == nil)
        #expect(!String(decoding: Event.tally(harness.room.tally(of: "s1")!).encoded(), as: UTF8.self).contains("groups"))
    }

    @Test func tallyIsSentAtMostEveryIntervalWhileCountsChange() {
        var harness = Harness()
        let moderator = harness.moderator()
        _ = harness.send("{\"type\":\"next\"}", from: moderator)
        var participants: [ConnectionID] = []
        for index in 0..<6 { participants.append(harness.participant("P\(index)").0) }
        _ = harness.tick()
        harness.advance(milliseconds: 300)
        #expect(harness.tick().filter { $0.event.isTally }.isEmpty) // nothing changed
        _ = harness.send("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"agree\"}", from: participants[0])
        let first = harness.tick().compactMap { $0.event.tallyValue }
        #expect(first.map(\.counts) == [Counts(agree: 1)])
        _ = harness.send("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"agree\"}", from: participants[1])
        harness.advance(milliseconds: 100)
        #expect(harness.tick().filter { $0.event.isTally }.isEmpty) // within 250 ms of the last
        _ = harness.send("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"pass\"}", from: participants[2])
        harness.advance(milliseconds: 150)
        #expect(harness.tick().compactMap { $0.event.tallyValue }.map(\.counts) == [Counts(agree: 2, pass: 1)])
        harness.advance(milliseconds: 1000)
        #expect(harness.tick().filter { $0.event.isTally }.isEmpty)
    }

    @Test func theTallyIntervalIsConfigurable() {
        var configuration = Harness.configuration()
        configuration.tallyIntervalMilliseconds = 1000
        var harness = Harness(configuration)
        let moderator = harness.moderator()
        _ = harness.send("{\"type\":\"next\"}", from: moderator)
        let (a, _) = harness.participant("A")
        let (b, _) = harness.participant("B")
        _ = harness.send("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"agree\"}", from: a)
        harness.advance(milliseconds: 999)
        #expect(!harness.tick().contains { $0.event.isTally }) // `next` sent a tally 999 ms ago
        harness.advance(milliseconds: 1)
        #expect(harness.tick().contains { $0.event.isTally })
        _ = harness.send("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"agree\"}", from: b)
        harness.advance(milliseconds: 600)
        #expect(!harness.tick().contains { $0.event.isTally })
        harness.advance(milliseconds: 400)
        #expect(harness.tick().contains { $0.event.isTally })
    }

    @Test func theWelcomeCarriesTheTallyOnlyToThoseWhoMaySeeIt() {
        var harness = Harness()
        let moderator = harness.moderator()
        _ = harness.send("{\"type\":\"next\"}", from: moderator)
        let (anna, _) = harness.participant("Anna")
        _ = harness.send("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"agree\"}", from: anna)
        #expect(harness.participant("Hidden").1.tally == nil)
        let second = harness.connection()
        let welcome = harness.send("{\"type\":\"join\",\"role\":\"moderator\",\"key\":\"\(Harness.key)\"}", from: second)
        guard case let .welcome(moderatorWelcome, _)? = welcome.first?.event else { Issue.record("\(welcome)"); return }
        #expect(moderatorWelcome.tally?.counts == Counts(agree: 1))
        _ = harness.send("{\"type\":\"reveal\"}", from: moderator)
        #expect(harness.participant("Visible").1.tally?.counts == Counts(agree: 1))
    }
}

@Suite struct PresenceTests {
    @Test func presenceCountsDistinctParticipantsAndIsSentAtMostEverySecond() throws {
        var harness = Harness()
        let moderator = harness.moderator()
        let screen = harness.screen()
        #expect(harness.tick().isEmpty)
        let (anna, welcome) = harness.participant("Anna")
        let first = harness.tick()
        #expect(first.recipients(where: \.isPresence) == [moderator, screen, anna])
        #expect(first.first?.event == .presence(1))
        _ = harness.participant("Bert")
        harness.advance(milliseconds: 500)
        #expect(harness.tick().isEmpty) // less than a second since the last
        harness.advance(milliseconds: 500)
        #expect(harness.tick().first?.event == .presence(2))
        // A second connection of Anna changes nothing.
        let again = harness.connection()
        _ = harness.send("{\"type\":\"join\",\"resume\":\"\(try #require(welcome.resume))\"}", from: again)
        harness.advance(milliseconds: 1000)
        #expect(harness.tick().isEmpty)
        harness.room.disconnect(anna)
        harness.advance(milliseconds: 1000)
        #expect(harness.tick().isEmpty)
        harness.room.disconnect(again)
        #expect(harness.tick().first?.event == .presence(1))
    }

    @Test func aJoinAndLeaveWithinASecondSendsNothing() {
        var harness = Harness()
        _ = harness.moderator()
        _ = harness.tick()
        let (anna, _) = harness.participant()
        harness.room.disconnect(anna)
        #expect(harness.tick().isEmpty)
    }

    @Test func moderatorsAndScreensLeavingDoNotChangePresence() {
        var harness = Harness()
        _ = harness.participant()
        _ = harness.tick()
        harness.advance(milliseconds: 2000)
        let moderator = harness.moderator()
        let screen = harness.screen()
        harness.room.disconnect(moderator)
        harness.room.disconnect(screen)
        #expect(harness.tick().isEmpty)
        #expect(harness.room.present == 1)
    }
}

@Suite struct VisibilityTests {
    @Test func theWelcomeCarriesTheLastHundredVisibleMessagesOldestFirst() {
        var configuration = Harness.configuration()
        configuration.limits.chatBurst = 1000
        configuration.limits.chatBudgetPerSecond = 1000
        var harness = Harness(configuration)
        let moderator = harness.moderator()
        let (anna, _) = harness.participant()
        for index in 1...120 { _ = harness.send("{\"type\":\"chat\",\"text\":\"m\(index)\"}", from: anna) }
        for id in [120, 119, 50] { _ = harness.send("{\"type\":\"hide\",\"message\":\(id)}", from: moderator) }
        let (_, welcome) = harness.participant("Late")
        #expect(welcome.chat.count == 100)
        #expect(welcome.chat.first?.text == "m18") // m18...m118 without m50
        #expect(welcome.chat.last?.text == "m118")
        #expect(!welcome.chat.contains { $0.hidden || $0.text == "m50" })
    }

    @Test func broadcastsReachOnlyConnectionsAdmittedBeforeThem() {
        var harness = Harness()
        let (anna, _) = harness.participant("Anna")
        let effects = harness.room.receive(Array("{\"type\":\"chat\",\"text\":\"early\"}".utf8), from: anna, now: harness.clock, random: &harness.random)
        let admittedThen = harness.room.admissions
        let (bert, welcome) = harness.participant("Bert")
        // Bert's welcome already holds the message; the earlier broadcast must not reach him twice.
        #expect(welcome.chat.map(\.text) == ["early"])
        #expect(harness.room.recipients(of: .everyone, admittedUpTo: admittedThen) == [anna])
        #expect(Set(harness.room.recipients(of: .everyone, admittedUpTo: harness.room.admissions)) == [anna, bert])
        #expect(effects.count == 1)
    }
}

@Suite struct ReplayTests {
    @Test func replayingTheRecordsRebuildsTheSameRoom() throws {
        var harness = Harness()
        let moderator = harness.moderator()
        let (anna, annaWelcome) = harness.participant("Anna", group: "Rijk")
        let (bert, _) = harness.participant("Bert")
        _ = harness.send("{\"type\":\"next\"}", from: moderator)
        _ = harness.send("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"agree\"}", from: anna)
        _ = harness.send("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"pass\"}", from: bert)
        _ = harness.send("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"disagree\"}", from: anna)
        _ = harness.send("{\"type\":\"chat\",\"text\":\"een\"}", from: anna)
        _ = harness.send("{\"type\":\"chat\",\"text\":\"twee\"}", from: bert)
        _ = harness.send("{\"type\":\"hide\",\"message\":2}", from: moderator)
        _ = harness.send("{\"type\":\"reveal\"}", from: moderator)
        _ = harness.send("{\"type\":\"add\",\"text\":\"Live\"}", from: moderator)
        _ = harness.send("{\"type\":\"next\"}", from: moderator)
        _ = harness.send("{\"type\":\"close\"}", from: moderator)
        _ = harness.send("{\"type\":\"mute\",\"participant\":\"\(annaWelcome.you.id)\"}", from: moderator)
        _ = harness.send("{\"type\":\"announce\",\"text\":\"Bijna klaar\"}", from: moderator)

        let rebuilt = Room(configuration: harness.room.configuration, replaying: harness.records)
        #expect(rebuilt.statements == harness.room.statements)
        #expect(rebuilt.currentState == harness.room.currentState)
        #expect(rebuilt.participants == harness.room.participants)
        #expect(rebuilt.chat == harness.room.chat)
        #expect(rebuilt.announcement == "Bijna klaar")
        #expect(rebuilt.present == 0)

        // A participant's resume token works in the rebuilt room.
        var resumed = Harness()
        resumed.room = rebuilt
        let connection = resumed.connection()
        let deliveries = resumed.send("{\"type\":\"join\",\"resume\":\"\(try #require(annaWelcome.resume))\"}", from: connection)
        guard case let .welcome(welcome, _)? = deliveries.first?.event else { Issue.record("\(deliveries)"); return }
        #expect(welcome.you == annaWelcome.you)
        #expect(welcome.myVotes.map(\.choice) == [.disagree])
        #expect(welcome.current == CurrentState(statement: "s2", voting: .closed, results: .hidden))
        #expect(welcome.statements.count == 4)
        #expect(welcome.chat.map(\.text) == ["een"])
    }
}
