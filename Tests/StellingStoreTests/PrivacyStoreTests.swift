import Foundation
import GRDB
import StellingCore
import Testing
@testable import StellingStore
import StellingTesting

/// Issue 13 in the store: erasure and purge leave no old text in the file's bytes.
@Suite(.timeLimit(.minutes(1)))
struct PrivacyStoreTests {
    let folder = TemporaryFolder()
    let session = KnownSession()
    static let exportedAt = Instant(rfc3339: "2021-01-15T14:00:00.000Z")!

    /// The bytes of the database and of its `-wal` (when there is one).
    func fileBytes() throws -> [UInt8] {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: folder.database)))
        if let wal = FileManager.default.contents(atPath: folder.database + "-wal") { bytes += [UInt8](wal) }
        return bytes
    }

    func contains(_ bytes: [UInt8], _ text: String) -> Bool {
        let needle = Array(text.utf8)
        guard !needle.isEmpty, bytes.count >= needle.count else { return false }
        for start in 0...(bytes.count - needle.count) where bytes[start] == needle[0] {
            if Array(bytes[start..<start + needle.count]) == needle { return true }
        }
        return false
    }

    func exporter() throws -> Exporter {
        try Exporter(databasePath: folder.database, exportedAt: Self.exportedAt, names: true)
    }

    // MARK: The database holds no address

    @Test func theDatabaseHasNoColumnForAnAddressOrAUserAgent() throws {
        try session.store(at: folder.database)
        let queue = try DatabaseQueue(path: folder.database)
        defer { try? queue.close() }
        let columns = try queue.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'").flatMap { table in
                try db.columns(in: table).map { "\(table).\($0.name)".lowercased() }
            }
        }
        #expect(!columns.isEmpty)
        let words = Set(columns.flatMap { $0.split(whereSeparator: { $0 == "." || $0 == "_" }).map(String.init) })
        #expect(words.contains("participant"), "the check reads the real columns")
        for forbidden in ["ip", "ipv4", "ipv6", "addr", "address", "peer", "agent", "useragent", "host", "remote", "origin"] {
            #expect(!words.contains(forbidden), "a column names \(forbidden): \(columns)")
        }
        #expect(!contains(try fileBytes(), "127.0.0.1"))
    }

    // MARK: Erasure on the live store

    @Test func aLiveErasureLeavesNoNameTextOrTokenInTheFileAndKeepsTheCounts() throws {
        var driver = session.driver
        let resultsBefore = try { () throws -> [UInt8] in
            try session.store(at: folder.database)
            return try exporter().resultsCSV()
        }()
        let tokenHash = try #require(driver.records.compactMap { record -> String? in
            if case let .participantJoined(id, _, _, hash, _) = record, id == session.anna { hash } else { nil }
        }.first)
        #expect(contains(try fileBytes(), "Mooi, zeg"))
        let moderator = driver.moderator()
        driver.expectAck(.erase(participant: session.anna.rawValue), from: moderator)
        let erasure = try #require(driver.records.last)

        let store = try EventStore(path: folder.database, configuration: KnownSession.configuration)
        let sequence = store.append(erasure)
        #expect(store.waitUntilDurable(sequence, timeout: 10))
        store.close()

        let bytes = try fileBytes()
        #expect(!contains(bytes, "Anna"))
        #expect(!contains(bytes, "Mooi, zeg"))
        #expect(!contains(bytes, tokenHash))
        #expect(!contains(bytes, session.anna.rawValue))
        #expect(contains(bytes, "Bram"), "the others stay")
        #expect(contains(bytes, Room.erasedText))

        let exported = try exporter()
        #expect(exported.resultsCSV() == resultsBefore, "results.csv stays exactly")
        let chat = try #require(parseCSV(exported.chatCSV()))
        #expect(chat[1][4] == "" && chat[1][6] == Room.erasedText && chat[1][7] == "true")
        // The rebuilt room has the erased person under their new id, with the same group.
        let reopened = try EventStore(path: folder.database, configuration: KnownSession.configuration)
        let room = Room(configuration: KnownSession.configuration, replaying: try reopened.recover())
        reopened.close()
        #expect(room.participants[session.anna] == nil)
        #expect(room.participants.values.filter { $0.name.isEmpty }.map(\.group) == ["Rijk"])
        #expect(room.statements.map(\.counts) == driver.room.statements.map(\.counts))
        #expect(room.statements.map(\.groupCounts) == driver.room.statements.map(\.groupCounts))
    }

    // MARK: stelling erase

    @Test func theOfflineErasureRemovesTheParticipantAndKeepsTheCounts() throws {
        try session.store(at: folder.database)
        let resultsBefore = try exporter().resultsCSV()
        let reportBefore = try exporter().reportHTML()
        var random = SeededRandom(seed: 7)
        let replacement = try Privacy.erase(databasePath: folder.database, participant: session.bram.rawValue,
                                            at: Self.exportedAt, random: &random)
        #expect(replacement.rawValue.hasPrefix("x"))
        let bytes = try fileBytes()
        #expect(!contains(bytes, "Bram"))
        #expect(!contains(bytes, "=1+1"))
        #expect(!contains(bytes, session.bram.rawValue))
        #expect(contains(bytes, "Anna"))
        let exported = try exporter()
        #expect(exported.resultsCSV() == resultsBefore)
        let votes = try #require(parseCSV(exported.votesCSV()))
        #expect(votes.filter { $0[1] == replacement.rawValue }.map { [$0[0], $0[2], $0[3]] } == [["s1", "Gemeente", "disagree"], ["s2", "Gemeente", "agree"]])
        // The report's group tables are the same; only the chat changed.
        let groups = { (html: [UInt8]) in String(decoding: html, as: UTF8.self).components(separatedBy: "<section class=\"chat\">")[0] }
        #expect(groups(exported.reportHTML()).replacingOccurrences(of: Self.exportedAt.rfc3339, with: "") ==
                groups(reportBefore).replacingOccurrences(of: Self.exportedAt.rfc3339, with: ""))
    }

    @Test func theOfflineErasureRefusesAnUnknownId() throws {
        try session.store(at: folder.database)
        var random = SeededRandom()
        #expect(throws: StoreError.unknownParticipant("pNobody")) {
            try Privacy.erase(databasePath: folder.database, participant: "pNobody", at: Self.exportedAt, random: &random)
        }
        #expect(throws: StoreError.unknownParticipant(session.moderator.rawValue)) {
            try Privacy.erase(databasePath: folder.database, participant: session.moderator.rawValue, at: Self.exportedAt, random: &random)
        }
    }

    // MARK: Purge

    @Test func aPurgeLeavesNoPersonalDataInTheFileAndTheAggregatesExactly() throws {
        try session.store(at: folder.database)
        let before = try exporter()
        let (results, votes) = (before.resultsCSV(), try #require(parseCSV(before.votesCSV())))
        let session = try #require(JSONValue.parse(before.sessionJSON()))
        let later = Instant(milliseconds: Self.exportedAt.milliseconds + 31 * 86_400_000)
        var random = SeededRandom(seed: 3)
        let summary = try Privacy.purge(databasePath: folder.database, olderThanDays: 30, now: later, random: &random)
        #expect(summary == Privacy.PurgeSummary(participants: 5, messages: 4, purged: true))

        let bytes = try fileBytes()
        for secret in ["Anna", "Bram", "Cees", "Dora", "Ruben", "Mooi, zeg", "=1+1", "-5 graden", "<script>",
                       self.session.anna.rawValue, self.session.moderator.rawValue] {
            #expect(!contains(bytes, secret), "\(secret) is still in the file")
        }
        let after = try exporter()
        #expect(after.resultsCSV() == results)
        let votesAfter = try #require(parseCSV(after.votesCSV()))
        #expect(votesAfter.map { [$0[0], $0[2], $0[3], $0[4]] } == votes.map { [$0[0], $0[2], $0[3], $0[4]] })
        #expect(Set(votesAfter.dropFirst().map { $0[1] }).isDisjoint(with: Set(votes.dropFirst().map { $0[1] })))
        // Tallies in session.json are the same, group counts included.
        guard case let .object(old) = session, case let .object(new)? = JSONValue.parse(after.sessionJSON()) else {
            Issue.record("session.json"); return
        }
        #expect(old["statements"] == new["statements"])
        let chat = try #require(parseCSV(after.chatCSV()))
        #expect(chat.dropFirst().allSatisfy { $0[4] == "" && $0[6] == "" })
        #expect(chat.dropFirst().map { $0[7] } == ["false", "false", "false", "true"], "hidden marks stay")
    }

    @Test func aPurgeLeavesAnEventThatIsNotOldEnoughAlone() throws {
        try session.store(at: folder.database)
        let soon = Instant(milliseconds: Self.exportedAt.milliseconds + 29 * 86_400_000)
        var random = SeededRandom()
        #expect(try Privacy.purge(databasePath: folder.database, olderThanDays: 30, now: soon, random: &random).purged == false)
        #expect(contains(try fileBytes(), "Anna"))
    }

    @Test func aSecondPurgeFindsNothingToDo() throws {
        try session.store(at: folder.database)
        var random = SeededRandom()
        #expect(try Privacy.purge(databasePath: folder.database, olderThanDays: nil, now: Self.exportedAt, random: &random).purged)
        #expect(try Privacy.purge(databasePath: folder.database, olderThanDays: nil, now: Self.exportedAt, random: &random).purged == false)
    }

    @Test func purgingAFileThatIsNoEventDatabaseSaysSo() throws {
        var random = SeededRandom()
        #expect(throws: StoreError.self) {
            try Privacy.purge(databasePath: folder.path + "/missing.sqlite", olderThanDays: nil, now: Self.exportedAt, random: &random)
        }
    }

    // MARK: Secret ballot

    @Test func aSealedBallotKeepsOnlyCountsInTheDatabaseAndSurvivesARestart() throws {
        var configuration = KnownSession.configuration
        configuration.privacy.ballot = .secret
        var driver = Harness(configuration)
        let moderator = driver.moderator()
        let (anna, annaWelcome) = driver.participant("Anna", group: "Rijk")
        let annaID = annaWelcome.you.id
        let (bram, _) = driver.participant("Bram", group: "Gemeente")
        let (cees, _) = driver.participant("Cees")
        driver.expectAck(.next, from: moderator)
        driver.expectAck(.vote(statement: "s1", choice: "agree"), from: anna)
        driver.expectAck(.vote(statement: "s1", choice: "disagree"), from: anna)
        driver.expectAck(.vote(statement: "s1", choice: "disagree"), from: bram)
        driver.expectAck(.vote(statement: "s1", choice: "pass"), from: cees)
        driver.expectAck(.close, from: moderator)
        driver.expectAck(.open, from: moderator)
        let (dora, _) = driver.participant("Dora", group: "Rijk")
        driver.expectAck(.vote(statement: "s1", choice: "agree"), from: dora)
        driver.expectAck(.next, from: moderator)
        driver.expectAck(.vote(statement: "s2", choice: "agree"), from: anna)

        let store = try EventStore(path: folder.database, configuration: configuration)
        var last: UInt64 = 0
        for record in driver.records { last = store.append(record) }
        #expect(store.waitUntilDurable(last, timeout: 10))
        let recovered = try store.recover()
        store.close()

        let queue = try DatabaseQueue(path: folder.database)
        let (s1Votes, s2Votes, counts, voters) = try queue.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM record WHERE kind = 'vote_cast' AND statement = 's1'") ?? -1,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM record WHERE kind = 'vote_cast' AND statement = 's2'") ?? -1,
             try Row.fetchAll(db, sql: "SELECT group_name, choice, count FROM sealed_count WHERE statement = 's1'")
                .map { "\($0[0] as String)/\($0[1] as String)/\($0[2] as Int)" },
             try String.fetchAll(db, sql: "SELECT participant FROM sealed_voter WHERE statement = 's1'"))
        }
        try queue.close()
        #expect(s1Votes == 0, "no row says who chose what on the sealed statement")
        #expect(s2Votes == 1, "the open statement keeps its votes until it closes")
        #expect(Set(counts) == ["Rijk/disagree/1", "Gemeente/disagree/1", "/pass/1", "Rijk/agree/1"])
        #expect(voters.count == 4 && voters.contains(annaID.rawValue))
        #expect(voters == voters.sorted(), "voters are kept in id order, not in the order they voted")

        let room = Room(configuration: configuration, replaying: recovered)
        #expect(room.statement("s1")?.counts == driver.room.statement("s1")?.counts)
        #expect(room.statement("s1")?.groupCounts == driver.room.statement("s1")?.groupCounts)
        #expect(room.statement("s1")?.sealedVoters == driver.room.statement("s1")?.sealedVoters)
        #expect(room.statement("s2")?.votes == driver.room.statement("s2")?.votes)

        let exported = try exporter()
        let votes = try #require(parseCSV(exported.votesCSV()))
        #expect(votes.dropFirst().map { $0[0] } == ["s2"])
        let results = try #require(parseCSV(exported.resultsCSV()))
        #expect(Array(results[1][3...6]) == ["1", "2", "1", "4"])
        let report = String(decoding: exported.reportHTML(), as: UTF8.self)
        #expect(report.contains("Geheime stemming"))

        // Erasing and purging reach the list of voters too; the counts stay.
        var random = SeededRandom(seed: 11)
        let replacement = try Privacy.erase(databasePath: folder.database, participant: annaID.rawValue, at: Self.exportedAt, random: &random)
        #expect(try sealedVoters().contains(replacement.rawValue))
        #expect(try !sealedVoters().contains(annaID.rawValue))
        #expect(try Privacy.purge(databasePath: folder.database, olderThanDays: nil, now: Self.exportedAt, random: &random).purged)
        #expect(try sealedVoters().allSatisfy { $0.hasPrefix("x") } && sealedVoters().count == 4)
        #expect(try exporter().resultsCSV() == exported.resultsCSV())
    }

    func sealedVoters() throws -> [String] {
        let queue = try DatabaseQueue(path: folder.database)
        defer { try? queue.close() }
        return try queue.read { db in try String.fetchAll(db, sql: "SELECT participant FROM sealed_voter") }
    }

    // MARK: Questions (Revision 2)

    @Test func questionsLoseTheirAskersNameByDefaultAndTheirTextOnErasureAndPurge() throws {
        var session = QuestionSession()
        try session.store(at: folder.database)
        let plain = try Exporter(databasePath: folder.database, exportedAt: Self.exportedAt)
        let rows = try #require(parseCSV(plain.questionsCSV()))
        #expect(rows.dropFirst().map { $0[3] } == ["", "", ""], "no names unless asked for")
        #expect(rows[1][2] == session.anna.rawValue, "ids stay")

        // Anna asked q1 (answered) and upvoted nothing that counts; erase her live.
        let moderator = session.driver.moderator()
        session.driver.expectAck(.erase(participant: session.anna.rawValue), from: moderator)
        let erasure = try #require(session.driver.records.last)
        let question = session.driver.room.questions[0]
        #expect(question.text == Room.erasedText && question.name == "" && question.state == .answered, "an answered question stays answered")
        #expect(question.upvotes == 2, "upvotes on it stay counted")
        let store = try EventStore(path: folder.database, configuration: QuestionSession.configuration)
        #expect(store.waitUntilDurable(store.append(erasure), timeout: 10))
        let replayed = Room(configuration: QuestionSession.configuration, replaying: try store.recover())
        store.close()
        #expect(replayed.questions == session.driver.room.questions)
        let bytes = try fileBytes()
        #expect(!contains(bytes, "Wat kost het?"))
        #expect(!contains(bytes, session.anna.rawValue))
        #expect(contains(bytes, "Off topic"))

        var random = SeededRandom()
        #expect(try Privacy.purge(databasePath: folder.database, olderThanDays: nil, now: Self.exportedAt, random: &random).purged)
        let purged = try fileBytes()
        for text in ["Off topic", "HYPERLINK", "Cees", "Bram"] { #expect(!contains(purged, text), "\(text)") }
        let after = try #require(parseCSV(try exporter().questionsCSV()))
        #expect(after.dropFirst().map { $0[5] } == ["2", "0", "0"], "upvote counts stay")
        #expect(after.dropFirst().map { $0[4] } == [Room.erasedText, "", ""], "an erased question keeps its marker")
    }
}
