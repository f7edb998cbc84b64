#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The system's cryptographic random bytes, fetched 256 at a time.
///
/// `SystemRandomNumberGenerator` makes one getrandom(2) system call per 64-bit value, and a join
/// draws about forty (the room makes ids and the resume token one character at a time): 39
/// calls per join, ~6 % of the server's CPU in a burst of joins (docs/BENCHMARKS.md). This
/// generator asks the kernel with getentropy(3) for 256 bytes (its maximum) and serves 32
/// values from them, so the values are exactly as unpredictable; the buffer lives only in this
/// process. Falls back to `SystemRandomNumberGenerator` if getentropy fails.
/// One owner at a time (EventService, on the service thread).
public struct BufferedSystemRandom: RandomNumberGenerator {
    private var buffer = [UInt64](repeating: 0, count: 32)
    private var index = 32
    private var fallback = SystemRandomNumberGenerator()

    /// Makes a generator; the first value fetches the first 256 bytes.
    public init() {}

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        if index == buffer.count { refill() }
        defer { index += 1 }
        return buffer[index]
    }

    private mutating func refill() {
        let fetched = buffer.withUnsafeMutableBytes { getentropy($0.baseAddress, $0.count) == 0 }
        if !fetched {
            for slot in buffer.indices { buffer[slot] = fallback.next() }
        }
        index = 0
    }
}
