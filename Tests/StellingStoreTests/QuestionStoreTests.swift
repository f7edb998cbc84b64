import Foundation
import GRDB
import StellingCore
import StellingTesting
import Testing
@testable import StellingStore

/// A session with Revision 2's records: chat modes, questions (anonymous, moderated, live,
/// answered, dismissed) and upvotes.
struct QuestionSession {
    static var configuration: StellingCore.Configuration {
        var configuration = KnownSession.configuration
        configuration.questionsModerated = true
        return configuration
    }

    var driver = Harness(QuestionSession.configuration)
    var anna: ParticipantID
    var bram: ParticipantID

    init() {
        let mod = driver.moderator()
        let (annaConnection, annaWelcome) = driver.participant("Anna", group: "Rijk")
        let annaID = annaWelcome.you.id
        let (bramConnection, bramWelcome) = driver.participant("Bram, \"B\"")
        let bramID = bramWelcome.you.id
        let (ceesConnection, _) = driver.participant("Cees")
        (anna, bram) = (annaID, bramID)
        driver.at(1); driver.expectAck(.chatMode(mode: "slow", seconds: 45), from: mod)
        driver.at(2); driver.expectAck(.ask(text: "Wat kost het?", anonymous: false), from: annaConnection)
        driver.at(3); driver.expectAck(.ask(text: "=HYPERLINK(\"x\")", anonymous: true), from: bramConnection)
        driver.at(4); driver.expectAck(.ask(text: "Off topic", anonymous: false), from: ceesConnection)
        driver.at(5); driver.expectAck(.questionState(question: "q1", state: "open"), from: mod)
        driver.at(6); driver.expectAck(.questionState(question: "q2", state: "open"), from: mod)
        driver.at(7); driver.expectAck(.upvote(question: "q1", up: true), from: bramConnection)
        driver.at(7.1); driver.expectAck(.upvote(question: "q1", up: true), from: ceesConnection)
        driver.at(7.2); driver.expectAck(.upvote(question: "q2", up: true), from: annaConnection)
        driver.at(7.3); driver.expectAck(.upvote(question: "q2", up: false), from: annaConnection)
        driver.at(8); driver.expectAck(.questionState(question: "q1", state: "live"), from: mod)
        driver.at(9); driver.expectAck(.questionState(question: "q2", state: "live"), from: mod)
        driver.at(10); driver.expectAck(.questionState(question: "q3", state: "dismissed"), from: mod)
        driver.at(11); driver.expectAck(.questions(open: false), from: mod)
        driver.at(12); driver.expectAck(.chatMode(mode: "closed", seconds: nil), from: mod)
        driver.at(13); driver.expectAck(.chatMode(mode: "open", seconds: nil), from: mod)
    }

    func store(at path: String) throws {
        let store = try EventStore(path: path, configuration: QuestionSession.configuration)
        var last: UInt64 = 0
        for record in driver.records { last = store.append(record) }
        precondition(store.waitUntilDurable(last, timeout: 10), "records did not become durable")
        store.close()
    }
}

@Suite(.timeLimit(.minutes(1)))
struct QuestionStoreTests {
    let folder = TemporaryFolder()
    static let exportedAt = Instant(milliseconds: 1_610_719_200_000)

    @Test func everyRevision2RecordRoundTripsThroughTheDatabase() throws {
        let session = QuestionSession()
        let kinds = Set(session.driver.records.map(EventStoreTests.kind))
        #expect(kinds.isSuperset(of: ["chatModeSet", "questionAsked", "questionUpvoted", "questionStateSet", "questionsOpened"]))
        try session.store(at: folder.database)
        let reopened = try EventStore(path: folder.database, configuration: QuestionSession.configuration)
        defer { reopened.close() }
        #expect(try reopened.recover() == session.driver.records)
    }

