import Foundation
import Logging
import StellingCore
import Synchronization

/// A position in the event's log: a Redis stream entry id, `milliseconds-sequence`. Redis makes
/// ids that only grow, from its own clock, so the milliseconds are the entry's time on every node.
public struct LogPosition: Comparable, Hashable, Sendable, CustomStringConvertible {
    /// Redis' clock when the entry was appended.
    public var milliseconds: UInt64
    /// The entry's number within that millisecond.
    public var sequence: UInt64

    /// Before every entry.
    public static let start = LogPosition(milliseconds: 0, sequence: 0)

    /// Makes a position.
    public init(milliseconds: UInt64, sequence: UInt64) {
        self.milliseconds = milliseconds
        self.sequence = sequence
    }

    /// Reads `ms-seq`.
    public init?(_ text: String) {
        let parts = text.split(separator: "-")
        guard parts.count == 2, let milliseconds = UInt64(parts[0]), let sequence = UInt64(parts[1]) else { return nil }
        self.init(milliseconds: milliseconds, sequence: sequence)
    }

    public var description: String { "\(milliseconds)-\(sequence)" }

    public static func < (lhs: LogPosition, rhs: LogPosition) -> Bool {
        (lhs.milliseconds, lhs.sequence) < (rhs.milliseconds, rhs.sequence)
    }
}

/// One entry of the log as read: its position and the batch it holds (nil when the entry is not a
/// batch: every node skips it alike).
public struct LoggedBatch: Sendable {
    /// Where it is in the log.
    public var position: LogPosition
    /// The batch.
    public var batch: ReplicatedBatch?

    /// Makes one.
    public init(position: LogPosition, batch: ReplicatedBatch?) {
        self.position = position
        self.batch = batch
    }
}

/// Why a node cannot join the event.
public struct ClusterError: Error, CustomStringConvertible, Sendable {
    public var description: String

    /// Makes an error.
    public init(_ description: String) { self.description = description }
}

/// The event's log in Redis (docs/SCALING.md): a stream `stelling:{event}:log` of batches.
///
/// Two threads, each with its own connection: the writer appends what this node's clients asked
/// (one XADD per batch; everything that arrived while the previous XADD waited for Redis' fsync
/// goes into the next batch: group commit), and the reader follows the stream (XREAD BLOCK) and
/// hands every batch, this node's own included, to `deliver` in order. A batch that could not be
/// appended is sent again with the same number, and readers skip a number they have seen, so a
/// retry after a lost reply never applies twice. The writer appends an empty batch when it has had
/// nothing to append for `heartbeatMilliseconds`: the other nodes see that this node lives.
public final class ClusterLog: @unchecked Sendable {
    /// The Redis server.
    public let url: RedisURL
    /// The event's name space.
    public let event: String
    /// This node's name.
    public let nodeName: String
    /// This node run's number, taken from Redis at `open` (`stelling:{event}:nodes`).
    public private(set) var node: UInt32 = 0

    /// The longest a node sends nothing: an empty batch after this long.
    public static let heartbeatMilliseconds: UInt64 = 500
    /// The most entries in one batch.
    public static let maximumBatchEntries = 4096
    /// Entries read per XREAD / XRANGE.
    static let readCount = 512

    private let logger: Logger
    private let state = Mutex(State())
    private let wake = NSCondition()
    private var writerThread: Thread?
    private var readerThread: Thread?

    private struct State {
        var pending: [ReplicatedEntry] = []
        var inFlight = 0
        var stopping = false
        var writerFailure: String?
        var readerFailure: String?
        var fatal: String?
    }

    /// The stream's key.
    var logKey: [UInt8] { Array("stelling:{\(event)}:log".utf8) }
    var nodesKey: String { "stelling:{\(event)}:nodes" }
    var configKey: String { "stelling:{\(event)}:config" }

    /// A log for `event` on the Redis at `url`; nothing is connected before `open`.
    public init(url: RedisURL, event: String, nodeName: String, logger: Logger) {
        self.url = url
        self.event = event
        self.nodeName = nodeName
        self.logger = logger
    }

