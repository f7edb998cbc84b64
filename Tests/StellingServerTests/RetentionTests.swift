import Foundation
import StellingCore
import StellingStore
import Testing
@testable import StellingServer
import StellingTesting

/// `retention_days`, `stelling purge` and `stelling erase` on the real binary.
@Suite(.timeLimit(.minutes(2)), .serialized)
struct RetentionTests {
    static let longAgo = Instant(rfc3339: "2021-01-15T13:00:00.000Z")!

    /// Writes an event held on 15 January 2021: Anna (Rijk) voted agree and chatted, Bram voted disagree.
    static func writeOldEvent(at path: String, configuration: Configuration) throws -> [String] {
        let store = try EventStore(path: path, configuration: configuration)
        let at = longAgo
        let records: [Record] = [
            .participantJoined(id: "pAnnaAAA", name: "Anna Jansen", group: "Rijk", tokenHash: String(repeating: "a", count: 64), at: at),
            .participantJoined(id: "pBramBBB", name: "Bram de Vries", group: nil, tokenHash: String(repeating: "b", count: 64), at: at),
            .statementShown("s1", at: at, present: 2),
            .voteCast(statement: "s1", participant: "pAnnaAAA", choice: .agree, at: at),
            .voteCast(statement: "s1", participant: "pBramBBB", choice: .disagree, at: at),
            .chatPosted(ChatMessage(id: 1, from: Author(id: "pAnnaAAA", name: "Anna Jansen", role: .participant),
                                    text: "mijn adres is Dorpsstraat 1", at: at, statement: "s1")),
            .votingChanged("s1", open: false, at: at, present: 2),
        ]
        var last: UInt64 = 0
        for record in records { last = store.append(record) }
        precondition(store.waitUntilDurable(last, timeout: 10))
        store.close()
        return ["Anna Jansen", "Bram de Vries", "Dorpsstraat", "pAnnaAAA", "pBramBBB"]
    }

    static func bytes(_ path: String) throws -> String {
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        if let wal = FileManager.default.contents(atPath: path + "-wal") { data += wal }
        return String(decoding: data, as: Unicode.ASCII.self)
    }

    @Test func theServerPurgesAnEventPastItsRetentionAtStart() throws {
        let process = try StellingProcess(yaml: "title: Oud seminar\nretention_days: 30\nstatements:\n  - id: s1\n    text: Een\n")
        var configuration = Configuration(title: "Oud seminar", statements: [StatementSpec(id: "s1", text: "Een")])
        configuration.retentionDays = 30
        let secrets = try Self.writeOldEvent(at: process.databasePath, configuration: configuration)
        let before = try Exporter(databasePath: process.databasePath).resultsCSV()
        try process.start()
        #expect(process.output.contains("personal data purged"))
        process.stop()
        let text = try Self.bytes(process.databasePath)
        for secret in secrets { #expect(!text.contains(secret), "\(secret) survived the purge") }
        #expect(try Exporter(databasePath: process.databasePath).resultsCSV() == before)
    }

    @Test func purgeAndEraseOnTheCommandLine() throws {
        let folder = try CommandLineTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = folder.appendingPathComponent("event.sqlite").path
        let configuration = Configuration(title: "Oud seminar", statements: [StatementSpec(id: "s1", text: "Een")])
        _ = try Self.writeOldEvent(at: database, configuration: configuration)

        let unknown = try CommandLineTests.run(["erase", "--database", database, "--participant", "pNobody1"])
        #expect(unknown.status == 1)
        #expect(unknown.output.contains("there is no participant with the id pNobody1"))
        let erase = try CommandLineTests.run(["erase", "--database", database, "--participant", "pAnnaAAA"])
        #expect(erase.status == 0, "\(erase.output)")
        #expect(erase.output.contains("pAnnaAAA erased"))
        var text = try Self.bytes(database)
        for secret in ["Anna Jansen", "Dorpsstraat", "pAnnaAAA"] { #expect(!text.contains(secret)) }
        #expect(text.contains("Bram de Vries"))

        // Not old enough for a 10,000-day retention: nothing happens.
        let young = try CommandLineTests.run(["purge", "--database", database, "--older-than", "10000"])
        #expect(young.status == 0)
        #expect(young.output.contains("nothing purged"))
        let purge = try CommandLineTests.run(["purge", "--database", database, "--older-than", "30"])
        #expect(purge.status == 0, "\(purge.output)")
        #expect(purge.output.contains("purged: 2 ids replaced"))
        text = try Self.bytes(database)
        #expect(!text.contains("Bram de Vries") && !text.contains("pBramBBB"))
        let results = String(decoding: try Exporter(databasePath: database).resultsCSV(), as: UTF8.self)
        #expect(results.contains("s1,1,Een,1,1,0,2,50.0,50.0,0.0,2,"))
    }
}
