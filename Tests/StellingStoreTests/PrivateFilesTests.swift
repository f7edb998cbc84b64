import Foundation
import StellingCore
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
