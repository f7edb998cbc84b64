// Also compiled into the libFuzzer harness (fuzz/Sources/stelling-fuzz links this file), so it
// imports nothing.

/// SplitMix64: a small deterministic generator, so ids, tokens and fuzz runs repeat per seed.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    /// The generator's state; the next number derives from it.
    public var state: UInt64

    /// Starts at `seed` (the default is 42).
    public init(seed: UInt64 = 42) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `0..<bound` (`bound` > 0).
    public mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    /// `true` with the given chance in percent.
    public mutating func chance(_ percent: Int) -> Bool { below(100) < percent }

    /// One of `items` (not empty).
    public mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}
