import Foundation

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
