import Foundation
import GRDB
import StellingCore
import Testing
@testable import StellingStore

/// docs/PRIVACY.md stays true: every table and column of a real event database is in it.
@Suite(.timeLimit(.minutes(1)))
struct PrivacyDocumentTests {
    static let document = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/PRIVACY.md")

    @Test func everyTableAndColumnOfTheDatabaseIsInPrivacyMD() throws {
        let folder = TemporaryFolder()
        // A real store with a secret ballot sealed, so every table the store can make exists.
        var configuration = KnownSession.configuration
        configuration.privacy.ballot = .secret
        let store = try EventStore(path: folder.database, configuration: configuration)
        var last: UInt64 = 0
        for record in KnownSession().driver.records { last = store.append(record) }
        last = store.append(.ballotSealed("s1", at: Instant(milliseconds: 0)))
        #expect(store.waitUntilDurable(last, timeout: 10))
        store.close()

        let queue = try DatabaseQueue(path: folder.database)
        defer { try? queue.close() }
        let columns = try queue.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
                .flatMap { table in try db.columns(in: table).map { "\(table).\($0.name)" } }
        }
        #expect(columns.count > 20, "the check reads the real schema: \(columns)")
        #expect(columns.contains("sealed_voter.participant"))
        let text = try String(contentsOf: Self.document, encoding: .utf8)
        let missing = columns.filter { !text.contains("`\($0)`") }
        #expect(missing.isEmpty, "docs/PRIVACY.md does not describe: \(missing.joined(separator: ", "))")
    }
}
