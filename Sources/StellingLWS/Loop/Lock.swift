import Synchronization

/// A plain lock around code, not data: the service loop's job queue, the libwebsockets log sink and
/// the server's start state. A `Synchronization.Mutex` over nothing, for the callers whose guarded
/// state lives in several stored properties.
final class Lock: Sendable {
    private let mutex = Mutex(())

    /// Runs `body` with the lock held.
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        try mutex.withLock { _ in try body() }
    }
}