    @Test func aRoomReplayedFromTheDatabaseHasTheSameQuestionsUpvotesAndModes() throws {
        let session = QuestionSession()
        try session.store(at: folder.database)
        let store = try EventStore(path: folder.database, configuration: QuestionSession.configuration)
        defer { store.close() }
        let rebuilt = Room(configuration: QuestionSession.configuration, replaying: try store.recover())
        let original = session.driver.room
        #expect(rebuilt.questions == original.questions)
        #expect(rebuilt.questions.map(\.state) == [.answered, .live, .dismissed])
        #expect(rebuilt.questions.map(\.upvotes) == [2, 0, 0])
        #expect(rebuilt.questionsOpen == false)
        #expect(rebuilt.chatMode == .open)
    }

    @Test func aDatabaseFromBeforeRevision2IsMigratedAndStillExports() throws {
        // Make a version-1 database by hand: only migration v1's table.
        let session = KnownSession()
        try session.store(at: folder.database)
        let queue = try DatabaseQueue(path: folder.database)
        try queue.write { db in
            try db.execute(sql: "ALTER TABLE record DROP COLUMN question; ALTER TABLE record DROP COLUMN state; ALTER TABLE record DROP COLUMN amount")
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = 'revision2'")
        }
        try queue.close()
        // Exports read it read-only as it is.
        let exporter = try Exporter(databasePath: folder.database, exportedAt: Self.exportedAt)
        #expect(parseCSV(exporter.questionsCSV())?.count == 1)
        #expect(parseCSV(exporter.chatCSV())?.count == 5)
        // The server's store migrates it and reads every record back.
        let store = try EventStore(path: folder.database, configuration: KnownSession.configuration)
        defer { store.close() }
        #expect(try store.recover() == session.driver.records)
    }

    @Test func questionsCSVHasOneRowPerQuestionWithoutAnonymousAskers() throws {
        let session = QuestionSession()
        try session.store(at: folder.database)
        let rows = try #require(parseCSV(try Exporter(databasePath: folder.database, exportedAt: Self.exportedAt, names: true).questionsCSV()))
        #expect(rows == [
            ["id", "at", "participant", "name", "text", "upvotes", "state", "answered_at"],
            ["q1", "2021-01-15T13:00:02.000Z", session.anna.rawValue, "Anna", "Wat kost het?", "2", "answered", "2021-01-15T13:00:09.000Z"],
            ["q2", "2021-01-15T13:00:03.000Z", "", "", "'=HYPERLINK(\"x\")", "0", "live", ""],
            ["q3", "2021-01-15T13:00:04.000Z", session.driver.room.questions[2].asker.rawValue, "Cees", "Off topic", "0", "dismissed", ""],
        ])
        // Without names (the default): ids only.
        let plain = try #require(parseCSV(try Exporter(databasePath: folder.database, exportedAt: Self.exportedAt).questionsCSV()))
        #expect(plain.dropFirst().map { $0[3] } == ["", "", ""])
        #expect(plain.dropFirst().map { $0[2] } == rows.dropFirst().map { $0[2] })
    }

    @Test func sessionJSONHasTheQuestions() throws {
        let session = QuestionSession()
        try session.store(at: folder.database)
        let bytes = try Exporter(databasePath: folder.database, exportedAt: Self.exportedAt, names: true).sessionJSON()
        guard case let .object(top)? = JSONValue.parse(bytes), case let .array(questions)? = top["questions"] else {
            Issue.record("no questions array"); return
        }
        #expect(questions.count == 3)
        guard case let .object(first) = questions[0], case let .object(second) = questions[1] else { Issue.record("not objects"); return }
        #expect(first["id"] == .string("q1"))
        #expect(first["from"] == .object(["id": .string(session.anna.rawValue), "name": .string("Anna")]))
        #expect(first["upvotes"] == .integer(2))
        #expect(first["state"] == .string("answered"))
        #expect(first["answered_at"] == .string("2021-01-15T13:00:09.000Z"))
        #expect(second["from"] == .null)
        #expect(second["anonymous"] == .bool(true))
        let plain = try Exporter(databasePath: folder.database, exportedAt: Self.exportedAt).sessionJSON()
        guard case let .object(plainTop)? = JSONValue.parse(plain), case let .array(plainQuestions)? = plainTop["questions"],
              case let .object(plainFirst) = plainQuestions[0] else { Issue.record("no questions without names"); return }
        #expect(plainFirst["from"] == .object(["id": .string(session.anna.rawValue), "name": .null]))
    }

    @Test func theReportHasAQuestionsSectionWithoutDismissedQuestionsOrAnonymousNames() throws {
        let session = QuestionSession()
        try session.store(at: folder.database)
        let html = String(decoding: try Exporter(databasePath: folder.database, exportedAt: Self.exportedAt, names: true).reportHTML(), as: UTF8.self)
        #expect(html.contains("<section class=\"questions\">"))
        #expect(html.contains("Wat kost het?"))
        #expect(html.contains("=HYPERLINK(&quot;x&quot;)"))
        #expect(!html.contains("Off topic"))
        #expect(html.contains("anoniem"))
        #expect(html.range(of: "id=\"question-q1\"")!.lowerBound < html.range(of: "id=\"question-q2\"")!.lowerBound) // most upvoted first
        #expect(html.contains(">Anna<"))
        let plain = String(decoding: try Exporter(databasePath: folder.database, exportedAt: Self.exportedAt).reportHTML(), as: UTF8.self)
        #expect(!plain.contains(">Anna<") && plain.contains(">\(session.anna.rawValue)<"))
    }

    @Test func writeAllWritesQuestionsCSV() throws {
        let session = QuestionSession()
        try session.store(at: folder.database)
        let out = folder.path + "/out"
        try Exporter(databasePath: folder.database, exportedAt: Self.exportedAt).writeAll(to: out)
        #expect(FileManager.default.fileExists(atPath: out + "/questions.csv"))
    }
}

