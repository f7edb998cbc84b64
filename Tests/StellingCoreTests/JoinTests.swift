import Testing
@testable import StellingCore
import StellingTesting

@Suite struct JoinTests {
    @Test func anyRequestBeforeJoinIsNotJoined() {
        var harness = Harness()
        let connection = harness.connection()
        for request in ["{\"type\":\"chat\",\"text\":\"hi\",\"ref\":\"a\"}", "{\"type\":\"next\"}", "{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"agree\"}"] {
            let deliveries = harness.send(request, from: connection)
            #expect(deliveries.errors(to: connection) == [.notJoined])
        }
        let first = harness.send("{\"type\":\"chat\",\"ref\":\"a\"}", from: connection)
        #expect(first.to(connection) == [.error(.notJoined, ref: "a")])
    }

    @Test func aMalformedMessageIsABadRequestEvenBeforeJoin() {
        var harness = Harness()
        let connection = harness.connection()
        #expect(harness.send("{nope", from: connection).errors(to: connection) == [.badRequest])
        #expect(harness.send("{\"type\":\"dance\",\"ref\":\"d\"}", from: connection).to(connection).first.map {
            if case let .error(.badRequest, _, ref) = $0 { ref == "d" } else { false }
        } == true)
    }

    @Test func aParticipantIsWelcomedWithASnapshotAndAResumeToken() {
        var harness = Harness()
        let connection = harness.connection()
        let deliveries = harness.send("{\"type\":\"join\",\"name\":\"  Anna  \",\"group\":\"Gemeente\",\"ref\":\"j\"}", from: connection)
        guard case let .welcome(welcome, ref)? = deliveries.to(connection).first else { Issue.record("\(deliveries)"); return }
        #expect(ref == "j")
        #expect(welcome.you.name == "Anna")
        #expect(welcome.you.role == .participant)
        #expect(welcome.you.group == "Gemeente")
        #expect(welcome.you.id.rawValue.hasPrefix("p"))
        #expect(welcome.resume != nil)
        #expect(welcome.present == 1)
        #expect(welcome.current == nil)
        #expect(welcome.statements.map(\.id) == ["s1", "s2", "s3"])
        #expect(welcome.tally == nil)
        #expect(harness.records.count == 1)
        #expect(harness.room.participants.count == 1)
    }

    @Test func theWelcomeOfANewParticipantWaitsForItsRecord() {
        var harness = Harness()
        let effects = harness.room.receive(Array("{\"type\":\"join\",\"name\":\"Anna\"}".utf8), from: ConnectionID(9), now: harness.clock, random: &harness.random)
        guard case let .persist(.participantJoined(_, name, _, _, _), then)? = effects.first, effects.count == 1 else {
            Issue.record("\(effects)"); return
        }
        #expect(name == "Anna")
        guard case .send(ConnectionID(9), .welcome)? = then.first else { Issue.record("\(then)"); return }
    }

    @Test(arguments: ["", "   ", String(repeating: "x", count: 41), "a\u{0}b", "tab\there", "\u{1B}[31m"])
    func anInvalidNameIsRejected(name: String) {
        var harness = Harness()
        let connection = harness.connection()
        var writer = JSONWriter()
        writer.beginObject(); writer.field("type", "join"); writer.field("name", name); writer.field("ref", "n"); writer.endObject()
        let deliveries = harness.send(String(decoding: writer.bytes, as: UTF8.self), from: connection)
        #expect(deliveries.to(connection) == [.error(.invalidName, ref: "n")])
        #expect(harness.room.present == 0)
    }

    @Test func aMissingNameIsAnInvalidName() {
        var harness = Harness()
        let connection = harness.connection()
        #expect(harness.send("{\"type\":\"join\"}", from: connection).errors(to: connection) == [.invalidName])
    }

    @Test func aNameOfFortyCodePointsWithCombiningMarksIsCountedInCodePoints() {
        var harness = Harness()
        let ok = harness.connection()
        let twenty = String(repeating: "e\u{301}", count: 20) // 20 characters, 40 code points
        #expect(harness.send("{\"type\":\"join\",\"name\":\"\(twenty)\"}", from: ok).errors(to: ok).isEmpty)
        let tooLong = harness.connection()
        let twentyOne = String(repeating: "e\u{301}", count: 20) + "x"
        #expect(harness.send("{\"type\":\"join\",\"name\":\"\(twentyOne)\"}", from: tooLong).errors(to: tooLong) == [.invalidName])
    }

    @Test func anUnknownGroupIsRejectedAndAMissingGroupIsAllowed() {
        var harness = Harness()
        let wrong = harness.connection()
        #expect(harness.send("{\"type\":\"join\",\"name\":\"A\",\"group\":\"Ministerie\"}", from: wrong).errors(to: wrong) == [.invalidGroup])
        let (_, welcome) = harness.participant("B")
        #expect(welcome.you.group == nil)
    }

    @Test func aGroupIsIgnoredWhenTheEventHasNone() {
        var harness = Harness(Harness.configuration(groups: []))
        let (_, welcome) = harness.participant("A", group: "Whatever")
        #expect(welcome.you.group == nil)
        #expect(welcome.groups.isEmpty)
    }

    @Test func aResumeTokenRestoresTheSameParticipantWhateverTheJoinSays() throws {
        var harness = Harness()
        let moderator = harness.moderator()
        _ = harness.send("{\"type\":\"next\"}", from: moderator)
        let (first, welcome) = harness.participant("Anna", group: "Gemeente")
        _ = harness.send("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"disagree\"}", from: first)
        _ = harness.send("{\"type\":\"mute\",\"participant\":\"\(welcome.you.id)\"}", from: moderator)
        harness.room.disconnect(first)
        let token = try #require(welcome.resume)
        let second = harness.connection()
        let recordsBefore = harness.records.count
        let deliveries = harness.send("{\"type\":\"join\",\"name\":\"\",\"group\":\"Nope\",\"resume\":\"\(token)\"}", from: second)
        guard case let .welcome(again, _)? = deliveries.to(second).first else { Issue.record("\(deliveries)"); return }
        #expect(again.you == welcome.you)
        #expect(again.resume == token)
        #expect(again.myVotes.map(\.statement) == ["s1"])
        #expect(again.myVotes.map(\.choice) == [.disagree])
        #expect(harness.records.count == recordsBefore) // a resume stores nothing new
        #expect(harness.send("{\"type\":\"chat\",\"text\":\"hallo\"}", from: second).errors(to: second) == [.muted])
    }

    @Test func anUnknownResumeTokenMakesANewParticipant() {
        var harness = Harness()
        let (_, first) = harness.participant("Anna")
        let connection = harness.connection()
        let deliveries = harness.send("{\"type\":\"join\",\"name\":\"Bert\",\"resume\":\"not-a-token\"}", from: connection)
        guard case let .welcome(welcome, _)? = deliveries.to(connection).first else { Issue.record("\(deliveries)"); return }
        #expect(welcome.you.name == "Bert")
        #expect(welcome.you.id != first.you.id)
        #expect(welcome.resume != "not-a-token")
    }

    @Test func aSecondJoinOnAJoinedConnectionIsABadRequest() {
        var harness = Harness()
        let (connection, _) = harness.participant()
        #expect(harness.send("{\"type\":\"join\",\"name\":\"Again\",\"ref\":\"2\"}", from: connection).errors(to: connection) == [.badRequest])
        #expect(harness.room.participants.count == 1)
    }

    @Test(arguments: ["{\"type\":\"join\",\"role\":\"moderator\",\"key\":\"wrong\",\"name\":\"Eve\"}",
                      "{\"type\":\"join\",\"role\":\"moderator\",\"name\":\"Eve\"}",
                      "{\"type\":\"join\",\"role\":\"moderator\",\"key\":\"\(Harness.key)x\"}"])
    func aWrongModeratorKeyIsUnauthorizedAndCloses1008(request: String) {
        var harness = Harness()
        let connection = harness.connection()
        let effects = harness.room.receive(Array(request.utf8), from: connection, now: harness.clock, random: &harness.random)
        #expect(effects == [.send(connection, .error(.unauthorized, ref: nil)), .close(connection, code: .policyViolation)])
        #expect(harness.room.role(of: connection) == nil)
    }

    @Test func withNoConfiguredKeyNoOneIsModerator() {
        var configuration = Harness.configuration()
        configuration.moderatorKey = nil
        var harness = Harness(configuration)
        let connection = harness.connection()
        #expect(harness.send("{\"type\":\"join\",\"role\":\"moderator\",\"key\":\"\"}", from: connection).errors(to: connection) == [.unauthorized])
    }

    @Test func moderatorsAndScreensAreWelcomedWithoutResumeAndDoNotCountAsPresent() {
        var harness = Harness()
        _ = harness.participant()
        let moderator = harness.connection()
        let deliveries = harness.send("{\"type\":\"join\",\"role\":\"moderator\",\"key\":\"\(Harness.key)\",\"name\":\"Ruben\"}", from: moderator)
        guard case let .welcome(welcome, _)? = deliveries.first?.event else { Issue.record("\(deliveries)"); return }
        #expect(welcome.you.role == .moderator)
        #expect(welcome.you.name == "Ruben")
        #expect(welcome.resume == nil)
        #expect(welcome.present == 1)
        let screen = harness.connection()
        guard case let .welcome(screenWelcome, _)? = harness.send("{\"type\":\"join\",\"role\":\"screen\"}", from: screen).first?.event else {
            Issue.record("no screen welcome"); return
        }
        #expect(screenWelcome.you.role == .screen)
        #expect(screenWelcome.resume == nil)
        #expect(harness.room.present == 1)
    }

    @Test func aModeratorWithAnInvalidNameIsRejected() {
        var harness = Harness()
        let connection = harness.connection()
        let request = "{\"type\":\"join\",\"role\":\"moderator\",\"key\":\"\(Harness.key)\",\"name\":\"   \"}"
        #expect(harness.send(request, from: connection).errors(to: connection) == [.invalidName])
    }

    @Test func aParticipantConnectedTwiceCountsOnceAndBothConnectionsReceiveEvents() throws {
        var harness = Harness()
        let (first, welcome) = harness.participant("Anna")
        let second = harness.connection()
        let token = try #require(welcome.resume)
        let deliveries = harness.send("{\"type\":\"join\",\"resume\":\"\(token)\"}", from: second)
        guard case let .welcome(again, _)? = deliveries.first?.event else { Issue.record("\(deliveries)"); return }
        #expect(again.present == 1)
        #expect(harness.room.present == 1)
        let (other, _) = harness.participant("Bert")
        let chat = harness.send("{\"type\":\"chat\",\"text\":\"hoi\"}", from: other)
        #expect(chat.recipients(where: \.isChat) == [first, second, other])
        harness.room.disconnect(first)
        #expect(harness.room.present == 2)
        harness.room.disconnect(second)
        #expect(harness.room.present == 1)
    }
}
