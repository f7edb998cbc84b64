import Foundation
import StellingLoad

/// The built `stelling` binary running `serve` in a child process, on a temporary event.
final class StellingProcess: @unchecked Sendable {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// The `stelling` built beside this test binary (any --scratch-path), else .build/debug's.
    static let binary: String = {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("stelling").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        return root.appendingPathComponent(".build/debug/stelling").path
    }()

    let folder: URL
    let config: URL
    let port: Int
    let key: String?
    private(set) var process: Process?
    private(set) var output = ""
    private var pipe: Pipe?

    /// Writes `yaml` (with `port`, `host` and `web_root` added; no `web_root` when nil: the
    /// pages built in) into a fresh folder.
    init(yaml: String, key: String? = "durability-test-moderator-key",
         webRoot: String? = StellingProcess.root.path + "/web") throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("stelling-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        port = try freePort()
        config = folder.appendingPathComponent("event.yaml")
        let full = yaml + "\nport: \(port)\nhost: 127.0.0.1\n" + (webRoot.map { "web_root: \($0)\n" } ?? "")
        try full.write(to: config, atomically: true, encoding: .utf8)
        self.key = key
    }

    var databasePath: String { folder.appendingPathComponent("data/stelling.sqlite").path }
    var url: String { "ws://127.0.0.1:\(port)/ws" }

    /// Starts `serve` and waits for its start line.
    func start(workingDirectory: String? = nil, timeout: Double = 20) throws {
        let process = Process()
        if let workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
        process.executableURL = URL(fileURLWithPath: StellingProcess.binary)
        process.arguments = ["serve", "--config", config.path]
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "STELLING_MODERATOR_KEY")
        if let key { environment["STELLING_MODERATOR_KEY"] = key }
        process.environment = environment
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = pipe
        try process.run()
        self.process = process
        self.pipe = pipe
        output = ""
        let deadline = Date().addingTimeInterval(timeout)
        while !output.contains("stelling started"), deadline.timeIntervalSinceNow > 0 {
            let chunk = pipe.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            output += String(decoding: chunk, as: UTF8.self)
        }
        guard output.contains("stelling started") else { throw TestFailure("server did not start: \(output)") }
    }

    /// Sends a signal and waits for the process to end; returns its status.
    @discardableResult
    func stop(signal number: Int32 = SIGTERM, timeout: Double = 15) -> Int32? {
        guard let process else { return nil }
        kill(process.processIdentifier, number)
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, deadline.timeIntervalSinceNow > 0 { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        self.process = nil
        return process.terminationStatus
    }

    deinit {
        if let process, process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: folder)
    }
}
