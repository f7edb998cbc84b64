/// Latencies in microseconds, in log-linear buckets: exact below 128 µs, within 1.6 % above.
///
/// Fixed size (about 2,300 counters) whatever the number of samples, so a long run stays
/// bounded; percentiles read a bucket's upper edge (never the maximum's), so they err high.
public struct LatencyHistogram: Sendable, Equatable {
    private static let linear = 128
    private static let perOctave = 64
    private var counts = [Int](repeating: 0, count: LatencyHistogram.linear + 36 * LatencyHistogram.perOctave)
    /// The number of samples.
    public private(set) var count = 0
    /// The largest sample, exactly, in microseconds.
    public private(set) var maximum: UInt64 = 0
    /// The smallest sample, exactly, in microseconds.
    public private(set) var minimum: UInt64 = .max
    private var sum: Double = 0

    /// An empty histogram.
    public init() {}

    /// Adds one sample given in nanoseconds.
    public mutating func record(nanoseconds: UInt64) {
        record(microseconds: nanoseconds / 1000)
    }

    /// Adds one sample given in microseconds.
    public mutating func record(microseconds value: UInt64) {
        counts[Self.index(of: value)] += 1
        count += 1
        sum += Double(value)
        if value > maximum { maximum = value }
        if value < minimum { minimum = value }
    }

    /// Adds every sample of `other`.
    public mutating func merge(_ other: LatencyHistogram) {
        for index in counts.indices { counts[index] += other.counts[index] }
        count += other.count
        sum += other.sum
        maximum = max(maximum, other.maximum)
        minimum = min(minimum, other.minimum)
    }

    /// The mean in microseconds; 0 when empty.
    public var mean: Double { count == 0 ? 0 : sum / Double(count) }

    /// The value at quantile `q` (0...1) in microseconds: the upper edge of its bucket, at most the maximum; 0 when empty.
    public func percentile(_ q: Double) -> UInt64 {
        guard count > 0 else { return 0 }
        let rank = max(1, Int((q * Double(count)).rounded(.up)))
        var seen = 0
        for (index, number) in counts.enumerated() where number > 0 {
            seen += number
            if seen >= rank { return min(Self.upperEdge(of: index), maximum) }
        }
        return maximum
    }

    /// The bucket of a value: the value itself below 128, else 64 buckets per power of two.
    static func index(of value: UInt64) -> Int {
        if value < UInt64(linear) { return Int(value) }
        let top = 63 - value.leadingZeroBitCount           // ≥ 7
        let shift = min(top - 6, 36)                        // mantissa in 64..<128
        let mantissa = Int(min(value >> UInt64(shift), 127))
        return linear + (shift - 1) * perOctave + (mantissa - perOctave)
    }

    /// The largest value that falls in bucket `index`.
    static func upperEdge(of index: Int) -> UInt64 {
        if index < linear { return UInt64(index) }
        let shift = (index - linear) / perOctave + 1
        let mantissa = UInt64((index - linear) % perOctave + perOctave)
        return ((mantissa + 1) << UInt64(shift)) - 1
    }
}