@Suite(.timeLimit(.minutes(1)))
struct QuestionPrivacyTests {
    let folder = TemporaryFolder()

    @Test func erasingAnAskerRemovesTheTextAndNameAndKeepsTheUpvotes() throws {
        var session = QuestionSession()
        let moderator = session.driver.moderator()
        session.driver.at(20)
        session.driver.expectAck(.erase(participant: session.anna.rawValue), from: moderator)
        let erased = session.driver.room.questions[0]
        #expect(erased.text == Room.erasedText)
        #expect(erased.name == "")
        #expect(erased.asker != session.anna)
        #expect(erased.upvotes == 2)
        #expect(erased.state == .answered)
        // The database rows are rewritten too, and a replay gives the same questions.
        try session.store(at: folder.database)
        let store = try EventStore(path: folder.database, configuration: QuestionSession.configuration)
        let records = try store.recover()
        store.close()
        let rebuilt = Room(configuration: QuestionSession.configuration, replaying: records)
        #expect(rebuilt.questions == session.driver.room.questions)
        let csv = String(decoding: try Exporter(databasePath: folder.database, names: true).questionsCSV(), as: UTF8.self)
        #expect(!csv.contains("Wat kost het?") && !csv.contains("Anna"))
        let bytes = try Data(contentsOf: URL(fileURLWithPath: folder.database))
        #expect(bytes.range(of: Data("Wat kost het?".utf8)) == nil)
    }

    @Test func aPurgeEmptiesQuestionTexts() throws {
        let session = QuestionSession()
        try session.store(at: folder.database)
        var random = SystemRandomNumberGenerator()
        let summary = try Privacy.purge(databasePath: folder.database, olderThanDays: nil, now: Instant(milliseconds: 0), random: &random)
        #expect(summary.purged)
        let rows = try #require(parseCSV(try Exporter(databasePath: folder.database, names: true).questionsCSV()))
        #expect(rows.dropFirst().map { $0[4] } == ["", "", ""])
        #expect(rows.dropFirst().map { $0[5] } == ["2", "0", "0"])
    }
}