    // MARK: Start

    /// Connects, refuses a Redis that could lose acknowledged records, checks this node's settings
    /// against the event's (the first node writes them), and takes this run's node number.
    public func open(settings: [(key: String, value: String)]) throws(ClusterError) {
        let connection = try connect()
        try redis { () throws(RedisError) in try RedisDurability.check(connection, url: url) }
        try checkSettings(settings, on: connection)
        let reply = try redis { () throws(RedisError) in try connection.command("INCR", nodesKey) }
        guard case let .integer(number) = reply, number > 0, number < 1 << 24 else {
            throw ClusterError("Redis at \(url) did not give this node a number (INCR \(nodesKey)).")
        }
        node = UInt32(number)
    }

    /// Runs Redis commands; a failure becomes a `ClusterError` (its message names the URL already).
    func redis<T>(_ body: () throws(RedisError) -> T) throws(ClusterError) -> T {
        do {
            return try body()
        } catch {
            throw ClusterError(error.description)
        }
    }

    /// The first node stores its settings; every later node compares its own with them and
    /// refuses to start on the first key that differs.
    func checkSettings(_ settings: [(key: String, value: String)], on connection: RedisConnection) throws(ClusterError) {
        let mine = ClusterSettingsText.encode(settings)
        let reply = try redis { () throws(RedisError) in
            _ = try connection.command([Array("SET".utf8), Array(configKey.utf8), mine, Array("NX".utf8)])
            return try connection.command("GET", configKey)
        }
        guard case let .string(stored) = reply else {
            throw ClusterError("Redis at \(url) holds no settings for event \(event) after storing them.")
        }
        if let difference = ClusterSettingsText.firstDifference(mine: settings, event: ClusterSettingsText.decode(stored)) {
            throw ClusterError(difference)
        }
    }

    /// Reads every batch after `position` up to the end of the log now, in order (a node's start).
    public func readAll(after position: LogPosition, _ body: (LoggedBatch) throws -> Void) throws {
        let connection = try connect()
        var position = position
        while true {
            let reply: RedisReply
            do {
                reply = try connection.command([Array("XRANGE".utf8), logKey, Array("(\(position)".utf8), Array("+".utf8),
                                                Array("COUNT".utf8), Array("\(ClusterLog.readCount)".utf8)])
            } catch {
                throw ClusterError("reading the event's log failed: \(error)")
            }
            let batches = try ClusterLog.batches(in: reply)
            for batch in batches { try body(batch) }
            guard let last = batches.last, batches.count == ClusterLog.readCount else { return }
            position = last.position
        }
    }

    /// Starts the writer and the reader. `deliver` gets the batches after `position` in order, on
    /// the reader thread; the reader waits for it to return before it reads on.
    public func start(after position: LogPosition, deliver: @escaping @Sendable ([LoggedBatch]) -> Void) {
        let writer = Thread { [self] in writeLoop() }
        writer.name = "stelling-log-writer"
        let reader = Thread { [self] in readLoop(after: position, deliver: deliver) }
        reader.name = "stelling-log-reader"
        writerThread = writer
        readerThread = reader
        writer.start()
        reader.start()
    }

    /// Stops both threads after the writer appended what is pending (at most `timeout` seconds).
    public func stop(timeout: Double = 5) {
        let deadline = Date().addingTimeInterval(timeout)
        while backlog > 0, Date() < deadline, failure == nil { Thread.sleep(forTimeInterval: 0.01) }
        state.withLock { $0.stopping = true }
        wake.lock(); wake.broadcast(); wake.unlock()
    }

    // MARK: Appending

    /// Queues an entry for the log; the writer appends it with whatever else is pending.
    public func append(_ entry: ReplicatedEntry) {
        state.withLock { $0.pending.append(entry) }
        wake.lock(); wake.signal(); wake.unlock()
    }

