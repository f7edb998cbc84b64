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
    /// The running redis-server, between `start` and its end (0: none).
    private var pid: pid_t = 0
    private var paused = false

    /// Where `redis-server` is: on PATH or /usr/bin; nil when missing.
    public static let binary: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let candidates = path.split(separator: ":").map { "\($0)/redis-server" } + ["/usr/bin/redis-server"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// Starts `redis-server` on a free loopback port in a fresh temporary folder and waits (at most
    /// 10 s) until it answers PING.
    /// `bind` is what it listens on (`--bind`); the readiness probe uses 127.0.0.1, so keep it in.
    public init(appendfsync: String = "always", appendonly: Bool = true, password: String? = nil,
                bind: [String] = ["127.0.0.1"]) throws {
        guard Self.binary != nil else {
            throw TestFailure("redis-server is not installed: `make test` installs it (apt package redis-server), or run `apt-get install redis-server`")
        }
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("stelling-redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        port = try freePort()
        self.password = password
        var arguments = [
            "--port", String(port), "--bind", bind.joined(separator: " "), "--dir", folder.path,
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
        guard pid != 0 else { return }
        Foundation.kill(pid, SIGKILL)
        reap(within: 10)
    }

    /// Starts again on the same port and folder (the AOF is replayed) and waits for PING.
    public func restart() throws {
        stop()
        try start()
    }

    /// SIGSTOP: Redis stops answering, connections hang.
    public func pause() {
        guard pid != 0 else { return }
        Foundation.kill(pid, SIGSTOP)
        paused = true
    }

    /// SIGCONT after `pause`.
    public func resume() {
        guard pid != 0, paused else { return }
        Foundation.kill(pid, SIGCONT)
        paused = false
    }

    /// SIGTERM (after SIGCONT when paused) and waits at most 10 s, then SIGKILL.
    public func stop() {
        guard pid != 0 else { return }
        resume()
        Foundation.kill(pid, SIGTERM)
        if !reap(within: 10) {
            Foundation.kill(pid, SIGKILL)
            reap(within: 10)
        }
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: folder)
    }

    /// Waits (bounded) for the child to end and reaps it; false if it still runs.
    @discardableResult
    private func reap(within seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        var status: Int32 = 0
        repeat {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid || (result < 0 && errno == ECHILD) {
                pid = 0
                paused = false
                return true
            }
            usleep(5_000)
        } while deadline.timeIntervalSinceNow > 0
        return false
    }

    /// posix_spawn with an empty signal mask and default handlers: a child spawned from a test's
    /// thread (Dispatch workers block signals) would otherwise ignore SIGTERM.
    private func start() throws {
        let stderrPath = folder.appendingPathComponent("redis.stderr").path
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        Self.closeInheritedDescriptors(&actions)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let binary = Self.binary!
        let argv: [UnsafeMutablePointer<CChar>?] = ([binary] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let spawned = posix_spawn(&child, binary, &actions, &attributes, argv, environ)
        guard spawned == 0 else { throw TestFailure("cannot start redis-server: \(String(cString: strerror(spawned)))") }
        pid = child
        let deadline = Date().addingTimeInterval(10)
        while deadline.timeIntervalSinceNow > 0 {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                pid = 0
                throw TestFailure("redis-server exited at start: \(log())")
            }
            if answersPing() { return }
            usleep(20_000)
        }
        throw TestFailure("redis-server did not answer PING within 10 s: \(log())")
    }

    /// Closes every descriptor above 2 in the child, as Foundation's Process does: a redis-server
    /// that kept a test's sockets or pipes open would hide their close from the other end.
    /// `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34) is not imported by Swift's Glibc
    /// module, so it is looked up; without it, each descriptor open now is closed (glibc ignores
    /// a close of one that has gone by then).
    private static func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") {
            let closeFrom = unsafeBitCast(symbol, to: CloseFrom.self)
            if closeFrom(&actions, 3) == 0 { return }
        }
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for fd in open.compactMap(Int32.init) where fd > 2 {
            posix_spawn_file_actions_addclose(&actions, fd)
        }
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
