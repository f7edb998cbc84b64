import Foundation
import GRDB
import StellingCore
import StellingTesting
import Testing
@testable import StellingStore

@Suite(.timeLimit(.minutes(1)))
struct EventStoreTests {
    let folder = TemporaryFolder()

    /// Every kind of record, as `Record`'s cases name them.
    static let allKinds: Set<String> = [
        "participantJoined", "voteCast", "chatPosted", "messageHidden", "participantMuted",
        "statementShown", "votingChanged", "resultsRevealed", "statementAdded", "announcementSet",
    ]

    static func kind(of record: StellingCore.Record) -> String {
        String(String(describing: record).prefix { $0 != "(" })
    }

    @Test func theStoreMakesItsFoldersAndUsesWALWithFullSync() throws {
        let store = try EventStore(path: folder.database, configuration: KnownSession.configuration)
        defer { store.close() }
        #expect(FileManager.default.fileExists(atPath: folder.database))
        #expect(try store.pragma("journal_mode") == "wal")
        #expect(try store.pragma("synchronous") == "2") // FULL
    }

    @Test func everyRecordKindRoundTripsThroughTheDatabase() throws {
        let session = KnownSession()
        #expect(Set(session.driver.records.map(Self.kind)) == Self.allKinds)
        try session.store(at: folder.database)

        let reopened = try EventStore(path: folder.database, configuration: KnownSession.configuration)
        defer { reopened.close() }
        #expect(try reopened.recover() == session.driver.records)
    }

    @Test func recordsWithUnusualValuesRoundTrip() throws {
        let at = Instant(milliseconds: 1_610_715_600_123)
        let records: [StellingCore.Record] = [
            .participantJoined(id: "pA", name: "Zoë 🚀 \"quoted\"", group: nil, tokenHash: SHA256.hex("token".utf8), at: at),
            .participantJoined(id: "pB", name: "Bo", group: "Gemeente", tokenHash: SHA256.hex("other".utf8), at: at),
            .chatPosted(ChatMessage(id: 1, from: Author(id: "pA", name: "Zoë", role: .participant),
                                    text: "line\nbreak, tab\t and nul \u{0} end", at: at, statement: nil, hidden: true)),
            .chatPosted(ChatMessage(id: 2, from: Author(id: "m1", name: "Ruben", role: .moderator), text: "",
                                    at: Instant(milliseconds: 0), statement: "s9")),
            .statementAdded("s9", text: "   ", at: at),
            .announcementSet(nil, at: at),
            .announcementSet("", at: at),
            .participantMuted("pB", muted: false, at: at),
            .votingChanged("s1", open: true, at: at, present: 0),
            .resultsRevealed("s1", visible: false, at: at),
        ]
        let store = try EventStore(path: folder.database, configuration: KnownSession.configuration)
        var last: UInt64 = 0
        for record in records { last = store.append(record) }
        #expect(store.waitUntilDurable(last, timeout: 10))
        store.close()
        let reopened = try EventStore(path: folder.database, configuration: KnownSession.configuration)
        defer { reopened.close() }
        #expect(try reopened.recover() == records)
    }

    @Test func aRoomReplayedFromTheDatabaseEqualsTheOriginal() throws {
        let session = KnownSession()
        try session.store(at: folder.database)
        let store = try EventStore(path: folder.database, configuration: KnownSession.configuration)
        defer { store.close() }
        let original = session.driver.room
        let rebuilt = Room(configuration: KnownSession.configuration, replaying: try store.recover())
        #expect(rebuilt.statements == original.statements)
        #expect(rebuilt.participants == original.participants)
        #expect(rebuilt.chat == original.chat)
        #expect(rebuilt.currentState == original.currentState)
        #expect(rebuilt.votingOpen == original.votingOpen)
        #expect(rebuilt.announcement == original.announcement)
        #expect(rebuilt.statements.count == 4)
        #expect(rebuilt.participants[session.bram]?.muted == true)
    }

