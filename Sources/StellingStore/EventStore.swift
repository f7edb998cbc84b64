import Foundation
import GRDB
import StellingCore

/// The durable store of one event: one SQLite database (WAL, `synchronous=FULL`) written by one
/// store thread with group commit (DESIGN.md, Threads; Durability and recovery).
///
/// `append` only puts the record in a mailbox and returns its sequence number; it never waits for
/// I/O. The store thread takes everything pending at once, writes it in one transaction, commits
/// and then calls `onDurable` with the highest sequence number now on disk. A failed write is
/// reported through `onFailure`, nothing of it is reported durable, and the thread retries the
/// same records (and whatever arrived since) with a growing pause until the write succeeds.
///
/// Thread rules: `append`, the handlers' setters, `statistics`, `waitUntilDurable` and `close` may
/// be called from any thread. The handlers run on the store thread, one call at a time, in order.
/// The thread runs until `close`: always close a store you opened.
public final class EventStore: @unchecked Sendable {
    /// What the store thread has done so far (for tests, the benchmark and `/metrics`).
    public struct Statistics: Equatable, Sendable {
        /// Transactions committed.
        public var transactions: UInt64 = 0
        /// Records written in committed transactions.
        public var records: UInt64 = 0
        /// Write attempts that failed (each is retried).
        public var failedAttempts: UInt64 = 0
        /// The most records one transaction held.
        public var largestBatch: Int = 0
        /// Seconds spent writing and committing, summed over committed transactions.
        public var commitSeconds: Double = 0
        /// Seconds the last committed transaction took, fsync included.
        public var lastCommitSeconds: Double = 0
    }

    private enum State {
        case running
        case closing
        case abandoned
        case closed
    }

    /// The database file's path.
    public let path: String

    private let database: DatabaseQueue
    private let condition = NSCondition()
    // Everything below is guarded by `condition`.
    private var pending: [(sequence: UInt64, record: Record)] = []
    private var nextSequence: UInt64
    private var durable: UInt64
    private var stats = Statistics()
    private var state = State.running
    private var failure: String?
    private var simulateFailures = false
    private var durableHandler: (@Sendable (UInt64) -> Void)?
    private var failureHandler: (@Sendable (String) -> Void)?

    /// The first pause after a failed write; it doubles up to `maximumRetryDelay`.
    static let firstRetryDelay = 0.1
    /// The longest pause between two write attempts.
    static let maximumRetryDelay = 2.0

    /// Opens (or creates, with its folders) the database at `path`, migrates it, writes the
    /// event's metadata from `configuration` and starts the store thread.
    public init(
        path: String, configuration: StellingCore.Configuration,
        onDurable: (@Sendable (UInt64) -> Void)? = nil, onFailure: (@Sendable (String) -> Void)? = nil
    ) throws(StoreError) {
        self.path = path
        let folder = (path as NSString).deletingLastPathComponent
        // Owner only (0700 folders, a 0600 database whose mode SQLite gives its -wal and -shm).
        try PrivateFiles.makeFolder(folder)
        try PrivateFiles.createFile(path)
        var options = GRDB.Configuration()
        options.journalMode = .wal
        options.label = "stelling.store"
        options.busyMode = .timeout(5)
        // Freed bytes are zeroed, so an erasure leaves no old text in the file (docs/PRIVACY.md).
        options.prepareDatabase { db in try db.execute(sql: "PRAGMA secure_delete = ON") }
        do {
            database = try DatabaseQueue(path: path, configuration: options)
            // GRDB sets synchronous=NORMAL with WAL; an ack promises survival of a power cut.
            try database.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            try Schema.migrator.migrate(database)
            let last = try database.write { db in
                try Schema.writeMetadata(configuration, in: db)
                return try Int64.fetchOne(db, sql: "SELECT max(sequence) FROM record") ?? 0
            }
            durable = UInt64(last)
            nextSequence = UInt64(last) + 1
        } catch {
            throw .database(String(describing: error))
        }
        durableHandler = onDurable
        failureHandler = onFailure
        let thread = Thread { [self] in run() }
        thread.name = "stelling-store"
        thread.start()
    }

    // MARK: Reading

