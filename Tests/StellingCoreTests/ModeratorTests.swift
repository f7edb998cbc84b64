import Testing
@testable import StellingCore
import StellingTesting

@Suite struct ModeratorTests {
    static let moderatorRequests = [
        "{\"type\":\"next\"}", "{\"type\":\"goto\",\"statement\":\"s2\"}", "{\"type\":\"close\"}", "{\"type\":\"open\"}",
        "{\"type\":\"reveal\",\"visible\":true}", "{\"type\":\"add\",\"text\":\"x\"}", "{\"type\":\"hide\",\"message\":1}",
        "{\"type\":\"mute\",\"participant\":\"p1\",\"muted\":true}", "{\"type\":\"announce\",\"text\":\"x\"}",
    ]

    @Test(arguments: moderatorRequests)
    func participantsAndScreensAreForbiddenModeratorRequests(request: String) {
        var harness = Harness()
        let (anna, _) = harness.participant()
        let screen = harness.screen()
        #expect(harness.send(request, from: anna).errors(to: anna) == [.forbidden])
        #expect(harness.send(request, from: screen).errors(to: screen) == [.forbidden])
        #expect(harness.records.count == 1) // only Anna's join
    }

    @Test func nextShowsTheStatementsInOrderAndClosesTheOneItLeaves() {
        var harness = Harness()
        let moderator = harness.moderator()
        let (anna, _) = harness.participant()
        let first = harness.send("{\"type\":\"next\",\"ref\":\"n1\"}", from: moderator)
        #expect(first.to(moderator).first == .ack(ref: "n1", id: nil))
        #expect(first.to(anna).contains(.statement(current: CurrentState(statement: "s1", voting: .open, results: .hidden), statements: nil)))
        _ = harness.send("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"agree\"}", from: anna)
        let second = harness.send("{\"type\":\"next\"}", from: moderator)
        // The tally of s1 goes to the moderator once more as its voting closes, then s2 is shown.
        #expect(second.to(moderator).compactMap(\.tallyValue).map(\.statement) == ["s1", "s2"])
        #expect(second.to(moderator).compactMap(\.tallyValue).first?.counts == Counts(agree: 1))
        #expect(!second.to(anna).contains { $0.isTally })
        #expect(harness.room.currentState == CurrentState(statement: "s2", voting: .open, results: .hidden))
        #expect(harness.room.statement("s1")?.closedAt == harness.clock)
        #expect(harness.room.statement("s1")?.presentAtClose == 1)
        _ = harness.send("{\"type\":\"next\"}", from: moderator)
        #expect(harness.send("{\"type\":\"next\",\"ref\":\"end\"}", from: moderator).to(moderator) == [.error(.noMoreStatements, ref: "end")])
        #expect(harness.room.currentStatement == "s3")
    }

    @Test func nextWithNoStatementsAtAllHasNoMoreStatements() {
        var harness = Harness(Harness.configuration(statements: 0))
        let moderator = harness.moderator()
        #expect(harness.send("{\"type\":\"next\"}", from: moderator).errors(to: moderator) == [.noMoreStatements])
    }

    @Test func gotoShowsThatStatementAndOpensVoting() {
        var harness = Harness()
        let moderator = harness.moderator()
        let (anna, _) = harness.participant()
        _ = harness.send("{\"type\":\"goto\",\"statement\":\"s3\"}", from: moderator)
        #expect(harness.room.currentState == CurrentState(statement: "s3", voting: .open, results: .hidden))
        _ = harness.send("{\"type\":\"vote\",\"statement\":\"s3\",\"choice\":\"pass\"}", from: anna)
        _ = harness.send("{\"type\":\"reveal\"}", from: moderator)
        _ = harness.send("{\"type\":\"goto\",\"statement\":\"s1\"}", from: moderator)
        #expect(harness.room.statement("s3")?.closedAt != nil)
        // Going back: voting opens again and the results keep what reveal last set.
        let back = harness.send("{\"type\":\"goto\",\"statement\":\"s3\"}", from: moderator)
        #expect(harness.room.currentState == CurrentState(statement: "s3", voting: .open, results: .visible))
        #expect(back.to(anna).compactMap(\.tallyValue).last?.counts == Counts(pass: 1))
        #expect(harness.room.statement("s3")?.closedAt == nil)
        #expect(harness.send("{\"type\":\"goto\",\"statement\":\"s404\"}", from: moderator).errors(to: moderator) == [.unknownStatement])
        #expect(harness.send("{\"type\":\"goto\"}", from: moderator).errors(to: moderator) == [.unknownStatement])
    }

