import Foundation

/// A value behind a lock, with a condition to wait on: the layer's one type for timed waits
/// (the client's blocking inbox). `NSCondition`, because `Synchronization.Mutex` has no
/// condition; where nothing waits, `Lock` or `Mutex` does.
final class Guarded<Value: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    /// Runs `body` with the lock held.
    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        condition.lock()
        defer { condition.unlock() }
        return try body(&value)
    }

    /// Runs `body` with the lock held and wakes every waiter afterwards.
    func update<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        condition.lock()
        defer {
            condition.broadcast()
            condition.unlock()
        }
        return try body(&value)
    }

    /// Runs `body` under the lock until it returns a value or `deadline` passes.
    ///
    /// `body` runs once more after the deadline, so a change that races the
    /// timeout is still seen.
    func wait<Result>(until deadline: Date, _ body: (inout Value) -> Result?) -> Result? {
        condition.lock()
        defer { condition.unlock() }
        while true {  // bounded by the deadline: `wait(until:)` returns false once it passes
            if let result = body(&value) { return result }
            if !condition.wait(until: deadline) { return body(&value) }
        }
    }
}
