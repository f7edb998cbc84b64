import Foundation
import StellingCore
import StellingTesting
import Testing
@testable import StellingStore

/// The analysis in the exports: analysis.json, session.json's "analysis" and report.html's section.
@Suite(.timeLimit(.minutes(1)))
struct ExportAnalysisTests {
    let folder = TemporaryFolder()
    static let exportedAt = Instant(rfc3339: "2021-01-15T14:00:00.000Z")!

    static let configuration = Configuration(
        title: "Twee kampen",
        groups: ["Rijk", "Gemeente"],
        statements: [
            StatementSpec(id: "s1", text: "Iedereen wil minder regels."),
            StatementSpec(id: "s2", text: "Het Rijk moet het betalen."),
            StatementSpec(id: "s3", text: "De gemeente weet het beter."),
            StatementSpec(id: "s4", text: "Nooit getoond"),
        ],
        moderatorKey: Harness.key)

    /// Sixteen participants in two planted camps: the Rijk camp agrees with s2 and disagrees with
    /// s3, the Gemeente camp the other way round; everyone agrees with s1. s4 is never shown.
    func store(language: String = "nl", minimumGroupSize: Int? = nil, secret: Bool = false, closeLast: Bool = true) throws {
        var configuration = Self.configuration
        configuration.language = language
        if let minimumGroupSize { configuration.privacy.minGroupSize = minimumGroupSize }
        if secret { configuration.privacy.ballot = .secret }
        var driver = Harness(configuration)
        let moderator = driver.moderator()
        var people: [(ConnectionID, Bool)] = []
        for index in 0..<16 {
            let rijk = index < 9
            let (connection, _) = driver.participant("P\(index)", group: rijk ? "Rijk" : "Gemeente")
            people.append((connection, rijk))
        }
        for (statement, choice) in [("s1", { (_: Bool) in "agree" }), ("s2", { $0 ? "agree" : "disagree" }), ("s3", { $0 ? "disagree" : "agree" })] {
            driver.expectAck(.next, from: moderator)
            for (connection, rijk) in people { driver.expectAck(.vote(statement: statement, choice: choice(rijk)), from: connection) }
            if closeLast || statement != "s3" { driver.expectAck(.close, from: moderator) }
        }
        let store = try EventStore(path: folder.database, configuration: configuration)
        var last: UInt64 = 0
        for record in driver.records { last = store.append(record) }
        #expect(store.waitUntilDurable(last, timeout: 10))
        store.close()
    }

    func object(_ bytes: [UInt8]) throws -> [String: JSONValue] {
        guard case let .object(object)? = JSONValue.parse(bytes) else { throw CancellationError() }
        return object
    }

    @Test func analysisJSONFindsThePlantedCampsAndTheConsensus() throws {
        try store()
        let exporter = try Exporter(databasePath: folder.database, exportedAt: Self.exportedAt)
        let root = try object(exporter.analysisJSON())
        #expect(root["computed_at"] == .string("2021-01-15T14:00:00.000Z"))
        guard case let .array(statements)? = root["statements"], case let .array(groups)? = root["opinion_groups"],
              case let .array(participants)? = root["participants"] else {
            Issue.record("analysis.json lacks statements, opinion_groups or participants"); return
        }
        #expect(statements.count == 3, "the statement never shown is not analysed")
        #expect(groups.count == 2)
        #expect(participants.count == 16)
        guard case let .object(a) = groups[0], case let .object(byGroup)? = a["by_group"],
              case let .object(rijk)? = byGroup["Rijk"] else { Issue.record("no by_group"); return }
        #expect(a["id"] == .string("A") && a["size"] == .integer(9))
        #expect(rijk["count"] == .integer(9))
        guard case let .object(first) = statements[0] else { return }
        #expect(first["agree"] == .integer(16) && first["divisiveness"] == .number(0))
    }

    @Test func sessionJSONCarriesTheSameAnalysis() throws {
        try store()
        let exporter = try Exporter(databasePath: folder.database, exportedAt: Self.exportedAt)
        let session = try object(exporter.sessionJSON())
        #expect(session["analysis"] == JSONValue.parse(exporter.analysisJSON()))
    }

