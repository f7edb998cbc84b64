import CHiredis

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One hiredis connection; NOT thread-safe: one thread uses it.
///
/// Blocking: every call waits for its reply, at most the command timeout. After any thrown
/// `RedisError` (except `.usage`) the connection is unusable (`isBroken`); callers make a new one.
/// Every hiredis call of Stelling is in this file.
public final class RedisConnection {
    /// Where this connection goes.
    public let url: RedisURL
    private let context: UnsafeMutablePointer<redisContext>
    private var commandTimeout: Duration
    private var failure: RedisError?

    /// Connects, authenticates (`AUTH user password` or `AUTH password`) and selects the database.
    /// Fails with the URL (without the password) in the message.
    public init(url: RedisURL, connectTimeout: Duration = .seconds(2), commandTimeout: Duration = .seconds(5)) throws(RedisError) {
        self.url = url
        self.commandTimeout = commandTimeout
        // hiredis writes with write(2): a Redis that went away must be an EPIPE error, not a
        // SIGPIPE that ends the process (as the WebSocket server does for its sockets).
        signal(SIGPIPE, SIG_IGN)
        guard let context = redisConnectWithTimeout(url.host, Int32(url.port), Self.timeValue(connectTimeout)) else {
            throw RedisError("cannot connect to Redis at \(url): out of memory", kind: .connect)
        }
        self.context = context
        if context.pointee.err != 0 {
            failure = RedisError("cannot connect to Redis at \(url): \(Self.errorText(context))", kind: .connect)
            throw failure!
        }
        setCommandTimeout(commandTimeout)
        if let failure { throw RedisError("cannot connect to Redis at \(url): \(failure.description)", kind: .connect) }
        do throws(RedisError) {
            if let password = url.password {
                let auth = url.username.map { ["AUTH", $0, password] } ?? ["AUTH", password]
                if case .error(let message) = try command(auth.map { Array($0.utf8) }) {
                    let refused = RedisError("Redis at \(url) refused the login: \(message)", kind: .connect)
                    failure = refused
                    throw refused
                }
            }
            let check = url.database != 0 ? ["SELECT", String(url.database)] : ["PING"]
            if case .error(let message) = try command(check) {
                let refused = RedisError("Redis at \(url) refused \(check[0]): \(message)", kind: .connect)
                failure = refused
                throw refused
            }
        } catch {
            if error.kind == .connect { throw error }
            throw RedisError("cannot connect to Redis at \(url): \(error.description)", kind: .connect)
        }
    }

    deinit {
        redisFree(context)
    }

    /// True after a thrown `RedisError` of the connection (I/O, timeout, closed): make a new one.
    public var isBroken: Bool { failure != nil }

    /// Sends one command (binary-safe arguments) and waits for its reply.
    public func command(_ arguments: [[UInt8]]) throws(RedisError) -> RedisReply {
        try usable()
        guard !arguments.isEmpty else { throw RedisError("a Redis command needs at least its name", kind: .usage) }
        let raw = Self.withArgv(arguments) { count, argv, lengths in
            redisCommandArgv(context, count, argv, lengths)
        }
        guard let raw else { throw fail() }
        defer { freeReplyObject(raw) }
        return try reply(raw.assumingMemoryBound(to: redisReply.self))
    }

    /// Sends one command given as text (`command("SET", "k", "v")`) and waits for its reply.
    public func command(_ arguments: String...) throws(RedisError) -> RedisReply {
        try command(arguments)
    }

    /// Sends one command given as text and waits for its reply.
    public func command(_ arguments: [String]) throws(RedisError) -> RedisReply {
        try command(arguments.map { Array($0.utf8) })
    }

    /// Sends all commands, then reads all replies in order (one round trip).
    public func pipeline(_ commands: [[[UInt8]]]) throws(RedisError) -> [RedisReply] {
        try usable()
        guard !commands.contains(where: \.isEmpty) else {
            throw RedisError("a Redis command needs at least its name", kind: .usage)
        }
        for arguments in commands {
            let status = Self.withArgv(arguments) { count, argv, lengths in
                redisAppendCommandArgv(context, count, argv, lengths)
            }
            guard status == REDIS_OK else { throw fail() }
        }
        var replies: [RedisReply] = []
        replies.reserveCapacity(commands.count)
        for _ in commands {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReply(context, &raw) == REDIS_OK, let raw else { throw fail() }
            defer { freeReplyObject(raw) }
            replies.append(try reply(raw.assumingMemoryBound(to: redisReply.self)))
        }
        return replies
    }

