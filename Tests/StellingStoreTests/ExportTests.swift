import Foundation
import GRDB
import StellingCore
import StellingTesting
import Testing
@testable import StellingStore

@Suite(.timeLimit(.minutes(1)))
struct ExportTests {
    let folder = TemporaryFolder()
    let session = KnownSession()
    static let exportedAt = Instant(rfc3339: "2021-01-15T14:00:00.000Z")!

    func exporter(names: Bool = false) throws -> Exporter {
        try session.store(at: folder.database)
        return try Exporter(databasePath: folder.database, exportedAt: Self.exportedAt, names: names)
    }

    func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    // MARK: CSV rules

    @Test(arguments: [
        ("=1+1", "'=1+1"),
        ("+31 6 12345678", "'+31 6 12345678"),
        ("-5", "'-5"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\tTAB", "'\tTAB"),
        ("\rCR", "\"'\rCR\""),
        ("a,b", "\"a,b\""),
        ("zeg \"hoi\"", "\"zeg \"\"hoi\"\"\""),
        ("regel\nregel", "\"regel\nregel\""),
        ("=HYPERLINK(\"x\",\"y\")", "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\""),
        ("1-2", "1-2"),
        ("Zoë 🚀", "Zoë 🚀"),
        ("", ""),
    ])
    func csvCellsAreDefusedAndQuoted(input: String, written: String) {
        #expect(CSVWriter.field(input) == written)
    }

    @Test func csvHasAByteOrderMarkAndCRLFLineEnds() {
        var csv = CSVWriter()
        csv.row(["a", "b"])
        csv.row(["c", "d\ne"])
        #expect(csv.bytes == [0xEF, 0xBB, 0xBF] + Array("a,b\r\nc,\"d\ne\"\r\n".utf8))
        #expect(parseCSV(csv.bytes) == [["a", "b"], ["c", "d\ne"]])
    }

    @Test(arguments: [(1, 3, "33.3"), (2, 3, "66.7"), (1, 8, "12.5"), (1, 16, "6.3"), (0, 5, "0.0"), (5, 5, "100.0"), (0, 0, "")])
    func percentagesHaveOneDecimalAndADot(count: Int, total: Int, expected: String) {
        #expect(Numbers.percent(count, of: total) == expected)
    }

    // MARK: The known session, cell by cell

    @Test func resultsCSVHasOneRowPerStatement() throws {
        let csv = try exporter().resultsCSV()
        #expect(parseCSV(csv) == [
            ["statement", "position", "text", "agree", "disagree", "pass", "voters",
             "agree_pct", "disagree_pct", "pass_pct", "present", "opened_at", "closed_at"],
            ["s1", "1", "Leren levert pas iets op als het in de begroting staat.", "1", "2", "1", "4",
             "25.0", "50.0", "25.0", "4", "2021-01-15T13:00:01.000Z", "2021-01-15T13:00:09.000Z"],
            ["s2", "2", "Samenwerken, \"echt\" samenwerken", "2", "0", "0", "2",
             "100.0", "0.0", "0.0", "3", "2021-01-15T13:00:11.000Z", ""],
            ["s3", "3", "Nooit getoond", "", "", "", "", "", "", "", "", "", ""],
            ["s4", "4", "'+31 is het landnummer", "", "", "", "", "", "", "", "", "", ""],
        ])
        #expect(text(csv).contains("\r\ns2,2,\"Samenwerken, \"\"echt\"\" samenwerken\",2,0,0,2,100.0,0.0,0.0,3,2021-01-15T13:00:11.000Z,\r\n"))
    }

    @Test func votesCSVHoldsEachParticipantsFinalChoice() throws {
        let csv = try exporter().votesCSV()
        let s = session
        #expect(parseCSV(csv) == [
            ["statement", "participant", "group", "choice", "at"],
            ["s1", s.bram.rawValue, "Gemeente", "disagree", "2021-01-15T13:00:03.000Z"],
            ["s1", s.cees.rawValue, "", "pass", "2021-01-15T13:00:04.000Z"],
            ["s1", s.anna.rawValue, "Rijk", "disagree", "2021-01-15T13:00:05.000Z"],
            ["s1", s.dora.rawValue, "Rijk", "agree", "2021-01-15T13:00:06.000Z"],
            ["s2", s.anna.rawValue, "Rijk", "agree", "2021-01-15T13:00:12.000Z"],
            ["s2", s.bram.rawValue, "Gemeente", "agree", "2021-01-15T13:00:13.000Z"],
        ])
    }

    @Test func chatCSVHoldsEveryMessageWithHiddenMarked() throws {
        let csv = try exporter(names: true).chatCSV()
        let s = session
        #expect(parseCSV(csv) == [
            ["id", "at", "statement", "participant", "name", "role", "text", "hidden"],
            ["1", "2021-01-15T13:00:07.000Z", "s1", s.anna.rawValue, "Anna", "participant", "Mooi, zeg \"dat\"\nnieuwe regel", "false"],
            ["2", "2021-01-15T13:00:07.100Z", "s1", s.bram.rawValue, "Bram", "participant", "'=1+1", "false"],
            ["3", "2021-01-15T13:00:07.200Z", "s1", s.moderator.rawValue, "Ruben", "moderator", "'-5 graden", "false"],
            ["4", "2021-01-15T13:00:07.300Z", "s1", s.cees.rawValue, "Cees", "participant", "<script>alert(1)</script>", "true"],
        ])
        #expect(text(csv).contains(",\"Mooi, zeg \"\"dat\"\"\nnieuwe regel\",false\r\n"))
    }

    @Test func sessionJSONHoldsTheWholeEvent() throws {
        let json = try exporter(names: true).sessionJSON()
        guard case let .object(root)? = JSONValue.parse(json) else {
            Issue.record("session.json is not a JSON object")
            return
        }
        let s = session
        func object(_ fields: [String: JSONValue]) -> JSONValue { .object(fields) }
        func counts(_ agree: Int64, _ disagree: Int64, _ pass: Int64) -> JSONValue {
            object(["agree": .integer(agree), "disagree": .integer(disagree), "pass": .integer(pass)])
        }
        #expect(root["title"] == .string("Leren, samen <werken>"))
        #expect(root["exported_at"] == .string("2021-01-15T14:00:00.000Z"))
        #expect(root["names"] == .bool(true))
        #expect(root["min_group_size"] == .integer(5))
        #expect(root["ballot"] == .string("pseudonymous"))
        #expect(root["language"] == .string("nl"))
        #expect(root["groups"] == .array([.string("Rijk"), .string("Gemeente")]))
        #expect(root["announcement"] == .null)
        #expect(root["current"] == object(["statement": .string("s2"), "voting": .string("open"), "results": .string("hidden")]))

        guard case let .array(statements)? = root["statements"] else { Issue.record("no statements"); return }
        #expect(statements.count == 4)
        #expect(statements.first == object([
            "id": .string("s1"), "position": .integer(1), "text": .string("Leren levert pas iets op als het in de begroting staat."),
            "tally": object(["agree": .integer(1), "disagree": .integer(2), "pass": .integer(1), "voters": .integer(4),
                             "groups": object(["Rijk": counts(1, 1, 0), "Gemeente": counts(0, 1, 0)])]),
            "present": .integer(4), "opened_at": .string("2021-01-15T13:00:01.000Z"),
            "closed_at": .string("2021-01-15T13:00:09.000Z"), "results_visible": .bool(true),
            "withheld_groups": .array([.string("Rijk"), .string("Gemeente")]),
        ]))
        #expect(statements[2] == object([
            "id": .string("s3"), "position": .integer(3), "text": .string("Nooit getoond"),
            "tally": object(["agree": .integer(0), "disagree": .integer(0), "pass": .integer(0), "voters": .integer(0),
                             "groups": object(["Rijk": counts(0, 0, 0), "Gemeente": counts(0, 0, 0)])]),
            "present": .null, "opened_at": .null, "closed_at": .null, "results_visible": .bool(false),
            "withheld_groups": .array([]),
        ]))

        guard case let .array(participants)? = root["participants"] else { Issue.record("no participants"); return }
        #expect(participants.count == 4)
        #expect(participants[0] == object([
            "id": .string(s.anna.rawValue), "name": .string("Anna"), "group": .string("Rijk"),
            "joined_at": .string("2021-01-15T13:00:00.000Z"), "muted": .bool(false),
        ]))
        #expect(participants[2] == object([
            "id": .string(s.cees.rawValue), "name": .string("Cees"), "group": .null,
            "joined_at": .string("2021-01-15T13:00:00.000Z"), "muted": .bool(false),
        ]))
        if case let .object(bram) = participants[1] { #expect(bram["muted"] == .bool(true)) }

        guard case let .array(votes)? = root["votes"] else { Issue.record("no votes"); return }
        #expect(votes.count == 6)
        #expect(votes[0] == object(["statement": .string("s1"), "participant": .string(s.bram.rawValue),
                                    "choice": .string("disagree"), "at": .string("2021-01-15T13:00:03.000Z")]))

        guard case let .array(chat)? = root["chat"] else { Issue.record("no chat"); return }
        #expect(chat.count == 4)
        #expect(chat[3] == object([
            "id": .integer(4), "from": object(["id": .string(s.cees.rawValue), "name": .string("Cees"), "role": .string("participant")]),
            "text": .string("<script>alert(1)</script>"), "at": .string("2021-01-15T13:00:07.300Z"),
            "statement": .string("s1"), "hidden": .bool(true),
        ]))
    }

    // MARK: Names only when asked for (PROTOCOL.md, names)

    @Test func chatCSVLeavesTheNameColumnEmptyByDefault() throws {
        let csv = try exporter().chatCSV()
        let s = session
        let rows = try #require(parseCSV(csv))
        #expect(rows[0] == ["id", "at", "statement", "participant", "name", "role", "text", "hidden"])
        #expect(rows.dropFirst().map { $0[4] } == ["", "", "", ""])
        #expect(rows.dropFirst().map { $0[3] } == [s.anna.rawValue, s.bram.rawValue, s.moderator.rawValue, s.cees.rawValue])
        for name in ["Anna", "Bram", "Cees", "Ruben"] { #expect(!text(csv).contains(name)) }
    }

    @Test func sessionJSONHasNullNamesAndSaysSoByDefault() throws {
        let json = try exporter().sessionJSON()
        guard case let .object(root)? = JSONValue.parse(json) else { Issue.record("not an object"); return }
        #expect(root["names"] == .bool(false))
        guard case let .array(participants)? = root["participants"], case let .array(chat)? = root["chat"] else {
            Issue.record("no participants or chat"); return
        }
        for participant in participants {
            guard case let .object(fields) = participant else { Issue.record("not an object"); continue }
            #expect(fields["name"] == .null)
            #expect(fields["id"] != nil && fields["id"] != .null)
        }
        for message in chat {
            guard case let .object(fields) = message, case let .object(from)? = fields["from"] else { Issue.record("no from"); continue }
            #expect(from["name"] == .null)
        }
        for name in ["Anna", "Bram", "Cees", "Dora", "Ruben"] { #expect(!text(json).contains(name)) }
    }

    @Test func theReportShowsIdsInsteadOfNamesAndSaysWhichItIs() throws {
        let without = text(try exporter().reportHTML())
        #expect(without.contains("Export zonder namen"))
        #expect(without.contains("<span class=\"name\">\(session.anna.rawValue)</span>"))
        for name in ["Anna", "Bram", "Cees", "Ruben"] { #expect(!without.contains(name)) }
        let with = text(try Exporter(databasePath: folder.database, exportedAt: Self.exportedAt, names: true).reportHTML())
        #expect(with.contains("Export met namen"))
        #expect(with.contains("<span class=\"name\">Anna</span>"))
    }

    @Test func votesAndResultsCarryNoNamesEitherWay() throws {
        let exporter = try exporter(names: true)
        for bytes in [exporter.votesCSV(), exporter.resultsCSV()] {
            for name in ["Anna", "Bram", "Cees", "Dora"] { #expect(!text(bytes).contains(name)) }
        }
    }

    // MARK: report.html

    /// The known session stored with `privacy.min_group_size` set.
    func exporter(minGroupSize: Int) throws -> Exporter {
        var configuration = KnownSession.configuration
        configuration.privacy.minGroupSize = minGroupSize
        let store = try EventStore(path: folder.database, configuration: configuration)
        var last: UInt64 = 0
        for record in session.driver.records { last = store.append(record) }
        #expect(store.waitUntilDurable(last, timeout: 10))
        store.close()
        return try Exporter(databasePath: folder.database, exportedAt: Self.exportedAt)
    }

    @Test func theReportWithholdsGroupsSmallerThanTheMinimumByDefault() throws {
        let html = text(try exporter().reportHTML())
        #expect(html.contains("<tr><td>Rijk</td><td colspan=\"4\">&lt; 5</td></tr>"))
        #expect(html.contains("<tr><td>Gemeente</td><td colspan=\"4\">&lt; 5</td></tr>"))
        #expect(html.contains("<tr><td>Zonder groep</td><td colspan=\"4\">&lt; 5</td></tr>"))
        #expect(html.contains("Groepen met minder dan 5 stemmers worden niet getoond."))
        #expect(!html.contains("<tr><td>Rijk</td><td>1 (50,0%)"))
        // The statement's own result stays: it is the published total.
        #expect(html.contains("<tfoot><tr><td>Totaal</td><td>1 (25,0%)</td><td>2 (50,0%)</td><td>1 (25,0%)</td><td>4</td></tr></tfoot>"))
    }

    @Test func oneSmallGroupIsNotLeftToBeWorkedOutFromTheTotal() throws {
        // With a minimum of 2, s1 has Rijk 2, Gemeente 1 and no group 1: both small rows are
        // withheld, and Rijk is shown. On s2 (Rijk 1, Gemeente 1) both are withheld.
        let html = text(try exporter(minGroupSize: 2).reportHTML())
        #expect(html.contains("<tr><td>Rijk</td><td>1 (50,0%)</td><td>1 (50,0%)</td><td>0 (0,0%)</td><td>2</td></tr>"))
        #expect(html.contains("<tr><td>Gemeente</td><td colspan=\"4\">&lt; 2</td></tr>"))
        // s2: Rijk 1 alone would be withheld; Gemeente (1) is withheld with it.
        let s2 = try #require(html.components(separatedBy: "id=\"statement-s2\"").last?.components(separatedBy: "</section>").first)
        #expect(s2.contains("<tr><td>Rijk</td><td colspan=\"4\">&lt; 2</td></tr>"))
        #expect(s2.contains("<tr><td>Gemeente</td><td colspan=\"4\">&lt; 2</td></tr>"))
        // Rijk 3 and Gemeente 1 with a minimum of 2: Gemeente alone would be the total minus
        // Rijk, so Rijk is withheld with it.
        var configuration = KnownSession.configuration
        configuration.privacy.minGroupSize = 2
        var driver = Harness(configuration)
        let moderator = driver.moderator()
        driver.expectAck(.next, from: moderator)
        for (name, group) in [("A", "Rijk"), ("B", "Rijk"), ("C", "Rijk"), ("D", "Gemeente")] {
            let (connection, _) = driver.participant(name, group: group)
            driver.expectAck(.vote(statement: "s1", choice: "agree"), from: connection)
        }
        var snapshot = ExportSnapshot(configuration: configuration, exportedAt: Self.exportedAt)
        snapshot.room = driver.room
        #expect(snapshot.withheldGroups(of: try #require(driver.room.statement("s1"))) == ["Rijk", "Gemeente"])
        snapshot.configuration.privacy.minGroupSize = 1
        #expect(snapshot.withheldGroups(of: try #require(driver.room.statement("s1"))).isEmpty)
    }

    @Test func theReportShowsEveryStatementAndEscapesUserText() throws {
        let html = text(try exporter(minGroupSize: 1).reportHTML())
        #expect(html.hasPrefix("<!DOCTYPE html>\n<html lang=\"nl\">"))
        #expect(html.contains("<title>Leren, samen &lt;werken&gt;</title>"))
        for statement in session.driver.room.statements {
            #expect(html.contains(ReportHTML.escape(statement.text)), "missing \(statement.id)")
            #expect(html.contains("id=\"statement-\(statement.id.rawValue)\""))
        }
        #expect(html.contains("Samenwerken, &quot;echt&quot; samenwerken"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!html.lowercased().contains("<script"))
        #expect(html.contains("Eens") && html.contains("Oneens") && html.contains("Geen mening"))
        #expect(html.contains("1 (25,0%)") && html.contains("2 (50,0%)"))
        #expect(html.contains("<tr><td>Rijk</td><td>1 (50,0%)</td><td>1 (50,0%)</td><td>0 (0,0%)</td><td>2</td></tr>"))
        #expect(html.contains("<tr><td>Zonder groep</td><td>0 (0,0%)</td><td>0 (0,0%)</td><td>1 (100,0%)</td><td>1</td></tr>"))
        #expect(html.contains("<li class=\"message hidden\" id=\"message-4\">"))
        #expect(html.contains("<polyline"), "the vote's movement is drawn")
        #expect(html.contains("@media print"))
    }

    @Test func theReportNeedsNothingFromOutsideAndNoInlineScriptOrStyleAttributes() throws {
        let html = text(try exporter().reportHTML()).lowercased()
        for forbidden in ["http:", "https:", "//", "src=", "href=", "url(", "@import", " style=", "<script", "<link", "<img", "<iframe"] {
            #expect(!html.contains(forbidden), "report.html contains \(forbidden)")
        }
        #expect(html.components(separatedBy: "<style>").count == 2, "exactly one style element")
    }

    @Test func theStyleHashMatchesTheReportsStyleElement() throws {
        let html = text(try exporter().reportHTML())
        guard let open = html.range(of: "<style>"), let close = html.range(of: "</style>") else {
            Issue.record("no style element")
            return
        }
        let style = String(html[open.upperBound..<close.lowerBound])
        #expect(Base64.encode(SHA256.digest(Array(style.utf8))) == Exporter.reportStyleHash)
        #expect(Exporter.reportStyleHash.count == 44)
        #expect(Exporter.reportContentSecurityPolicy.contains("style-src 'sha256-\(Exporter.reportStyleHash)'"))
        #expect(Exporter.reportContentSecurityPolicy.hasPrefix("default-src 'none'"))
    }

    @Test func theReportSpeaksEnglishWhenTheEventDoes() throws {
        var configuration = KnownSession.configuration
        configuration.language = "en"
        let store = try EventStore(path: folder.database, configuration: configuration)
        var last: UInt64 = 0
        for record in session.driver.records { last = store.append(record) }
        #expect(store.waitUntilDurable(last, timeout: 10))
        store.close()
        let html = text(try Exporter(databasePath: folder.database, exportedAt: Self.exportedAt).reportHTML())
        #expect(html.contains("<html lang=\"en\">"))
        #expect(html.contains("Agree") && html.contains("Disagree") && html.contains("Pass"))
        #expect(html.contains("1 (25.0%)"))
        #expect(!html.contains("Oneens"))
    }

    @Test func base64MatchesRFC4648() {
        #expect(Base64.encode([]) == "")
        #expect(Base64.encode(Array("f".utf8)) == "Zg==")
        #expect(Base64.encode(Array("fo".utf8)) == "Zm8=")
        #expect(Base64.encode(Array("foo".utf8)) == "Zm9v")
        #expect(Base64.encode(Array("foobar".utf8)) == "Zm9vYmFy")
    }

    // MARK: Files and concurrency

    @Test func writeAllWritesTheFiveFiles() throws {
        let exporter = try exporter()
        let out = folder.path + "/out/export"
        try exporter.writeAll(to: out)
        for name in Exporter.fileNames {
            let data = try Data(contentsOf: URL(fileURLWithPath: out + "/" + name))
            #expect([UInt8](data) == exporter.file(named: name), "\(name) differs")
            #expect(!data.isEmpty)
        }
        #expect(exporter.file(named: "other.txt") == nil)
    }

    @Test func exportsReadACommittedSnapshotWhileAnotherConnectionWrites() throws {
        try session.store(at: folder.database)
        var options = GRDB.Configuration()
        options.allowsUnsafeTransactions = true
        let writer = try DatabaseQueue(path: folder.database, configuration: options)
        try writer.writeWithoutTransaction { db in
            try db.execute(sql: "BEGIN IMMEDIATE")
            try db.execute(sql: "INSERT INTO record (sequence, kind, at, statement, participant, choice) VALUES (9999, 'vote_cast', 0, 's2', 'pUncommitted', 'pass')")
        }
        let exporter = try Exporter(databasePath: folder.database, exportedAt: Self.exportedAt)
        #expect(parseCSV(exporter.votesCSV())?.count == 7, "six votes and the header; the open transaction is not seen")
        try writer.writeWithoutTransaction { db in try db.execute(sql: "COMMIT") }
        let after = try Exporter(databasePath: folder.database, exportedAt: Self.exportedAt)
        #expect(parseCSV(after.votesCSV())?.count == 8)
    }

    @Test func exportsWorkWhileTheStoreIsWriting() throws {
        let store = try EventStore(path: folder.database, configuration: KnownSession.configuration)
        for record in session.driver.records { store.append(record) }
        let done = Collected<Bool>()
        let writer = Thread {
            for index in 0..<4000 {
                store.append(.voteCast(statement: "s2", participant: ParticipantID("w\(index)"), choice: .disagree,
                                       at: Instant(milliseconds: 1_610_715_620_000 + Int64(index))))
                if index % 50 == 0 { Thread.sleep(forTimeInterval: 0.001) }
            }
            done.append(true)
        }
        writer.start()
        var seen: [Int] = []
        repeat {
            let exporter = try Exporter(databasePath: folder.database)
            seen.append(parseCSV(exporter.votesCSV())?.count ?? -1)
            _ = exporter.reportHTML()
        } while done.values.isEmpty && seen.count < 1000
        #expect(eventually { !done.values.isEmpty })
        #expect(store.close())
        #expect(!seen.contains(-1))
        #expect(zip(seen, seen.dropFirst()).allSatisfy { $0 <= $1 }, "each export is a later snapshot")
        let final = try Exporter(databasePath: folder.database)
        #expect(parseCSV(final.votesCSV())?.count == 1 + 6 + 4000)
    }
}