    /// Entries queued or being appended, not yet in the log.
    public var backlog: Int { state.withLock { $0.pending.count + $0.inFlight } }

    /// Why the log cannot take or give entries now (Redis unreachable), or nil.
    public var failure: String? {
        state.withLock { $0.fatal ?? $0.writerFailure ?? $0.readerFailure }
    }

    /// A failure this node cannot recover from (the log lost entries it had applied).
    public var fatalFailure: String? { state.withLock { $0.fatal } }

    private func writeLoop() {
        var connection: RedisConnection?
        var sequence: UInt64 = 0
        var batch: ReplicatedBatch?
        var lastAppend = ContinuousClock.now
        var pause = 0.05
        while true {
            if batch == nil {
                wake.lock()
                let heartbeat = lastAppend + .milliseconds(Int64(ClusterLog.heartbeatMilliseconds))
                // `append` and `stop` signal under `wake`, so no signal is missed between the check and the wait.
                while state.withLock({ $0.pending.isEmpty && !$0.stopping }), ContinuousClock.now < heartbeat {
                    let left = heartbeat - ContinuousClock.now
                    _ = wake.wait(until: Date().addingTimeInterval(Double(left.components.attoseconds) / 1e18 + Double(left.components.seconds)))
                }
                wake.unlock()
                let (entries, stopping) = state.withLock { state -> ([ReplicatedEntry], Bool) in
                    let count = min(state.pending.count, ClusterLog.maximumBatchEntries)
                    let taken = Array(state.pending.prefix(count))
                    state.pending.removeFirst(count)
                    state.inFlight = count
                    return (taken, state.stopping)
                }
                if stopping && entries.isEmpty { return }
                batch = ReplicatedBatch(node: node, sequence: sequence + 1, entries: entries)
            }
            guard let current = batch else { continue }
            do throws(RedisError) {
                if connection == nil || connection!.isBroken { connection = try RedisConnection(url: url) }
                let reply = try connection!.command([Array("XADD".utf8), logKey, Array("*".utf8), Array("b".utf8), current.encoded()])
                if case let .error(message) = reply {
                    throw RedisError("XADD refused: \(message)", kind: .refused)
                }
                sequence = current.sequence
                batch = nil
                lastAppend = .now
                pause = 0.05
                let recovered = state.withLock { state -> Bool in
                    state.inFlight = 0
                    defer { state.writerFailure = nil }
                    return state.writerFailure != nil
                }
                if recovered { logger.notice("redis reachable again", metadata: ["redis.url": "\(url)", "cluster.role": "writer"]) }
            } catch {
                connection = nil
                let first = state.withLock { state -> Bool in
                    defer { state.writerFailure = "Redis is unreachable: \(error)" }
                    return state.writerFailure == nil
                }
                if first { logger.error("redis unreachable", metadata: ["redis.url": "\(url)", "cluster.role": "writer", "error": "\(error)"]) }
                if state.withLock({ $0.stopping }) { return }
                Thread.sleep(forTimeInterval: pause)
                pause = min(pause * 2, 1)
            }
        }
    }

    // MARK: Reading

