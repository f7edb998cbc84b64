import Foundation
import StellingCore
import StellingLoad
import StellingStore
import Testing
@testable import StellingServer
@testable import StellingLWS
import StellingTesting

/// Issue 13 on the real server: the live `erase` request end to end, and names in exports.
@Suite(.timeLimit(.minutes(2)))
struct PrivacyLiveTests {
    @Test func aModeratorErasesAParticipantLive() throws {
        let event = try LiveEvent()
        let moderator = try event.moderatorShowingFirstStatement()
        let (anna, welcome) = try event.participant("Anna", group: "Rijk")
        let (bram, _) = try event.participant("Bram", group: "Gemeente")
        let annaID = try #require(welcome.object("you")?.string("id"))
        anna.send(#"{"type":"vote","statement":"s1","choice":"agree","ref":"v"}"#)
        _ = try anna.expect("ack")
        anna.send(#"{"type":"chat","text":"Anna's geheim","ref":"c"}"#)
        let messageID = try #require(try anna.expect("ack", skipping: ["presence", "tally", "chat"]).int("id"))
        _ = try bram.expect("chat")
        _ = try moderator.expect("chat")

        bram.send(object: [("type", "erase"), ("participant", annaID), ("ref", "no")])
        #expect(try bram.expectError().code == "forbidden")
        moderator.send(#"{"type":"erase","participant":"pNobody","ref":"u"}"#)
        #expect(try moderator.expectError().code == "unknown_participant")

        moderator.send(object: [("type", "erase"), ("participant", annaID), ("ref", "e")])
        #expect(try moderator.expect("ack", skipping: ["presence", "tally", "chat"]).string("ref") == "e")
        #expect(try bram.expect("hidden", skipping: ["presence", "tally", "chat"]).int("message") == messageID)
        #expect(anna.closeCode() == .some(4001))

        // The stored event: no name, no text, the vote still counted for Rijk under another id.
        let exporter = try Exporter(databasePath: event.store.path, names: true)
        let chat = String(decoding: exporter.chatCSV(), as: UTF8.self)
        #expect(!chat.contains("geheim") && !chat.contains("Anna"))
        #expect(chat.contains(Room.erasedText))
        let votes = String(decoding: exporter.votesCSV(), as: UTF8.self)
        #expect(!votes.contains(annaID))
        #expect(votes.contains(",Rijk,agree,"))
    }

    @Test func eventJSONTellsThePagesTheSmallestGroupShown() throws {
        let event = try LiveEvent()
        let response = try event.http("/event.json")
        guard case let .object(fields)? = JSONValue.parse(response.body) else { Issue.record("not JSON"); return }
        #expect(fields["minGroupSize"] == .integer(5))
        #expect(fields["ballot"] == .string("pseudonymous"))
    }
}