    /// Every stored record in sequence order, for `Room(configuration:replaying:)`. Call it at
    /// start, before the first `append`.
    public func recover() throws(StoreError) -> [StellingCore.Record] {
        do {
            return try database.read { db in
                var records: [Record] = []
                let rows = try Row.fetchCursor(db, sql: Schema.selectRecords)
                while let row = try rows.next() { records.append(try Schema.record(from: row).record) }
                return records + (try Schema.sealedRecords(in: db))
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw .database(String(describing: error))
        }
    }

    // MARK: Writing

    /// Queues a record for the store thread and returns its sequence number. Never waits for I/O.
    /// Records appended while `close` runs are still written; after it returned, never.
    @discardableResult
    public func append(_ record: StellingCore.Record) -> UInt64 {
        condition.lock()
        let sequence = nextSequence
        nextSequence += 1
        pending.append((sequence, record))
        // Broadcast, not signal: `waitUntilDurable` callers wait on the same condition.
        condition.broadcast()
        condition.unlock()
        return sequence
    }

    /// Called on the store thread with "durable up to N" after each commit; N only grows.
    public var onDurable: (@Sendable (UInt64) -> Void)? {
        get { locked { durableHandler } }
        set { locked { durableHandler = newValue } }
    }

    /// Called on the store thread with a description each time a write fails (it is retried).
    public var onFailure: (@Sendable (String) -> Void)? {
        get { locked { failureHandler } }
        set { locked { failureHandler = newValue } }
    }

    /// The highest sequence number known durable (0 before anything was written).
    public var durableSequence: UInt64 { locked { durable } }

    /// Records appended and not yet durable (grows while writes fail, e.g. on a full disk).
    public var backlog: Int { locked { Int(nextSequence - 1 - durable) } }

    /// The highest sequence number handed out (0 before anything was appended or stored).
    public var lastSequence: UInt64 { locked { nextSequence - 1 } }

    /// The counters of the store thread.
    public var statistics: Statistics { locked { stats } }

    /// The last write error while writes are failing; `nil` when the last write succeeded.
    public var currentFailure: String? { locked { failure } }

    /// Waits until `sequence` is durable or `timeout` seconds have passed; tells which.
    public func waitUntilDurable(_ sequence: UInt64, timeout: Double) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while durable < sequence {
            if !condition.wait(until: deadline) { return durable >= sequence }
        }
        return true
    }

    /// Writes what is pending, stops the store thread and closes the database. Waits at most
    /// `timeout` seconds (writes may be failing); returns whether everything appended is durable.
    @discardableResult
    public func close(timeout: Double = 30) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        if state == .running { state = .closing }
        condition.broadcast()
        while state != .closed {
            if !condition.wait(until: deadline) { break }
        }
        if state != .closed { state = .abandoned }
        condition.broadcast()
        return durable == nextSequence - 1
    }

    /// Makes every write fail as a read-only database does (SQLite's `query_only`), or stops
    /// doing so. For tests of the failure path: a real disk-full is hard to make on demand.
    public func simulateWriteFailures(_ failing: Bool) {
        locked { simulateFailures = failing }
    }

    /// The value of a PRAGMA on the writing connection (tests).
    func pragma(_ name: String) throws -> String? {
        try database.read { db in try String.fetchOne(db, sql: "PRAGMA \(name)") }
    }

    // MARK: The store thread

    private func run() {
        var batch: [(sequence: UInt64, record: Record)] = []
        var delay = EventStore.firstRetryDelay
        while true {
            condition.lock()
            while pending.isEmpty, batch.isEmpty, state == .running { condition.wait() }
            if state == .abandoned || (pending.isEmpty && batch.isEmpty) {
                condition.unlock()
                break
            }
            batch.append(contentsOf: pending)
            pending.removeAll(keepingCapacity: true)
            let simulate = simulateFailures
            condition.unlock()

            let started = ContinuousClock.now
            var erased = false
            do {
                try database.writeWithoutTransaction { db in
                    if simulate { try db.execute(sql: "PRAGMA query_only = 1") }
                    defer { if simulate { try? db.execute(sql: "PRAGMA query_only = 0") } }
                    try db.inTransaction(.immediate) {
                        let insert = try db.cachedStatement(sql: Schema.insertRecord)
                        for (sequence, record) in batch {
                            if case let .participantErased(id, replacement, _) = record {
                                try Privacy.erase(id, replacement: replacement, in: db)
                                erased = true
                            } else if case let .ballotSealed(statement, _) = record {
                                try Schema.seal(statement, in: db)
                                erased = true
                            }
                            insert.setUncheckedArguments(Schema.arguments(for: record, sequence: sequence))
                            try insert.execute()
                        }
                        return .commit
                    }
                }
            } catch {
                let message = String(describing: error)
                condition.lock()
                stats.failedAttempts += 1
                failure = message
                let handler = failureHandler
                condition.unlock()
                handler?(message)
                pause(delay)
                delay = min(delay * 2, EventStore.maximumRetryDelay)
                continue
            }
            if erased { Privacy.truncateLog(database) }
            let elapsed = ContinuousClock.now - started
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let upTo = batch[batch.count - 1].sequence
            condition.lock()
            durable = upTo
            failure = nil
            stats.transactions += 1
            stats.records += UInt64(batch.count)
            stats.largestBatch = max(stats.largestBatch, batch.count)
            stats.commitSeconds += seconds
            stats.lastCommitSeconds = seconds
            let handler = durableHandler
            condition.broadcast()
            condition.unlock()
            handler?(upTo)
            batch.removeAll(keepingCapacity: true)
            delay = EventStore.firstRetryDelay
        }
        try? database.close()
        condition.lock()
        state = .closed
        condition.broadcast()
        condition.unlock()
    }

    /// Waits `seconds` before the next attempt, or less when the store is abandoned.
    private func pause(_ seconds: Double) {
        let deadline = Date(timeIntervalSinceNow: seconds)
        condition.lock()
        while state != .abandoned, condition.wait(until: deadline) {}
        condition.unlock()
    }

    private func locked<T>(_ body: () -> T) -> T {
        condition.lock()
        defer { condition.unlock() }
        return body()
    }
}
