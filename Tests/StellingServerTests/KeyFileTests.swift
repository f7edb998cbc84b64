import Foundation
import Testing
@testable import StellingLWS
import StellingTesting

/// The generated moderator key stays out of the log (issue 11, §6).
@Suite(.timeLimit(.minutes(1)))
struct KeyFileTests {
    @Test func withoutATerminalTheGeneratedKeyGoesToAPrivateFileNotTheLog() throws {
        let process = try StellingProcess(yaml: "title: Sleutel\n", key: nil)
        try process.start()
        defer { process.stop() }
        let path = process.databasePath + ".moderator-key"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let key = try #require(text.split(separator: "\n").first.map(String.init))
        #expect(key.count == 32)
        #expect(text.contains("/moderator#key=\(key)"))
        #expect(!process.output.contains(key))
        #expect(process.output.contains(path))
        let mode = try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        #expect(mode == 0o600)
    }
}
