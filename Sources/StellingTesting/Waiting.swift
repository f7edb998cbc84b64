import Foundation
import Synchronization

/// Polls `condition` every 5 ms until it holds or `timeout` seconds pass; tells whether it held.
/// The bounded wait for something another thread does (a connection counted, a process gone).
public func eventually(timeout: Double = 5, _ condition: () -> Bool) -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + .milliseconds(Int64(timeout * 1000))
    while clock.now < deadline {
        if condition() { return true }
        usleep(5_000)
    }
    return condition()
}

/// Values handed over from other threads (callbacks, a writer thread), in the order they came.
public final class Collected<Value: Sendable>: Sendable {
    private let items = Mutex<[Value]>([])

    /// An empty collection.
    public init() {}

    /// Adds a value.
    public func append(_ value: Value) { items.withLock { $0.append(value) } }

    /// The values so far.
    public var values: [Value] { items.withLock { $0 } }

    /// The values once there are `count`, or what there is after `timeout` seconds.
    public func wait(count: Int, timeout: Double) -> [Value] {
        _ = eventually(timeout: timeout) { items.withLock { $0.count } >= count }
        return values
    }
}
