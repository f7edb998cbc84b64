import Testing
@testable import StellingCore
import StellingTesting

@Suite struct ChatTests {
    @Test func aChatMessageIsStoredAcknowledgedWithItsIdAndBroadcastToEveryone() {
        var harness = Harness()
        let moderator = harness.moderator()
        let screen = harness.screen()
        let (anna, welcome) = harness.participant("Anna")
        let (bert, _) = harness.participant("Bert")
        _ = harness.send("{\"type\":\"next\"}", from: moderator)
        let text = "  Eens, maar 😀\nwie betaalt?  "
        var writer = JSONWriter()
        writer.beginObject(); writer.field("type", "chat"); writer.field("text", text); writer.field("ref", "c1"); writer.endObject()
        let deliveries = harness.send(String(decoding: writer.bytes, as: UTF8.self), from: anna)
        let message = ChatMessage(id: 1, from: Author(id: welcome.you.id, name: "Anna", role: .participant), text: text,
                                  at: harness.clock, statement: "s1")
        #expect(deliveries.to(anna) == [.ack(ref: "c1", id: .message(1)), .chat(message)])
        #expect(deliveries.recipients(where: \.isChat) == [moderator, screen, anna, bert])
        #expect(harness.records.last == .chatPosted(message))
    }

    @Test func aChatBroadcastWaitsForItsRecord() {
        var harness = Harness()
        let (anna, _) = harness.participant()
        let effects = harness.room.receive(Array("{\"type\":\"chat\",\"text\":\"x\",\"ref\":\"r\"}".utf8), from: anna, now: harness.clock, random: &harness.random)
        #expect(effects.count == 1)
        guard case let .persist(.chatPosted, then)? = effects.first else { Issue.record("\(effects)"); return }
        #expect(then.count == 2)
    }

    @Test func moderatorsMayChatAndShowTheirRole() {
        var harness = Harness()
        let moderator = harness.moderator("Ruben")
        let deliveries = harness.send("{\"type\":\"chat\",\"text\":\"Welkom allemaal\"}", from: moderator)
        guard case let .chat(message)? = deliveries.to(moderator).first else { Issue.record("\(deliveries)"); return }
        #expect(message.from.role == .moderator)
        #expect(message.from.name == "Ruben")
        #expect(message.statement == nil)
    }

    @Test func screensMayNotChat() {
        var harness = Harness()
        let screen = harness.screen()
        #expect(harness.send("{\"type\":\"chat\",\"text\":\"hi\"}", from: screen).errors(to: screen) == [.forbidden])
    }

    @Test(arguments: ["{\"type\":\"chat\"}", "{\"type\":\"chat\",\"text\":\"\"}", "{\"type\":\"chat\",\"text\":\" \\n\\t \"}", "{\"type\":\"chat\",\"text\":null}"])
    func emptyTextIsRejected(request: String) {
        var harness = Harness()
        let (anna, _) = harness.participant()
        #expect(harness.send(request, from: anna).errors(to: anna) == [.empty])
        #expect(harness.room.chat.isEmpty)
    }

    @Test(arguments: [
        (String(repeating: "a", count: 500), true),
        (String(repeating: "a", count: 501), false),
        (String(repeating: "é", count: 500), true), // 500 code points, 1000 bytes
        (String(repeating: "e\u{301}", count: 250), true), // 250 characters, 500 code points
        (String(repeating: "e\u{301}", count: 251), false), // 251 characters, 502 code points
        (String(repeating: "😀", count: 500), true),
    ])
    func chatLengthIsCountedInCodePoints(text: String, accepted: Bool) {
        var harness = Harness()
        let (anna, _) = harness.participant()
        let errors = harness.send("{\"type\":\"chat\",\"text\":\"\(text)\"}", from: anna).errors(to: anna)
        #expect(errors == (accepted ? [] : [.tooLong]))
    }

