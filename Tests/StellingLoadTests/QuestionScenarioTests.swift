import Foundation
import Testing
import StellingCore
@testable import StellingLoad
import StellingTesting

/// The `questions` scenario (PROTOCOL.md Revision 2) against a real server at a small size.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct QuestionScenarioTests {
    @Test func everyUpvoteIsAcknowledgedAndTheCountsEqualTheAcks() throws {
        let server = try LiveEvent.forLoad()
        var options = server.options(clients: 150)
        options.senders = 12
        options.duration = 2
        let report = try LoadScenario.questions.run(options)
        #expect(report.passed, "\(report.text())")
        #expect(report.figure("questions") == 12)
        #expect(report.figure("upvotes_sent") == 150)
        #expect(report.figure("upvotes_acked") == 150)
        let p50 = try #require(report.figure("upvotes_event_p50_ms"))
        let p99 = try #require(report.figure("upvotes_event_p99_ms"))
        #expect(p50 > 0 && p50 <= p99)
        // Paced: a participant gets far fewer upvotes events than there were upvotes.
        let events = try #require(report.figure("upvotes_events"))
        #expect(events >= 1 && events < 150)
    }

    @Test func withOneAskerTheAskerHasNothingToUpvote() throws {
        let server = try LiveEvent.forLoad()
        var options = server.options(clients: 20)
        options.senders = 1
        options.duration = 0.5
        let report = try LoadScenario.questions.run(options)
        #expect(report.passed, "\(report.text())")
        #expect(report.figure("upvotes_acked") == 19)
    }

    @Test func upvotesAndQuestionEventsAreRecognised() {
        let upvotes = Array(#"{"type":"upvotes","counts":{"q1":3}}"#.utf8)
        let question = Array(#"{"type":"question","question":{"id":"q1","state":"dismissed"}}"#.utf8)
        upvotes.withUnsafeBytes { #expect(ServerEvent($0).kind == .upvotes) }
        question.withUnsafeBytes { #expect(ServerEvent($0).kind == .question) }
    }
}

/// Issue 11 section 4: a chat flood against the global chat budget.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct ChatFloodTests {
    @Test func aFloodIsRefusedPastTheBudgetWithRateLimitedOnlyAndListenersKeepUp() throws {
        var limits = Limits(chatBurst: 1000, chatPerSecond: 1000, joinBurst: 100_000)
        limits.chatBudgetPerSecond = 20
        let server = try LiveEvent.forLoad(limits: limits)
        var options = server.options(clients: 100)
        options.senders = 50
        options.rate = 200
        options.duration = 1
        options.flood = true
        let report = try LoadScenario.chat.run(options)
        // Every check but the listeners' p99 (a timing figure for `make bench`, not for a unit test).
        for check in report.checks where !check.name.contains("p99") {
            #expect(check.passed, "\(check.name): \(check.detail)")
        }
        #expect(report.checks.contains { $0.name.contains("p99") })
        let accepted = try #require(report.figure("chat_accepted"))
        let rejected = try #require(report.figure("chat_rejected"))
        #expect(accepted + rejected == 200)
        // The budget: 20 at once and 20 a second (a little more for the time the sends take).
        #expect(accepted >= 20 && accepted <= 50, "\(accepted)")
        #expect(report.figure("lost") == 0)
    }
}
