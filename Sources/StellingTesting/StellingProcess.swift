import Foundation
import StellingLWS

/// The built `stelling` binary running `serve` in a child process, on a temporary event.
public final class StellingProcess: @unchecked Sendable {
    /// The repository's root (this file is Sources/StellingTesting/StellingProcess.swift).
    public static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// The `stelling` built beside this test binary (any --scratch-path), else .build/debug's.
    public static let binary: String = {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("stelling").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        return root.appendingPathComponent(".build/debug/stelling").path
    }()

    /// The temporary folder: the configuration and the data.
    public let folder: URL
    /// The configuration file.
    public let config: URL
    /// The port the server listens on, on 127.0.0.1.
    public let port: Int
    /// The moderator key in the environment, if any.
    public let key: String?
    /// The running process, between `start` and `stop`.
    public private(set) var process: Process?
    /// What the process wrote up to its start line.
    public private(set) var output = ""
    private var pipe: Pipe?

    /// Writes `yaml` (with `port`, `host` and `web_root` added; no `web_root` when nil: the
    /// pages built in) into a fresh folder.
    public init(yaml: String, key: String? = "durability-test-moderator-key",
         webRoot: String? = StellingProcess.root.path + "/web") throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("stelling-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        port = try freePort()
        config = folder.appendingPathComponent("event.yaml")
        let full = yaml + "\nport: \(port)\nhost: 127.0.0.1\n" + (webRoot.map { "web_root: \($0)\n" } ?? "")
        try full.write(to: config, atomically: true, encoding: .utf8)
        self.key = key
    }

    /// The event's SQLite database.
    public var databasePath: String { folder.appendingPathComponent("data/stelling.sqlite").path }
    /// The WebSocket URL of the server.
    public var url: String { "ws://127.0.0.1:\(port)/ws" }

    /// Starts `serve` and waits for its start line.
    public func start(workingDirectory: String? = nil, timeout: Double = 20) throws {
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
    public func stop(signal number: Int32 = SIGTERM, timeout: Double = 15) -> Int32? {
        guard let process else { return nil }
        kill(process.processIdentifier, number)
        if !eventually(timeout: timeout, { !process.isRunning }) { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        self.process = nil
        return process.terminationStatus
    }

    deinit {
        if let process, process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: folder)
    }
}

/// A port that was free a moment ago (bind to 0, read it, close).
public func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw TestFailure("no free port") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// A client of a `stelling` child process that was welcomed: its id and resume token.
public struct JoinedClient {
    /// The client.
    public var client: TestClient
    /// The id its welcome gave.
    public var id: String
    /// The resume token its welcome gave (participants).
    public var resume: String?
}

extension StellingProcess {
    /// Opens a WebSocket to this server through `pool`, sends `fields` as the join, and waits for the welcome.
    public func join(_ pool: WebSocketClientPool, _ fields: [(String, String?)]) throws -> JoinedClient {
        let connection = pool.connect(url: url)
        guard connection.waitOpen(timeout: 5) else { throw TestFailure("no connection to \(url)") }
        let client = TestClient(connection)
        client.send(object: fields)
        let welcome = try client.expect("welcome", timeout: 10)
        return JoinedClient(client: client, id: welcome.object("you")?.string("id") ?? "", resume: welcome.string("resume"))
    }
}