    @Test func theReportHasTheMapTheRankingsTheCampsAndAReading() throws {
        try store()
        let html = String(decoding: try Exporter(databasePath: folder.database, exportedAt: Self.exportedAt).reportHTML(), as: UTF8.self)
        #expect(html.contains("<section class=\"analysis\" id=\"analysis\">"))
        #expect(html.contains("<svg class=\"opinion-map\""))
        #expect(html.contains("role=\"img\" aria-label=\"Meningskaart"))
        #expect(html.contains("Alle groepen eens over “Iedereen wil minder regels.”"))
        #expect(html.contains("Kamp A (9 mensen)") && html.contains("Kamp B (7 mensen)"))
        #expect(html.contains("<table class=\"camps-by-group\">"))
        #expect(html.contains("<tr><td>Rijk</td><td>9 (100%)</td><td>0 (0%)</td></tr>"))
        #expect(html.contains("eens (100% van het kamp): Het Rijk moet het betalen."))
        #expect(!html.lowercased().contains("<script"))
    }

    static let withheldCases: [(counts: [Int], minimum: Int, withheld: Set<Int>)] = [
        ([9, 0], 5, []), ([9, 3], 5, [0, 1]), ([9, 3, 2], 5, [1, 2]), ([1, 0, 0], 5, [0]),
        ([4, 6, 7], 5, [0, 1]), ([4, 6, 7], 1, []),
    ]

    @Test func campsByGroupCellsUnderTheMinimumAreWithheld() {
        for (counts, minimum, withheld) in Self.withheldCases {
            #expect(AnalysisReport.withheld(counts, minimum: minimum) == withheld, "\(counts) with \(minimum)")
        }
    }

    @Test func theReportWithholdsHowASmallGroupSpreadsOverTheCamps() throws {
        try store(minimumGroupSize: 8)
        let html = String(decoding: try Exporter(databasePath: folder.database, exportedAt: Self.exportedAt).reportHTML(), as: UTF8.self)
        #expect(html.contains("<tr><td>Rijk</td><td>9 (100%)</td><td>0 (0%)</td></tr>"))
        #expect(html.contains("<tr><td>Gemeente</td><td colspan=\"2\">&lt; 8</td></tr>"))
        #expect(html.contains("Groepen met minder dan 8 geanalyseerde deelnemers"))
        #expect(html.contains("<li>Rijk: 100% van de 9 deelnemers zit in kamp A.</li>"))
        #expect(!html.contains("<li>Gemeente:"))
    }

    @Test func withASecretBallotOnlyTheOpenStatementIsAnalysed() throws {
        try store(secret: true, closeLast: false)
        let exporter = try Exporter(databasePath: folder.database, exportedAt: Self.exportedAt)
        let root = try object(exporter.analysisJSON())
        guard case let .array(statements)? = root["statements"], case let .array(participants)? = root["participants"] else {
            Issue.record("no analysis"); return
        }
        #expect(statements.map { value -> JSONValue? in
            if case let .object(statement) = value { return statement["id"] } else { return nil }
        } == [.string("s3")], "s1 and s2 were sealed when voting closed: no per-participant votes are left")
        #expect(root["minimum_votes"] == .integer(1))
        #expect(participants.count == 16)
    }

    @Test func theReportSaysSoWhenThereIsNothingToAnalyse() throws {
        let store = try EventStore(path: folder.database, configuration: Self.configuration)
        store.close()
        let html = String(decoding: try Exporter(databasePath: folder.database, exportedAt: Self.exportedAt).reportHTML(), as: UTF8.self)
        #expect(html.contains("Nog geen stemmen om te analyseren."))
    }

    @Test func theTextOfStellingAnalyseReadsInEnglishOnRequest() throws {
        try store(language: "en")
        let text = try Exporter(databasePath: folder.database, exportedAt: Self.exportedAt).analysisText()
        #expect(text.contains("All groups agree on “Iedereen wil minder regels.”."))
        #expect(text.contains("Camp A: 9 participants"))
    }
}