    @Test func chatIsRateLimitedByABurstOfFiveThenOneASecond() {
        var harness = Harness()
        let (anna, _) = harness.participant()
        for index in 0..<5 {
            #expect(harness.send("{\"type\":\"chat\",\"text\":\"m\(index)\"}", from: anna).errors(to: anna).isEmpty)
        }
        #expect(harness.send("{\"type\":\"chat\",\"text\":\"too fast\",\"ref\":\"x\"}", from: anna).to(anna)
                == [.rateLimited(retryAfterMilliseconds: 1000, message: ErrorCode.rateLimited.defaultMessage, ref: "x")])
        harness.advance(milliseconds: 1000)
        #expect(harness.send("{\"type\":\"chat\",\"text\":\"later\"}", from: anna).errors(to: anna).isEmpty)
        #expect(harness.send("{\"type\":\"chat\",\"text\":\"again\"}", from: anna).errors(to: anna) == [.rateLimited])
        #expect(harness.room.chat.count == 6)
    }

    @Test func invalidRequestsSpendNoTokens() {
        var harness = Harness()
        let (anna, _) = harness.participant()
        for _ in 0..<20 { _ = harness.send("{\"type\":\"chat\",\"text\":\"\"}", from: anna) }
        for _ in 0..<20 { _ = harness.send("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"agree\"}", from: anna) } // voting closed
        for index in 0..<5 {
            #expect(harness.send("{\"type\":\"chat\",\"text\":\"m\(index)\"}", from: anna).errors(to: anna).isEmpty)
        }
    }

    @Test func rateLimitsSurviveReconnects() throws {
        var harness = Harness()
        let (anna, welcome) = harness.participant()
        for index in 0..<5 { _ = harness.send("{\"type\":\"chat\",\"text\":\"m\(index)\"}", from: anna) }
        harness.room.disconnect(anna)
        let again = harness.connection()
        _ = harness.send("{\"type\":\"join\",\"resume\":\"\(try #require(welcome.resume))\"}", from: again)
        #expect(harness.send("{\"type\":\"chat\",\"text\":\"still fast\"}", from: again).errors(to: again) == [.rateLimited])
    }

    @Test func moderatorsAreRateLimitedToo() {
        var harness = Harness()
        let moderator = harness.moderator()
        for index in 0..<5 { _ = harness.send("{\"type\":\"chat\",\"text\":\"m\(index)\"}", from: moderator) }
        #expect(harness.send("{\"type\":\"chat\",\"text\":\"m\"}", from: moderator).errors(to: moderator) == [.rateLimited])
    }

    @Test func configuredLimitsApply() {
        var configuration = Harness.configuration()
        configuration.limits.chatChars = 10
        configuration.limits.chatBurst = 1
        var harness = Harness(configuration)
        let (anna, _) = harness.participant()
        #expect(harness.send("{\"type\":\"chat\",\"text\":\"12345678901\"}", from: anna).errors(to: anna) == [.tooLong])
        #expect(harness.send("{\"type\":\"chat\",\"text\":\"1234567890\"}", from: anna).errors(to: anna).isEmpty)
        #expect(harness.send("{\"type\":\"chat\",\"text\":\"again\"}", from: anna).errors(to: anna) == [.rateLimited])
    }
}

@Suite struct VoteTests {
    private func opened(groups: [String] = ["Rijk", "Provincie", "Gemeente"]) -> (Harness, ConnectionID) {
        var harness = Harness(Harness.configuration(groups: groups))
        let moderator = harness.moderator()
        _ = harness.send("{\"type\":\"next\"}", from: moderator)
        return (harness, moderator)
    }

