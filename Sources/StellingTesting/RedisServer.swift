import Foundation

/// A `redis-server` child process for tests: a temporary folder, a free loopback port, the AOF on
/// with `appendfsync always` by default, no RDB snapshots.
public final class RedisServer: @unchecked Sendable {
    /// The port it listens on, on 127.0.0.1.
    public let port: Int
    /// The folder: the AOF, `redis.log`, `redis.stderr`. Removed in deinit.
    public let folder: URL
    /// The password (`--requirepass`), if any.
    public let password: String?
    /// `redis://127.0.0.1:P/0`, with `:password@` when there is one.
    public var url: String {
        let login = password.map { ":\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0)@" } ?? ""
        return "redis://\(login)127.0.0.1:\(port)/0"
    }

    private let arguments: [String]
    private var process: Process?

    /// Where `redis-server` is: on PATH or /usr/bin; nil when missing.
    public static let binary: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let candidates = path.split(separator: ":").map { "\($0)/redis-server" } + ["/usr/bin/redis-server"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// Starts `redis-server` on a free loopback port in a fresh temporary folder and waits (at most
    /// 10 s) until it answers PING.
    public init(appendfsync: String = "always", appendonly: Bool = true, password: String? = nil) throws {
        guard Self.binary != nil else {
            throw TestFailure("redis-server is not installed: `make test` installs it (apt package redis-server), or run `apt-get install redis-server`")
        }
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("stelling-redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        port = try freePort()
        self.password = password
        var arguments = [
            "--port", String(port), "--bind", "127.0.0.1", "--dir", folder.path,
            "--appendonly", appendonly ? "yes" : "no", "--appendfsync", appendfsync,
            "--save", "", "--daemonize", "no", "--logfile", folder.appendingPathComponent("redis.log").path,
        ]
        if let password { arguments += ["--requirepass", password] }
        self.arguments = arguments
        do {
            try start()
        } catch {
            stop()
            try? FileManager.default.removeItem(at: folder)
            throw error
        }
    }

    /// SIGKILL, and waits for the exit: a crash of Redis (what the AOF holds stays).
    public func kill() {
        guard let process else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    /// Starts again on the same port and folder (the AOF is replayed) and waits for PING.
    public func restart() throws {
        stop()
        try start()
    }

    /// SIGSTOP: Redis stops answering, connections hang.
    public func pause() {
        guard let process else { return }
        Foundation.kill(process.processIdentifier, SIGSTOP)
    }

    /// SIGCONT after `pause`.
    public func resume() {
        guard let process else { return }
        Foundation.kill(process.processIdentifier, SIGCONT)
    }

    /// SIGTERM (after SIGCONT, in case it is paused) and waits at most 10 s, then SIGKILL.
    public func stop() {
        guard let process else { return }
        Foundation.kill(process.processIdentifier, SIGCONT)
        Foundation.kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning, deadline.timeIntervalSinceNow > 0 { usleep(10_000) }
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        self.process = nil
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: folder)
    }

    private func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary!)
        process.arguments = arguments
        let stderrPath = folder.appendingPathComponent("redis.stderr").path
        FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(10)
        while deadline.timeIntervalSinceNow > 0 {
            if !process.isRunning {
                self.process = nil
                throw TestFailure("redis-server exited at start: \(log())")
            }
            if answersPing() { return }
            usleep(20_000)
        }
        throw TestFailure("redis-server did not answer PING within 10 s: \(log())")
    }

    /// What redis-server wrote (stderr and its log), for failure messages.
    public func log() -> String {
        let stderr = (try? String(contentsOf: folder.appendingPathComponent("redis.stderr"), encoding: .utf8)) ?? ""
        let log = (try? String(contentsOf: folder.appendingPathComponent("redis.log"), encoding: .utf8)) ?? ""
        return String((stderr + log).suffix(2000))
    }

    /// A readiness probe on a plain socket (StellingTesting does not depend on the Redis client):
    /// AUTH when there is a password, then PING; true on +PONG (not while Redis loads the AOF).
    private func answersPing() -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { return false }
        var request: [UInt8] = []
        if let password {
            let bytes = Array(password.utf8)
            request += Array("*2\r\n$4\r\nAUTH\r\n$\(bytes.count)\r\n".utf8) + bytes + Array("\r\n".utf8)
        }
        request += Array("*1\r\n$4\r\nPING\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else { return false }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 512)
        while received.count < 4096 {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return false }
            received += chunk[..<count]
            let text = String(decoding: received, as: UTF8.self)
            if text.contains("+PONG\r\n") { return true }
            if text.hasSuffix("\r\n"), text.contains("-LOADING") || text.contains("-ERR") || text.contains("-WRONGPASS") { return false }
        }
        return false
    }
}