    @Test func whatWasDurableSurvivesACrashWithoutClose() throws {
        // A crash (kill -9) leaves the files as they lie: copy them while the store still runs
        // and has not closed, checkpointed or cleaned up anything, and recover from the copy.
        let store = try EventStore(path: folder.database, configuration: KnownSession.configuration)
        defer { store.close() }
        let session = KnownSession()
        var last: UInt64 = 0
        for record in session.driver.records { last = store.append(record) }
        #expect(store.waitUntilDurable(last, timeout: 10))
        let crashed = folder.path + "/crashed/event.sqlite"
        try FileManager.default.createDirectory(atPath: folder.path + "/crashed", withIntermediateDirectories: true)
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: folder.database + suffix) {
            try FileManager.default.copyItem(atPath: folder.database + suffix, toPath: crashed + suffix)
        }
        #expect(FileManager.default.fileExists(atPath: crashed + "-wal"), "the records are in the WAL, not yet checkpointed")
        let recovered = try EventStore(path: crashed, configuration: KnownSession.configuration)
        defer { recovered.close() }
        #expect(try recovered.recover() == session.driver.records)
    }

    @Test func sequenceNumbersContinueAfterAReopen() throws {
        let at = Instant(milliseconds: 1)
        let store = try EventStore(path: folder.database, configuration: KnownSession.configuration)
        #expect(store.append(.announcementSet("a", at: at)) == 1)
        #expect(store.append(.announcementSet("b", at: at)) == 2)
        #expect(store.close())
        let reopened = try EventStore(path: folder.database, configuration: KnownSession.configuration)
        defer { reopened.close() }
        #expect(reopened.durableSequence == 2)
        #expect(reopened.append(.announcementSet("c", at: at)) == 3)
        #expect(reopened.waitUntilDurable(3, timeout: 10))
        #expect(try reopened.recover().count == 3)
    }

    @Test func aBurstOfAppendsIsWrittenInFewTransactions() throws {
        let durable = Collected<UInt64>()
        let store = try EventStore(path: folder.database, configuration: KnownSession.configuration,
                                   onDurable: { durable.append($0) })
        defer { store.close() }
        let count = 5000
        var last: UInt64 = 0
        for index in 0..<count {
            last = store.append(.voteCast(statement: "s1", participant: ParticipantID("p\(index)"),
                                          choice: .agree, at: Instant(milliseconds: Int64(index))))
        }
        #expect(last == UInt64(count))
        #expect(store.waitUntilDurable(last, timeout: 30))
        let statistics = store.statistics
        #expect(statistics.records == UInt64(count))
        #expect(statistics.transactions < UInt64(count / 10))
        #expect(statistics.failedAttempts == 0)
        #expect(eventually { durable.values.last == last })
        let reported = durable.values
        #expect(zip(reported, reported.dropFirst()).allSatisfy { $0 < $1 }, "onDurable must only grow")
        #expect(UInt64(reported.count) == statistics.transactions)
        #expect(try store.recover().count == count)
    }

    @Test func onDurableIsMonotonicWhileAppendsComeFromManyThreads() throws {
        let durable = Collected<UInt64>()
        let store = try EventStore(path: folder.database, configuration: KnownSession.configuration,
                                   onDurable: { durable.append($0) })
        defer { store.close() }
        let sequences = Collected<UInt64>()
        DispatchQueue.concurrentPerform(iterations: 4) { thread in
            for index in 0..<500 {
                sequences.append(store.append(.voteCast(statement: "s1", participant: ParticipantID("p\(thread)-\(index)"),
                                                        choice: .pass, at: Instant(milliseconds: 5))))
                if index % 100 == 0 { Thread.sleep(forTimeInterval: 0.001) }
            }
        }
        #expect(Set(sequences.values) == Set(1...2000))
        #expect(store.waitUntilDurable(2000, timeout: 30))
        #expect(eventually { durable.values.last == 2000 })
        let reported = durable.values
        #expect(zip(reported, reported.dropFirst()).allSatisfy { $0 < $1 })
        let recovered = try store.recover()
        #expect(recovered.count == 2000)
    }

    @Test func aFailingWriteIsReportedNotMadeDurableAndRetriedUntilItClears() throws {
        let durable = Collected<UInt64>()
        let failures = Collected<String>()
        let store = try EventStore(path: folder.database, configuration: KnownSession.configuration,
                                   onDurable: { durable.append($0) }, onFailure: { failures.append($0) })
        defer { store.close() }
        let at = Instant(milliseconds: 1)
        let first = store.append(.announcementSet("before", at: at))
        #expect(store.waitUntilDurable(first, timeout: 10))

        store.simulateWriteFailures(true)
        let second = store.append(.announcementSet("during", at: at))
        #expect(eventually { failures.values.count >= 2 }, "the store retries and reports each failure")
        // Two failed attempts at it are the barrier: it is not durable now (no waiting window).
        #expect(!store.waitUntilDurable(second, timeout: 0))
        #expect(store.durableSequence == first)
        #expect(store.currentFailure != nil)
        #expect(durable.values == [first])
        #expect(failures.values.allSatisfy { $0.contains("readonly") || $0.contains("read-only") || $0.contains("query_only") })
        let third = store.append(.announcementSet("still failing", at: at))

        store.simulateWriteFailures(false)
        #expect(store.waitUntilDurable(third, timeout: 10))
        #expect(store.currentFailure == nil)
        #expect(eventually { durable.values.last == third })
        #expect(store.statistics.failedAttempts >= 2)
        #expect(try store.recover() == [
            .announcementSet("before", at: at), .announcementSet("during", at: at), .announcementSet("still failing", at: at),
        ])
    }

    @Test func closeWritesWhatIsPendingAndGivesUpOnlyAfterItsTimeout() throws {
        let store = try EventStore(path: folder.database, configuration: KnownSession.configuration)
        let at = Instant(milliseconds: 1)
        for index in 0..<100 { store.append(.announcementSet("\(index)", at: at)) }
        #expect(store.close())
        let reopened = try EventStore(path: folder.database, configuration: KnownSession.configuration)
        #expect(try reopened.recover().count == 100)

        reopened.simulateWriteFailures(true)
        reopened.append(.announcementSet("lost", at: at))
        let started = Date()
        #expect(!reopened.close(timeout: 0.5), "a store that cannot write must say so")
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test func theMetadataFollowsTheConfigurationAtEveryOpen() throws {
        let store = try EventStore(path: folder.database, configuration: KnownSession.configuration)
        store.close()
        var changed = KnownSession.configuration
        changed.title = "Nieuwe titel"
        changed.language = "en"
        changed.statements.removeLast()
        let again = try EventStore(path: folder.database, configuration: changed)
        again.close()
        let queue = try DatabaseQueue(path: folder.database)
        let configuration = try queue.read { db in try Schema.readConfiguration(in: db) }
        #expect(configuration.title == "Nieuwe titel")
        #expect(configuration.language == "en")
        #expect(configuration.groups == ["Rijk", "Gemeente"])
        #expect(configuration.programme == [ProgrammeItem(time: "14:00", item: "Welkom")])
        #expect(configuration.statements == changed.statements)
    }

    @Test func aDatabaseThatIsNotAnEventDatabaseIsRefused() throws {
        let path = folder.path + "/other.sqlite"
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in try db.execute(sql: "CREATE TABLE something (x)") }
        try queue.close()
        #expect(throws: StoreError.self) { _ = try Exporter(databasePath: path) }
        #expect(throws: StoreError.notAnEventDatabase("there is no file \(folder.path)/missing.sqlite")) {
            _ = try Exporter(databasePath: folder.path + "/missing.sqlite")
        }
    }
}
