import Foundation
import StellingCore
import StellingTesting
import Testing
@testable import StellingStore

/// The database, its WAL and SHM, and the exports are readable by their owner only, whatever
/// the umask (issue 11, §6).
@Suite(.serialized, .timeLimit(.minutes(1)))
struct PrivateFilesTests {
    let folder = TemporaryFolder()

    func mode(_ path: String) throws -> Int {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    /// Runs `body` with umask 0 (everything would be world-writable if the code trusted it).
    func withOpenUmask<T>(_ body: () throws -> T) rethrows -> T {
        let old = umask(0)
        defer { umask(old) }
        return try body()
    }

    @Test func theDatabaseItsWALAndItsFoldersAreOwnerOnlyUnderAnOpenUmask() throws {
        try withOpenUmask {
            let session = KnownSession()
            let database = folder.path + "/deep/data/event.sqlite"
            let store = try EventStore(path: database, configuration: KnownSession.configuration)
            let last = session.driver.records.map { store.append($0) }.last!
            #expect(store.waitUntilDurable(last, timeout: 10))
            #expect(try mode(database) == 0o600)
            #expect(try mode(database + "-wal") == 0o600)
            #expect(try mode(database + "-shm") == 0o600)
            #expect(try mode(folder.path + "/deep/data") == 0o700)
            #expect(try mode(folder.path + "/deep") == 0o700)
            store.close()
        }
    }

    @Test func everyExportFileIsOwnerOnlyUnderAnOpenUmask() throws {
        let session = KnownSession()
        try session.store(at: folder.database)
        try withOpenUmask {
            let exports = folder.path + "/out/exports"
            try Exporter(databasePath: folder.database).writeAll(to: exports)
            #expect(try mode(exports) == 0o700)
            for name in Exporter.fileNames {
                #expect(try mode(exports + "/" + name) == 0o600, "\(name)")
            }
            // Written again, replaced, still owner only; no temporary file left behind.
            try Exporter(databasePath: folder.database).writeAll(to: exports)
            #expect(try FileManager.default.contentsOfDirectory(atPath: exports).sorted() == Exporter.fileNames.sorted())
        }
    }
}

/// Turnout never above 100% (issue 11, §7): voters who left before voting closed still count
/// as present.
@Suite struct TurnoutTests {
    let folder = TemporaryFolder()

    @Test func votersWhoLeftBeforeVotingClosedKeepTurnoutAtMostAHundredPercent() throws {
        var driver = Harness(KnownSession.configuration)
        let moderator = driver.moderator()
        var voters: [ConnectionID] = []
        for index in 0..<3 { voters.append(driver.participant("V\(index)").0) }
        driver.at(1); driver.expectAck(.next, from: moderator)           // 3 present when shown
        for connection in voters { driver.expectAck(.vote(statement: "s1", choice: "agree"), from: connection) }
        for connection in voters.dropFirst() { driver.room.disconnect(connection) }
        driver.at(2); driver.expectAck(.close, from: moderator)          // 1 present when closed
        let store = try EventStore(path: folder.database, configuration: KnownSession.configuration)
        let last = driver.records.map { store.append($0) }.last!
        #expect(store.waitUntilDurable(last, timeout: 10))
        store.close()
        let exporter = try Exporter(databasePath: folder.database)
        let csv = try #require(exporter.file(named: "results.csv"))
        let results = try #require(parseCSV(csv))
        let header = results[0]
        let s1 = results[1]
        #expect(s1[header.firstIndex(of: "voters")!] == "3")
        #expect(s1[header.firstIndex(of: "present")!] == "3")
        let html = try #require(exporter.file(named: "report.html"))
        let report = String(decoding: html, as: UTF8.self)
        #expect(report.contains("opkomst 100"))
        #expect(!report.contains("opkomst 300"))
    }
}
