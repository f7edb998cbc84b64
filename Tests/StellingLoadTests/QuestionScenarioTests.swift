import Foundation
import Testing
import StellingCore
@testable import StellingLoad

/// The `questions` scenario (PROTOCOL.md Revision 2) against a real server at a small size.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct QuestionScenarioTests {
    @Test func everyUpvoteIsAcknowledgedAndTheCountsEqualTheAcks() throws {
        let server = try StellingTestServer()
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
        let server = try StellingTestServer()
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
