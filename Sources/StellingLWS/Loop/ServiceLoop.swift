import CWebSockets
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The libwebsockets service thread as a `SerialExecutor`: jobs are queued under a lock and
/// run on the service thread between `lws_service` calls; `enqueue` wakes the loop with
/// `lws_cancel_service()`, the one thread-safe libwebsockets call.
///
/// The server and the client pool both run on one: other threads reach the loop only through
/// `enqueue` and `execute`.
///
/// Give an actor this executor to make the compiler enforce the one-thread rule:
/// `nonisolated var unownedExecutor: UnownedSerialExecutor { loop.asUnownedSerialExecutor() }`.
/// C callbacks, already on the service thread, enter such an actor with `assumeIsolated`.
/// Work queued after the loop was closed is not run (`execute` says so).
public final class ServiceLoop: SerialExecutor, @unchecked Sendable {
    private enum Work {
        case job(UnownedJob)
        case closure(@Sendable () -> Void)
    }

    private let lock = Lock()
    // Everything below is guarded by `lock`.
    private var pending: [Work] = []
    private var context: OpaquePointer?
    private var thread: pthread_t?
    private var stopRequested = false
    private var closed = false

    /// Makes a loop; it runs once a `WebSocketServer` or a client pool starts its service thread.
    public init() {}

    /// Queues a job to run on the service thread.
    public func enqueue(_ job: consuming ExecutorJob) {
        add(.job(UnownedJob(job)))
    }

    /// Runs `body` on the service thread, after the work queued before it; false (and `body`
    /// never runs) when the loop has been closed.
    @discardableResult
    public func execute(_ body: @escaping @Sendable () -> Void) -> Bool {
        add(.closure(body))
    }

    /// Whether the calling thread is the service thread.
    public var isOnLoopThread: Bool {
        let current = pthread_self()
        return lock.withLock { thread.map { pthread_equal($0, current) != 0 } ?? false }
    }

    /// Traps in debug builds when not called on the service thread.
    public func assertOnLoopThread(file: StaticString = #fileID, line: UInt = #line) {
        assert(isOnLoopThread, "must be called on the libwebsockets service thread", file: file, line: line)
    }

    /// Lets `assumeIsolated` work from C callbacks: traps unless on the service thread.
    public func checkIsolated() {
        precondition(isOnLoopThread, "not on the libwebsockets service thread")
    }

    @discardableResult
    private func add(_ work: Work) -> Bool {
        lock.withLock {
            guard !closed else { return false }
            pending.append(work)
            // Only the first job after a drain has to wake the loop; the others find it awake.
            // Under the lock, so `detach` cannot let the context be destroyed meanwhile.
            if pending.count == 1, let context {
                lws_cancel_service(context)
            }
            return true
        }
    }

    // MARK: Used by the server and the client pool on the service thread

    /// Marks the calling thread as the service thread.
    func bindCurrentThread() {
        let current = pthread_self()
        lock.withLock { thread = current }
    }

    /// Forgets the service thread once it is done (its id may be reused by another thread).
    func unbindThread() {
        lock.withLock { thread = nil }
    }

    /// Makes `enqueue` wake this context from now on.
    func attach(_ context: OpaquePointer) {
        lock.withLock { self.context = context }
    }

    /// Stops waking the context (before it is destroyed).
    func detach() {
        lock.withLock { context = nil }
    }

    /// Runs every job queued so far. Jobs they enqueue wait for the next turn.
    func runPending() {
        let batch: [Work] = lock.withLock {
            let batch = pending
            pending.removeAll(keepingCapacity: true)
            return batch
        }
        for work in batch {
            switch work {
            case .job(let job): job.runSynchronously(on: asUnownedSerialExecutor())
            case .closure(let body): body()
            }
        }
    }

    /// Asks the server to stop and wakes it; returns false when a stop was already asked for.
    @discardableResult
    func requestStop() -> Bool {
        lock.withLock {
            let first = !stopRequested
            stopRequested = true
            if let context { lws_cancel_service(context) }
            return first
        }
    }

    /// Whether `requestStop()` was called.
    var isStopRequested: Bool { lock.withLock { stopRequested } }

    /// Refuses work from now on and runs what was queued before (the client pool's last turn,
    /// after its context is gone: the work finds the pool shut down and says so).
    func closeRunningLeftovers() {
        lock.withLock { closed = true }
        runPending()
    }
}
