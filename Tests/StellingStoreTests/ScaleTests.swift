import Foundation
import StellingCore
import Testing
@testable import StellingStore
import StellingTesting

/// The sizes DESIGN.md names: 10,000 participants and 100,000 votes, stored, recovered and
/// exported within a few seconds even in a debug build.
@Suite(.timeLimit(.minutes(3)))
struct ScaleTests {
    let folder = TemporaryFolder()

    static func largeSession() -> [StellingCore.Record] {
        let start: Int64 = 1_610_715_600_000
        let groups = ["Rijk", "Provincie", "Gemeente"]
        var random = SeededRandom(seed: 7)
        var records: [StellingCore.Record] = []
        for index in 0..<10_000 {
            records.append(.participantJoined(id: ParticipantID("p\(index)"), name: "Deelnemer \(index)",
                                              group: index % 7 == 0 ? nil : groups[index % 3],
                                              tokenHash: SHA256.hex("token\(index)".utf8), at: Instant(milliseconds: start)))
        }
        var time = start + 60_000
        var message = 0
        for statement in 1...10 {
            let id = StatementID("s\(statement)")
            records.append(.statementShown(id, at: Instant(milliseconds: time), present: 10_000 - statement))
            for index in 0..<10_000 {
                time += 3
                let choice = Choice.allCases[Int(random.next() % 3)]
                records.append(.voteCast(statement: id, participant: ParticipantID("p\(index)"), choice: choice, at: Instant(milliseconds: time)))
                if index % 100 == 0 {
                    message += 1
                    records.append(.chatPosted(ChatMessage(id: MessageID(message), from: Author(id: ParticipantID("p\(index)"), name: "Deelnemer \(index)", role: .participant),
                                                           text: "Bericht \(message), over \"\(id)\"", at: Instant(milliseconds: time), statement: id)))
                }
            }
            records.append(.votingChanged(id, open: false, at: Instant(milliseconds: time + 1000), present: 9_000))
            time += 60_000
        }
        return records
    }

    @Test func tenThousandParticipantsAndAHundredThousandVotesAreStoredRecoveredAndExportedQuickly() throws {
        let records = Self.largeSession()
        let clock = ContinuousClock()
        let store = try EventStore(path: folder.database, configuration: Configuration(
            title: "Groot", groups: ["Rijk", "Provincie", "Gemeente"],
            statements: (1...10).map { StatementSpec(id: "s\($0)", text: "Stelling \($0)") }))
        var last: UInt64 = 0
        let writing = clock.measure {
            for record in records { last = store.append(record) }
            #expect(store.waitUntilDurable(last, timeout: 120))
        }
        let statistics = store.statistics
        #expect(statistics.records == UInt64(records.count))
        #expect(statistics.transactions < UInt64(records.count / 100))
        var recovered: [StellingCore.Record] = []
        let recovering = try clock.measure { recovered = try store.recover() }
        #expect(recovered == records)
        #expect(store.close())

        var exporter: Exporter?
        let loading = try clock.measure { exporter = try Exporter(databasePath: folder.database) }
        var sizes: [String: Int] = [:]
        let exporting = clock.measure {
            for name in Exporter.fileNames { sizes[name] = exporter?.file(named: name)?.count }
        }
        print("scale: \(records.count) records in \(statistics.transactions) transactions; write \(writing), recover \(recovering), load \(loading), five exports \(exporting); sizes \(sizes.sorted { $0.key < $1.key })")
        #expect(recovering < .seconds(20))
        #expect(loading < .seconds(20))
        #expect(exporting < .seconds(30))
        #expect((parseCSV(exporter?.votesCSV() ?? [])?.count ?? 0) == 1 + 100_000)
        #expect(sizes["report.html", default: .max] < 2_000_000, "the report stays small: the charts are thinned")
    }
}