    private func readLoop(after start: LogPosition, deliver: @Sendable ([LoggedBatch]) -> Void) {
        var connection: RedisConnection?
        var position = start
        var pause = 0.05
        while !state.withLock({ $0.stopping }) {
            do {
                if connection == nil || connection!.isBroken {
                    let fresh = try RedisConnection(url: url)
                    try checkNotBehind(position, on: fresh)
                    connection = fresh
                }
                let reply = try connection!.command([Array("XREAD".utf8), Array("COUNT".utf8), Array("\(ClusterLog.readCount)".utf8),
                                                     Array("BLOCK".utf8), Array("500".utf8), Array("STREAMS".utf8), logKey,
                                                     Array(position.description.utf8)])
                let batches = try ClusterLog.batches(inRead: reply)
                let recovered = state.withLock { state -> Bool in
                    defer { state.readerFailure = nil }
                    return state.readerFailure != nil
                }
                if recovered { logger.notice("redis reachable again", metadata: ["redis.url": "\(url)", "cluster.role": "reader"]) }
                pause = 0.05
                guard let last = batches.last else { continue }
                deliver(batches)
                position = last.position
            } catch let error as ClusterError where error.description.hasPrefix(ClusterLog.lostPrefix) {
                state.withLock { $0.fatal = error.description }
                logger.critical("event log lost entries", metadata: ["redis.url": "\(url)", "error": "\(error)"])
                return
            } catch {
                connection = nil
                let first = state.withLock { state -> Bool in
                    defer { state.readerFailure = "Redis is unreachable: \(error)" }
                    return state.readerFailure == nil
                }
                if first { logger.error("redis unreachable", metadata: ["redis.url": "\(url)", "cluster.role": "reader", "error": "\(error)"]) }
                Thread.sleep(forTimeInterval: pause)
                pause = min(pause * 2, 1)
            }
        }
    }

    static let lostPrefix = "The event's log in Redis"

    /// After a reconnect: the log must still hold what this node applied (a Redis restarted without
    /// its append-only file would not); a node that finds it shorter stops taking requests.
    func checkNotBehind(_ position: LogPosition, on connection: RedisConnection) throws {
        guard position > .start else { return }
        let reply = try connection.command([Array("XREVRANGE".utf8), logKey, Array("+".utf8), Array("-".utf8),
                                            Array("COUNT".utf8), Array("1".utf8)])
        let newest = try ClusterLog.batches(in: reply).last?.position
        if newest == nil || newest! < position {
            throw ClusterError("\(ClusterLog.lostPrefix) (\(url), event \(event)) ends at \(newest?.description ?? "nothing"), before \(position), which this node had applied: Redis lost acknowledged records (was it restarted without appendonly?).")
        }
    }

    private func connect() throws(ClusterError) -> RedisConnection {
        try redis { () throws(RedisError) in try RedisConnection(url: url) }
    }

    /// The batches of an XRANGE / XREVRANGE reply.
    static func batches(in reply: RedisReply) throws(ClusterError) -> [LoggedBatch] {
        switch reply {
        case .null: return []
        case let .error(message): throw ClusterError("Redis refused to read the log: \(message)")
        case let .array(entries):
            var batches: [LoggedBatch] = []
            batches.reserveCapacity(entries.count)
            for entry in entries {
                guard case let .array(pair) = entry, pair.count == 2, case let .string(id) = pair[0],
                      let position = LogPosition(String(decoding: id, as: UTF8.self)), case let .array(fields) = pair[1] else {
                    throw ClusterError("Redis gave a log entry of an unexpected shape.")
                }
                var batch: ReplicatedBatch?
                if fields.count >= 2, case let .string(name) = fields[0], name == Array("b".utf8), case let .string(bytes) = fields[1] {
                    batch = ReplicatedBatch(decoding: bytes)
                }
                batches.append(LoggedBatch(position: position, batch: batch))
            }
            return batches
        default:
            throw ClusterError("Redis gave a log reply of an unexpected shape.")
        }
    }

    /// The batches of an XREAD reply on one stream (null when BLOCK timed out).
    static func batches(inRead reply: RedisReply) throws(ClusterError) -> [LoggedBatch] {
        switch reply {
        case .null: return []
        case let .error(message): throw ClusterError("Redis refused to read the log: \(message)")
        case let .array(streams):
            guard let first = streams.first else { return [] }
            guard case let .array(pair) = first, pair.count == 2 else { throw ClusterError("Redis gave an XREAD reply of an unexpected shape.") }
            return try batches(in: pair[1])
        default:
            throw ClusterError("Redis gave an XREAD reply of an unexpected shape.")
        }
    }
}

/// The event's settings as stored in Redis: one `key<TAB>value` line each, tabs, newlines and
/// backslashes escaped.
enum ClusterSettingsText {
    static func encode(_ settings: [(key: String, value: String)]) -> [UInt8] {
        Array(settings.map { "\($0.key)\t\(escape($0.value))" }.joined(separator: "\n").utf8)
    }