    @Test func nextAfterGotoContinuesFromTheShownStatement() {
        var harness = Harness()
        let moderator = harness.moderator()
        _ = harness.send("{\"type\":\"goto\",\"statement\":\"s2\"}", from: moderator)
        _ = harness.send("{\"type\":\"next\"}", from: moderator)
        #expect(harness.room.currentStatement == "s3")
    }

    @Test(arguments: ["{\"type\":\"close\"}", "{\"type\":\"open\"}", "{\"type\":\"reveal\",\"visible\":true}", "{\"type\":\"reveal\",\"visible\":false}"])
    func closeOpenAndRevealNeedAShownStatement(request: String) {
        var harness = Harness()
        let moderator = harness.moderator()
        #expect(harness.send(request, from: moderator).errors(to: moderator) == [.noCurrentStatement])
    }

    @Test func closeSendsTheFinalTallyOnceAndOpenReopens() {
        var harness = Harness()
        let moderator = harness.moderator()
        let (anna, _) = harness.participant()
        _ = harness.send("{\"type\":\"next\"}", from: moderator)
        let closed = harness.send("{\"type\":\"close\",\"ref\":\"c\"}", from: moderator)
        #expect(closed.to(moderator).first == .ack(ref: "c", id: nil))
        #expect(closed.to(moderator).filter(\.isTally).count == 1)
        #expect(closed.to(anna) == [.statement(current: CurrentState(statement: "s1", voting: .closed, results: .hidden), statements: nil)])
        // Closing again changes nothing: an ack and no events.
        #expect(harness.send("{\"type\":\"close\",\"ref\":\"c2\"}", from: moderator).map(\.event) == [.ack(ref: "c2", id: nil)])
        let opened = harness.send("{\"type\":\"open\"}", from: moderator)
        #expect(opened.to(anna) == [.statement(current: CurrentState(statement: "s1", voting: .open, results: .hidden), statements: nil)])
        #expect(!opened.contains { $0.event.isTally })
    }

    @Test func revealShowsTheTallyToEveryoneAtOnceAndHideStopsIt() {
        var harness = Harness()
        let moderator = harness.moderator()
        let screen = harness.screen()
        let (anna, _) = harness.participant("Anna", group: "Rijk")
        _ = harness.send("{\"type\":\"next\"}", from: moderator)
        _ = harness.send("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"agree\"}", from: anna)
        let revealed = harness.send("{\"type\":\"reveal\",\"visible\":true}", from: moderator)
        #expect(revealed.recipients(where: \.isTally) == [moderator, screen, anna])
        #expect(revealed.to(screen).first == .statement(current: CurrentState(statement: "s1", voting: .open, results: .visible), statements: nil))
        harness.advance(milliseconds: 300)
        _ = harness.send("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"pass\"}", from: anna)
        #expect(harness.tick().recipients(where: \.isTally) == [moderator, screen, anna])
        _ = harness.send("{\"type\":\"reveal\",\"visible\":false}", from: moderator)
        harness.advance(milliseconds: 300)
        _ = harness.send("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"agree\"}", from: anna)
        #expect(harness.tick().recipients(where: \.isTally) == [moderator])
    }