    @Test func aVoteIsRecordedAndAcknowledgedOnlyAfterItsRecord() {
        var (harness, _) = opened()
        let (anna, welcome) = harness.participant()
        let effects = harness.room.receive(Array("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"agree\",\"ref\":\"v\"}".utf8),
                                           from: anna, now: harness.clock, random: &harness.random)
        #expect(effects == [.persist(.voteCast(statement: "s1", participant: welcome.you.id, choice: .agree, at: harness.clock),
                                     then: [.send(anna, .ack(ref: "v", id: nil))])])
        #expect(harness.room.tally(of: "s1")?.counts == Counts(agree: 1))
    }

    @Test func aVoteWithoutRefIsStoredButNotAcknowledged() {
        var (harness, _) = opened()
        let (anna, _) = harness.participant()
        #expect(harness.send("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"pass\"}", from: anna).to(anna).isEmpty)
        #expect(harness.room.tally(of: "s1")?.counts == Counts(pass: 1))
    }

    @Test func aSecondVoteReplacesTheFirst() {
        var (harness, _) = opened()
        let (anna, _) = harness.participant("Anna", group: "Rijk")
        for choice in ["agree", "disagree", "disagree", "pass"] {
            _ = harness.send("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"\(choice)\"}", from: anna)
        }
        let tally = harness.room.tally(of: "s1")
        #expect(tally?.counts == Counts(pass: 1))
        #expect(tally?.voters == 1)
        #expect(tally?.groups?.first { $0.name == "Rijk" }?.counts == Counts(pass: 1))
    }

    @Test(arguments: [
        ("{\"type\":\"vote\",\"statement\":\"s9\",\"choice\":\"agree\"}", ErrorCode.unknownStatement),
        ("{\"type\":\"vote\",\"choice\":\"agree\"}", .unknownStatement),
        ("{\"type\":\"vote\",\"statement\":\"s2\",\"choice\":\"agree\"}", .votingClosed),
        ("{\"type\":\"vote\",\"statement\":\"s1\"}", .invalidChoice),
        ("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"yes\"}", .invalidChoice),
        ("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"Agree\"}", .invalidChoice),
    ])
    func invalidVotesAreRejected(request: String, code: ErrorCode) {
        var (harness, _) = opened()
        let (anna, _) = harness.participant()
        #expect(harness.send(request, from: anna).errors(to: anna) == [code])
        #expect(harness.room.tally(of: "s1")?.voters == 0)
    }

    @Test func votesBeforeAnyStatementOrAfterCloseAreVotingClosed() {
        var harness = Harness()
        let moderator = harness.moderator()
        let (anna, _) = harness.participant()
        #expect(harness.send("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"agree\"}", from: anna).errors(to: anna) == [.votingClosed])
        _ = harness.send("{\"type\":\"next\"}", from: moderator)
        _ = harness.send("{\"type\":\"close\"}", from: moderator)
        #expect(harness.send("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"agree\"}", from: anna).errors(to: anna) == [.votingClosed])
        _ = harness.send("{\"type\":\"open\"}", from: moderator)
        #expect(harness.send("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"agree\"}", from: anna).errors(to: anna).isEmpty)
        _ = harness.send("{\"type\":\"next\"}", from: moderator)
        #expect(harness.send("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"pass\"}", from: anna).errors(to: anna) == [.votingClosed])
        #expect(harness.room.tally(of: "s1")?.counts == Counts(agree: 1))
    }

    @Test func moderatorsAndScreensMayNotVote() {
        var (harness, moderator) = opened()
        let screen = harness.screen()
        for connection in [moderator, screen] {
            #expect(harness.send("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"agree\"}", from: connection).errors(to: connection) == [.forbidden])
        }
    }

    @Test func votesAreRateLimitedByABurstOfTenThenTwoASecond() {
        var (harness, _) = opened()
        let (anna, _) = harness.participant()
        for _ in 0..<10 {
            #expect(harness.send("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"agree\"}", from: anna).errors(to: anna).isEmpty)
        }
        #expect(harness.send("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"pass\"}", from: anna).errors(to: anna) == [.rateLimited])
        harness.advance(milliseconds: 500)
        #expect(harness.send("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"pass\"}", from: anna).errors(to: anna).isEmpty)
        #expect(harness.send("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"disagree\"}", from: anna).errors(to: anna) == [.rateLimited])
        #expect(harness.room.tally(of: "s1")?.counts == Counts(pass: 1))
    }
}
