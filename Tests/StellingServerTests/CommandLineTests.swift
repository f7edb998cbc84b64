import Foundation
import StellingCore
import StellingLoad
import Testing
import StellingLWS
import StellingTesting

/// The `stelling` binary itself, as `make run` uses it: check-config, serve, signals.
@Suite(.timeLimit(.minutes(2)), .serialized)
struct CommandLineTests {
    static let root = StellingProcess.root
    static let binary = StellingProcess.binary

    struct Run {
        var status: Int32
        var output: String
    }

    /// Runs the binary to its end and returns its status and standard error + output.
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.currentDirectoryURL = root
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "STELLING_MODERATOR_KEY")
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }

    static func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("stelling-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test func checkConfigAcceptsTheShippedConfigurations() throws {
        for file in ["config/seminar.yaml", "config/example-en.yaml"] {
            let run = try Self.run(["check-config", file])
            #expect(run.status == 0, "\(run.output)")
            #expect(run.output.contains("ok"))
        }
    }

    @Test func checkConfigAcceptsTheTwoNodeExampleAndSaysWhatANodeNeeds() throws {
        for node in ["a", "b"] {
            let run = try Self.run(["check-config", "config/cluster-\(node).yaml"])
            #expect(run.status == 0, "\(run.output)")
            #expect(run.output.contains("config/cluster-\(node).yaml: ok"), "\(run.output)")
            #expect(run.output.contains("cluster: node \(node) of event pbl-nsob-2021-01-15 on redis://127.0.0.1:6380/0, port shared (reuse_port)"), "\(run.output)")
            #expect(run.output.contains("a cluster node does not make one; set STELLING_MODERATOR_KEY"), "\(run.output)")
            #expect(!run.output.contains("the server will make one"), "\(run.output)")
        }
        let keyed = try Self.run(["check-config", "config/cluster-a.yaml"], environment: ["STELLING_MODERATOR_KEY": "a-key-for-both-nodes"])
        #expect(keyed.status == 0)
        #expect(!keyed.output.contains("no moderator key"), "\(keyed.output)")
    }

    @Test func checkConfigNeverShowsTheRedisPassword() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("node.yaml")
        try "title: T\ncluster:\n  redis: redis://:hunter2-secret@10.0.0.5:6380/1\n  event: e\n  node: a\n".write(to: file, atomically: true, encoding: .utf8)
        let run = try Self.run(["check-config", file.path])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("on redis://10.0.0.5:6380/1"), "\(run.output)")
        #expect(!run.output.contains("hunter2"))
    }

    @Test func checkConfigWarnsWhenNoRetentionIsSet() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("event.yaml")
        try "title: Test\n".write(to: file, atomically: true, encoding: .utf8)
        let without = try Self.run(["check-config", file.path])
        #expect(without.status == 0)
        #expect(without.output.contains("warning: retention_days is not set"))
        try "title: Test\nretention_days: 30\n".write(to: file, atomically: true, encoding: .utf8)
        let with = try Self.run(["check-config", file.path])
        #expect(with.status == 0)
        #expect(!with.output.contains("retention_days"))
    }

    @Test func eraseAndPurgeExplainBadInputAndExitNonZero() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let missing = try Self.run(["purge", "--database", folder.appendingPathComponent("none.sqlite").path])
        #expect(missing.status != 0)
        #expect(missing.output.contains("no database at"))
        let negative = try Self.run(["purge", "--database", "x.sqlite", "--older-than", "-3"])
        #expect(negative.status != 0)
        #expect(negative.output.contains("--older-than"))
        let notEvent = folder.appendingPathComponent("other.sqlite")
        try Data("not sqlite".utf8).write(to: notEvent)
        let erase = try Self.run(["erase", "--database", notEvent.path, "--participant", "pX"])
        #expect(erase.status == 1)
        #expect(erase.output.contains("stelling erase:"))
        #expect(!erase.output.contains("Fatal error"))
    }

    @Test func checkConfigReportsEveryMistakeWithKeyLineAndHintAndNoStackTrace() throws {
        let folder = try Self.temporaryFolder()
        let file = folder.appendingPathComponent("broken.yaml")
        try "title: Test\nport: lots\nlimits:\n  chat_chars: -1\ntally_interval: 100\n".write(to: file, atomically: true, encoding: .utf8)
        let run = try Self.run(["check-config", file.path])
        #expect(run.status == 2)
        #expect(run.output.contains("broken.yaml:2: port:"))
        #expect(run.output.contains("broken.yaml:4: limits.chat_chars:"))
        #expect(run.output.contains("tally_interval_ms"))
        #expect(!run.output.contains("Fatal error"))
        #expect(!run.output.contains("Stack"))
    }

    @Test func serveRefusesTheConformanceEchoOffLoopback() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = folder.appendingPathComponent("event.yaml")
        try "title: CLI test\nhost: 0.0.0.0\nport: 0\n".write(to: config, atomically: true, encoding: .utf8)
        let run = try Self.run(["serve", "--config", config.path, "--echo-conformance"])
        #expect(run.status != 0)
        #expect(run.output.contains("--echo-conformance needs a loopback host"))
    }

    @Test func serveWithAMissingCertificateStopsWithAClearError() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = folder.appendingPathComponent("event.yaml")
        try "title: CLI test\nhost: 127.0.0.1\nport: 0\ntls:\n  certificate: tls/cert.pem\n  private_key: tls/key.pem\n"
            .write(to: config, atomically: true, encoding: .utf8)
        let run = try Self.run(["serve", "--config", config.path])
        #expect(run.status == 1)
        let certificate = folder.appendingPathComponent("tls/cert.pem").path
        #expect(run.output.contains("cannot read the TLS certificate \(certificate): No such file or directory"), "\(run.output)")
        #expect(!run.output.contains("Fatal error"))
    }

    @Test func serveMakesAKeyWritesItToAPrivateFileAndStopsGracefullyOnSIGTERM() throws {
        let folder = try Self.temporaryFolder()
        let config = folder.appendingPathComponent("event.yaml")
        let port = try freePort()
        try "title: CLI test\nport: \(port)\nhost: 127.0.0.1\nweb_root: \(Self.root.path)/web\nstatements:\n  - id: s1\n    text: Een\n"
            .write(to: config, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["serve", "--config", config.path]
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "STELLING_MODERATOR_KEY")
        process.environment = env
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = pipe
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        // Without a terminal the generated key goes to a file beside the database, named in the log.
        var output = ""
        let deadline = Date().addingTimeInterval(20)
        while !output.contains("stelling started"), deadline.timeIntervalSinceNow > 0 {
            let chunk = pipe.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            output += String(decoding: chunk, as: UTF8.self)
        }
        let keyFile = folder.appendingPathComponent("data/stelling.sqlite.moderator-key").path
        #expect(output.contains(keyFile))
        let key = try #require(try String(contentsOfFile: keyFile, encoding: .utf8).split(separator: "\n").first.map(String.init))
        #expect(key.count >= 32)
        #expect(!output.contains(key))

        let pool = try WebSocketClientPool()
        defer { pool.shutdown(timeout: 5) }
        let moderator = pool.connect(url: "ws://127.0.0.1:\(port)/ws")
        #expect(moderator.waitOpen(timeout: 5))
        moderator.send("{\"type\":\"join\",\"role\":\"moderator\",\"key\":\"\(key)\"}")
        #expect(moderator.nextEvent(timeout: 5)?.contains("\"welcome\"") == true)

        kill(process.processIdentifier, SIGTERM)
        var closeCode: CloseCode?
        let closing = Date().addingTimeInterval(10)
        while closing.timeIntervalSinceNow > 0 {
            if case let .closed(code, _)? = moderator.next(timeout: 1) { closeCode = code; break }
        }
        #expect(closeCode == 1001)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }
}
