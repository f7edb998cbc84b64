import Testing
@testable import StellingLoad

/// The moderator's tallies as the ballot checks read them (issue 12's full-house run).
@Suite struct ModeratorTallyTests {
    static func feed(_ moderator: Moderator, _ line: String) {
        let bytes = Array(line.utf8)
        bytes.withUnsafeBytes { _ = moderator.handle(ServerEvent($0)) }
    }

    static func tally(_ statement: String, _ agree: Int) -> String {
        #"{"type":"tally","statement":"\#(statement)","agree":\#(agree),"disagree":0,"pass":0,"voters":\#(agree),"present":9}"#
    }

    @Test func aNewStatementsBaselineIsZeroEvenWhenItsFirstTallyAlreadyHoldsVotes() {
        let moderator = Moderator(client: 0)
        Self.feed(moderator, Self.tally("s0", 7))                 // another statement's tally
        Self.feed(moderator, #"{"type":"ack","ref":"m1"}"#)       // `next` shows s1
        // Under load the console's queue kept only s1's newest tally: it already counts 4 votes.
        Self.feed(moderator, Self.tally("s1", 4))
        Self.feed(moderator, #"{"type":"ack","ref":"m2"}"#)       // `close`
        Self.feed(moderator, Self.tally("s1", 10))
        #expect(moderator.tally(of: "s1", before: 1) == Counts())
        #expect(moderator.tally(of: "s1", after: 2) == Counts(agree: 10, voters: 10))
        // The first tally after `next` would have hidden four votes.
        #expect(moderator.tally(of: "s1", after: 1) == Counts(agree: 4, voters: 4))
    }

    @Test func aStatementShownAgainKeepsWhatItCountedBefore() {
        let moderator = Moderator(client: 0)
        Self.feed(moderator, Self.tally("s1", 10))
        Self.feed(moderator, #"{"type":"ack","ref":"m3"}"#)       // `goto` s1 again
        Self.feed(moderator, Self.tally("s1", 12))
        #expect(moderator.tally(of: "s1", before: 3) == Counts(agree: 10, voters: 10))
        // A command not answered yet has no baseline.
        #expect(moderator.tally(of: "s1", before: 4) == nil)
    }
}