    @Test func resultsStartHiddenWhenAStatementIsFirstShown() {
        var harness = Harness()
        let moderator = harness.moderator()
        _ = harness.send("{\"type\":\"next\"}", from: moderator)
        _ = harness.send("{\"type\":\"reveal\"}", from: moderator)
        _ = harness.send("{\"type\":\"next\"}", from: moderator)
        #expect(harness.room.currentState?.results == .hidden)
        #expect(harness.room.statement("s1")?.resultsVisible == true)
    }

    @Test func addAppendsAStatementWithAFreshIdAndSendsTheList() {
        var configuration = Harness.configuration()
        configuration.statements = [StatementSpec(id: "s2", text: "Twee"), StatementSpec(id: "s3", text: "Drie")]
        var harness = Harness(configuration)
        let moderator = harness.moderator()
        let (anna, _) = harness.participant()
        let added = harness.send("{\"type\":\"add\",\"text\":\"Nieuw\",\"ref\":\"a\"}", from: moderator)
        #expect(added.to(moderator).first == .ack(ref: "a", id: .statement("s4")))
        let list = [StatementSummary(id: "s2", text: "Twee"), StatementSummary(id: "s3", text: "Drie"), StatementSummary(id: "s4", text: "Nieuw")]
        #expect(added.to(anna) == [.statement(current: nil, statements: list)])
        let again = harness.send("{\"type\":\"add\",\"text\":\"Nog een\",\"ref\":\"b\"}", from: moderator)
        #expect(again.to(moderator).first == .ack(ref: "b", id: .statement("s5")))
        #expect(harness.send("{\"type\":\"add\",\"text\":\" \"}", from: moderator).errors(to: moderator) == [.empty])
        #expect(harness.send("{\"type\":\"add\",\"text\":\"\(String(repeating: "x", count: 501))\"}", from: moderator).errors(to: moderator) == [.tooLong])
        // The added statement is reached by next, in order.
        for _ in 0..<4 { _ = harness.send("{\"type\":\"next\"}", from: moderator) }
        #expect(harness.room.currentStatement == "s5")
    }

    @Test func hideRemovesAMessageForEveryoneOnceAndFromHistory() {
        var harness = Harness()
        let moderator = harness.moderator()
        let (anna, _) = harness.participant()
        _ = harness.send("{\"type\":\"chat\",\"text\":\"spam\"}", from: anna)
        _ = harness.send("{\"type\":\"chat\",\"text\":\"fine\"}", from: anna)
        let hidden = harness.send("{\"type\":\"hide\",\"message\":1,\"ref\":\"h\"}", from: moderator)
        #expect(hidden.to(moderator) == [.ack(ref: "h", id: nil), .hidden(1)])
        #expect(hidden.to(anna) == [.hidden(1)])
        let again = harness.send("{\"type\":\"hide\",\"message\":1,\"ref\":\"h2\"}", from: moderator)
        #expect(again.map(\.event) == [.ack(ref: "h2", id: nil)])
        for id in ["0", "3", "-1", "99999999999"] {
            #expect(harness.send("{\"type\":\"hide\",\"message\":\(id)}", from: moderator).errors(to: moderator) == [.unknownMessage])
        }
        #expect(harness.send("{\"type\":\"hide\"}", from: moderator).errors(to: moderator) == [.unknownMessage])
        let (_, late) = harness.participant("Late")
        #expect(late.chat.map(\.text) == ["fine"])
        #expect(harness.room.chat.map(\.hidden) == [true, false])
    }