    static func decode(_ bytes: [UInt8]) -> [(key: String, value: String)] {
        String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true).map { line in
            let parts = line.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
            return (String(parts[0]), parts.count > 1 ? unescape(String(parts[1])) : "")
        }
    }

    /// The first key whose value differs, as a sentence, or nil when the settings are the same.
    static func firstDifference(mine: [(key: String, value: String)], event: [(key: String, value: String)]) -> String? {
        let theirs = Dictionary(event.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        let ours = Dictionary(mine.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        for (key, value) in mine where theirs[key] != value {
            return "this node's \(key) differs from the event's in Redis: here \(shown(value)), in the event \(shown(theirs[key])); every node of an event needs the same statements, groups and limits."
        }
        for (key, value) in event where ours[key] == nil {
            return "this node's \(key) differs from the event's in Redis: here nothing, in the event \(shown(value)); every node of an event needs the same statements, groups and limits."
        }
        return nil
    }

    static func shown(_ value: String?) -> String {
        guard let value else { return "nothing" }
        let short = value.count > 60 ? String(value.prefix(60)) + "…" : value
        return "'\(short)'"
    }

    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\t", with: "\\t").replacingOccurrences(of: "\n", with: "\\n")
    }

    static func unescape(_ value: String) -> String {
        var out = ""
        var escaped = false
        for character in value {
            if escaped {
                out.append(character == "t" ? "\t" : character == "n" ? "\n" : character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                out.append(character)
            }
        }
        return out
    }
}

/// What every node of an event must agree on (docs/SCALING.md): the room's rules. Settings of one
/// node's own (port, database, join admission, outbound queues) are not in it.
public enum EventSettings {
    /// The room's rules as `key = value` pairs with the configuration file's key names.
    public static func of(_ configuration: Configuration) -> [(key: String, value: String)] {
        let limits = configuration.limits
        var settings: [(key: String, value: String)] = [
            ("title", configuration.title),
            ("language", configuration.language),
            ("moderator_key", configuration.moderatorKey.map { "sha256:" + SHA256.hex($0.utf8) } ?? ""),
            ("groups", configuration.groups.joined(separator: "\u{1F}")),
            ("programme", configuration.programme.map { "\($0.time) \($0.item)" }.joined(separator: "\u{1F}")),
            ("statements", configuration.statements.map(\.id).joined(separator: ",")),
        ]
        for statement in configuration.statements { settings.append(("statements.\(statement.id)", statement.text)) }
        settings += [
            ("tally_interval_ms", "\(configuration.tallyIntervalMilliseconds)"),
            ("limits.message_bytes", "\(limits.messageBytes)"),
            ("limits.chat_chars", "\(limits.chatChars)"),
            ("limits.chat_burst", "\(limits.chatBurst)"),
            ("limits.chat_per_second", "\(limits.chatPerSecond)"),
            ("limits.vote_burst", "\(limits.voteBurst)"),
            ("limits.votes_per_second", "\(limits.votesPerSecond)"),
            ("limits.question_burst", "\(limits.questionBurst)"),
            ("limits.questions_per_minute", "\(limits.questionsPerMinute)"),
            ("limits.question_chars", "\(limits.questionChars)"),
            ("limits.chat_budget_per_second", "\(limits.chatBudgetPerSecond)"),
            ("limits.chat_fanout_per_second", "\(limits.chatFanoutPerSecond)"),
            ("privacy.ballot", configuration.privacy.ballot.rawValue),
            ("privacy.min_group_size", "\(configuration.privacy.minGroupSize)"),
            ("questions.moderated", "\(configuration.questionsModerated)"),
            ("questions.open", "\(configuration.questionsOpen)"),
            ("retention_days", configuration.retentionDays.map { "\($0)" } ?? ""),
            ("public_url", configuration.publicURL ?? ""),
        ]
        return settings
    }
}