    /// The longest wait for a reply (`redisSetTimeout`: the socket's receive and send timeouts);
    /// `.zero` waits for ever. Raise it around `XREAD BLOCK` above the block time.
    public func setCommandTimeout(_ timeout: Duration) {
        commandTimeout = timeout
        if redisSetTimeout(context, Self.timeValue(timeout)) != REDIS_OK, failure == nil {
            failure = RedisError("cannot set the timeout of the connection to Redis at \(url): \(Self.errorText(context))")
        }
    }

    // MARK: - Private

    private func usable() throws(RedisError) {
        if let failure {
            throw RedisError("the connection to Redis at \(url) is broken (\(failure.description)); make a new one", kind: failure.kind)
        }
    }

    /// Records the context's error (hiredis keeps `err` set: the connection is done) and returns it.
    private func fail() -> RedisError {
        let code = context.pointee.err
        let savedErrno = errno
        let error: RedisError
        // 0.14 reports a receive timeout as REDIS_ERR_IO with EAGAIN; hiredis 1.x may say
        // REDIS_ERR_TIMEOUT (6), which 0.14's headers do not define.
        if (code == REDIS_ERR_IO && (savedErrno == EAGAIN || savedErrno == EWOULDBLOCK)) || code == 6 {
            error = RedisError("no reply from Redis at \(url) within \(Self.milliseconds(commandTimeout)) ms", kind: .timeout)
        } else if code == REDIS_ERR_EOF {
            error = RedisError("Redis at \(url) closed the connection: \(Self.errorText(context))", kind: .closed)
        } else if code == 0 {
            error = RedisError("hiredis failed on the connection to Redis at \(url) without an error (out of memory?)")
        } else {
            error = RedisError("the connection to Redis at \(url) failed: \(Self.errorText(context))")
        }
        failure = error
        return error
    }

    /// Converts hiredis' reply tree (every type of 0.14); an unknown type breaks the connection.
    private func reply(_ raw: UnsafeMutablePointer<redisReply>) throws(RedisError) -> RedisReply {
        let node = raw.pointee
        switch node.type {
        case REDIS_REPLY_STRING, REDIS_REPLY_STATUS:
            return .string(Self.bytes(node.str, node.len))
        case REDIS_REPLY_ERROR:
            return .error(String(decoding: Self.bytes(node.str, node.len), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            return .integer(Int64(node.integer))
        case REDIS_REPLY_NIL:
            return .null
        case REDIS_REPLY_ARRAY:
            var elements: [RedisReply] = []
            elements.reserveCapacity(node.elements)
            for index in 0..<node.elements {
                guard let element = node.element?[index] else { elements.append(.null); continue }
                elements.append(try reply(element))
            }
            return .array(elements)
        default:
            let error = RedisError("Redis at \(url) sent a reply of unknown type \(node.type)")
            failure = error
            throw error
        }
    }

    private static func bytes(_ pointer: UnsafeMutablePointer<CChar>?, _ length: Int) -> [UInt8] {
        guard let pointer, length > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: length))
    }

    /// Lays the arguments out in one buffer and passes hiredis the pointers and lengths (binary-safe).
    private static func withArgv<Result>(
        _ arguments: [[UInt8]],
        _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> Result
    ) -> Result {
        let total = arguments.reduce(0) { $0 + $1.count }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(total, 1), alignment: 1)
        defer { buffer.deallocate() }
        var pointers: [UnsafePointer<CChar>?] = []
        var lengths: [Int] = []
        pointers.reserveCapacity(arguments.count)
        lengths.reserveCapacity(arguments.count)
        var offset = 0
        for argument in arguments {
            let start = buffer.baseAddress! + offset
            argument.withUnsafeBytes { source in
                if !source.isEmpty { start.copyMemory(from: source.baseAddress!, byteCount: source.count) }
            }
            pointers.append(UnsafePointer(start.assumingMemoryBound(to: CChar.self)))
            lengths.append(argument.count)
            offset += argument.count
        }
        return pointers.withUnsafeMutableBufferPointer { argv in
            lengths.withUnsafeBufferPointer { body(Int32(arguments.count), argv.baseAddress!, $0.baseAddress!) }
        }
    }

    private static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        String(cString: stelling_redis_errstr(context))
    }

    private static func timeValue(_ duration: Duration) -> timeval {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0, duration > .zero else { return timeval(tv_sec: 0, tv_usec: 0) }
        var micro = attoseconds / 1_000_000_000_000
        if seconds == 0 && micro == 0 { micro = 1 }  // a positive timeout below 1 µs is not "for ever"
        return timeval(tv_sec: Int(seconds), tv_usec: Int(micro))
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
