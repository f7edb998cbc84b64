import Foundation
import Testing
@testable import StellingServer
@testable import StellingLWS
import StellingTesting

/// The pages built into the binary, and serving them from any working folder.
@Suite(.timeLimit(.minutes(2)))
struct EmbeddedWebTests {
    static let web = StellingProcess.root.appendingPathComponent("web")

    @Test func theBuiltInPagesAreExactlyTheFilesOfWeb() throws {
        var onDisk: [String: [UInt8]] = [:]
        let enumerator = try #require(FileManager.default.enumerator(at: Self.web, includingPropertiesForKeys: [.isRegularFileKey],
                                                                     options: [.skipsHiddenFiles]))
        for case let url as URL in enumerator where (try url.resourceValues(forKeys: [.isRegularFileKey])).isRegularFile == true {
            let relative = String(url.standardizedFileURL.path.dropFirst(Self.web.standardizedFileURL.path.count + 1))
            onDisk[relative] = Array(try Data(contentsOf: url))
        }
        #expect(!onDisk.isEmpty)
        #expect(Set(StaticFiles.embedded.keys) == Set(onDisk.keys), "run `make embed-web` after changing web/")
        for (name, bytes) in onDisk {
            #expect(StaticFiles.embedded[name] == bytes, "\(name) differs: run `make embed-web`")
        }
    }

    @Test func aWebRootWithoutIndexIsRefusedWithAClearMessage() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("stelling-web-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = folder.appendingPathComponent("event.yaml")
        try "title: T\nweb_root: pages\n".write(to: config, atomically: true, encoding: .utf8)
        let error = try #require(throws: ConfigurationError.self) { try ConfigurationFile.load(path: config.path, environment: [:]) }
        #expect(error.problems.first?.path == "web_root")
        #expect(error.description.contains("\(folder.path)/pages has no index.html"))
        // A relative web_root is taken from the configuration file's folder.
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("pages"), withIntermediateDirectories: true)
        try "<!doctype html>".write(to: folder.appendingPathComponent("pages/index.html"), atomically: true, encoding: .utf8)
        #expect(try ConfigurationFile.load(path: config.path, environment: [:]).server.webRoot == folder.path + "/pages")
    }

    @Test func theBinaryServesItsPagesWhenStartedFromAnotherFolder() throws {
        let process = try StellingProcess(yaml: "title: Elders\n", webRoot: nil)
        try process.start(workingDirectory: "/")
        defer { process.stop() }
        for (path, marker) in [("/", "participant.js"), ("/moderator", "moderator.js"), ("/screen", "screen.js")] {
            let page = try RawWebSocket.http(port: process.port, path: path)
            #expect(page.status == 200, "\(path)")
            #expect(page.text.contains(marker), "\(path)")
        }
        #expect(try RawWebSocket.http(port: process.port, path: "/js/connection.js").status == 200)
    }

    @Test func theServerRefusesToStartWithAWebRootWithoutIndex() throws {
        let process = try StellingProcess(yaml: "title: Elders\n", webRoot: "/nonexistent-stelling-web")
        #expect(throws: (any Error).self) { try process.start(workingDirectory: "/", timeout: 10) }
        #expect(process.output.contains("has no index.html"))
    }
}