    @Test func muteStopsAParticipantsChatOnEveryConnectionAndUnmuteAllowsIt() throws {
        var harness = Harness()
        let moderator = harness.moderator()
        let (anna, welcome) = harness.participant()
        let second = harness.connection()
        _ = harness.send("{\"type\":\"join\",\"resume\":\"\(try #require(welcome.resume))\"}", from: second)
        let muted = harness.send("{\"type\":\"mute\",\"participant\":\"\(welcome.you.id)\",\"ref\":\"m\"}", from: moderator)
        #expect(muted.map(\.event) == [.ack(ref: "m", id: nil)])
        #expect(harness.send("{\"type\":\"chat\",\"text\":\"x\"}", from: anna).errors(to: anna) == [.muted])
        #expect(harness.send("{\"type\":\"chat\",\"text\":\"x\"}", from: second).errors(to: second) == [.muted])
        _ = harness.send("{\"type\":\"mute\",\"participant\":\"\(welcome.you.id)\",\"muted\":false}", from: moderator)
        #expect(harness.send("{\"type\":\"chat\",\"text\":\"x\"}", from: anna).errors(to: anna).isEmpty)
        #expect(harness.send("{\"type\":\"mute\",\"participant\":\"nobody\"}", from: moderator).errors(to: moderator) == [.unknownParticipant])
        #expect(harness.send("{\"type\":\"mute\"}", from: moderator).errors(to: moderator) == [.unknownParticipant])
    }

    @Test func muteOfAParticipantWhoLeftStillWorks() {
        var harness = Harness()
        let moderator = harness.moderator()
        let (anna, welcome) = harness.participant()
        harness.room.disconnect(anna)
        #expect(harness.send("{\"type\":\"mute\",\"participant\":\"\(welcome.you.id)\"}", from: moderator).errors(to: moderator).isEmpty)
        #expect(harness.room.participants[welcome.you.id]?.muted == true)
    }

    @Test func announcePinsForEveryoneAndAnEmptyTextRemovesIt() {
        var harness = Harness()
        let moderator = harness.moderator()
        let (anna, _) = harness.participant()
        let pinned = harness.send("{\"type\":\"announce\",\"text\":\"Pauze tot 14:40\",\"ref\":\"a\"}", from: moderator)
        #expect(pinned.to(moderator) == [.ack(ref: "a", id: nil), .announcement("Pauze tot 14:40")])
        #expect(pinned.to(anna) == [.announcement("Pauze tot 14:40")])
        let (_, late) = harness.participant("Late")
        #expect(late.announcement == "Pauze tot 14:40")
        let removed = harness.send("{\"type\":\"announce\",\"text\":\"\"}", from: moderator)
        #expect(removed.to(anna) == [.announcement(nil)])
        #expect(String(decoding: Event.announcement(nil).encoded(), as: UTF8.self).contains("\"text\":null"))
        #expect(harness.send("{\"type\":\"announce\",\"text\":\"\(String(repeating: "x", count: 501))\"}", from: moderator).errors(to: moderator) == [.tooLong])
    }

    @Test func everyModeratorChangeIsARecord() {
        var harness = Harness()
        let moderator = harness.moderator()
        let (anna, welcome) = harness.participant()
        _ = harness.send("{\"type\":\"chat\",\"text\":\"x\"}", from: anna)
        harness.records.removeAll()
        for request in ["{\"type\":\"next\"}", "{\"type\":\"close\"}", "{\"type\":\"open\"}", "{\"type\":\"reveal\"}",
                        "{\"type\":\"add\",\"text\":\"n\"}", "{\"type\":\"hide\",\"message\":1}",
                        "{\"type\":\"mute\",\"participant\":\"\(welcome.you.id)\"}", "{\"type\":\"announce\",\"text\":\"a\"}",
                        "{\"type\":\"goto\",\"statement\":\"s3\"}"] {
            _ = harness.send(request, from: moderator)
        }
        let at = harness.clock
        #expect(harness.records == [
            .statementShown("s1", at: at, present: 1), .votingChanged("s1", open: false, at: at, present: 1),
            .votingChanged("s1", open: true, at: at, present: 1),
            .resultsRevealed("s1", visible: true, at: at), .statementAdded("s4", text: "n", at: at), .messageHidden(1, at: at),
            .participantMuted(welcome.you.id, muted: true, at: at), .announcementSet("a", at: at), .statementShown("s3", at: at, present: 1),
        ])
    }
}
