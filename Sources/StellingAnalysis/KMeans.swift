/// A small seeded generator (SplitMix64): the analysis is deterministic, so its "random" k-means++
/// seeding is too. Not for anything secret.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform value in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
}

/// k-means (Lloyd's algorithm) on points in the plane, seeded by k-means++ from a fixed seed,
/// several restarts, the lowest inertia kept.
enum KMeans {
    /// One clustering: a label per point, the centres, and the sum of squared distances.
    struct Result {
        var labels: [Int]
        var centres: [(x: Double, y: Double)]
        var inertia: Double
    }

    /// The best of `restarts` runs, or `nil` when the points have fewer than `k` distinct positions
    /// (some cluster would stay empty).
    static func cluster(x: [Double], y: [Double], k: Int, restarts: Int = 10, seed: UInt64) -> Result? {
        let n = x.count
        guard k >= 1, n >= k else { return nil }
        var random = SplitMix64(seed: seed)
        var best: Result?
        for _ in 0..<restarts {
            guard let run = once(x: x, y: y, k: k, random: &random) else { continue }
            if best == nil || run.inertia < best!.inertia { best = run }
        }
        return best
    }

    private static func once(x: [Double], y: [Double], k: Int, random: inout SplitMix64) -> Result? {
        let n = x.count
        // k-means++: the first centre uniformly, each next one with probability ∝ squared distance.
        var cx: [Double] = [], cy: [Double] = []
        let first = min(Int(random.unit() * Double(n)), n - 1)
        cx.append(x[first]); cy.append(y[first])
        var nearest = [Double](repeating: 0, count: n)
        for i in 0..<n { nearest[i] = square(x[i] - cx[0], y[i] - cy[0]) }
        while cx.count < k {
            let total = nearest.reduce(0, +)
            guard total > 0 else { return nil } // fewer distinct points than k
            var target = random.unit() * total
            var chosen = n - 1
            for i in 0..<n {
                target -= nearest[i]
                if target < 0, nearest[i] > 0 { chosen = i; break }
            }
            if nearest[chosen] == 0 { chosen = nearest.lastIndex { $0 > 0 } ?? chosen }
            cx.append(x[chosen]); cy.append(y[chosen])
            for i in 0..<n { nearest[i] = min(nearest[i], square(x[i] - x[chosen], y[i] - y[chosen])) }
        }
        var labels = [Int](repeating: -1, count: n)
        for _ in 0..<300 {
            var changed = false
            for i in 0..<n {
                var bestLabel = 0
                var bestDistance = square(x[i] - cx[0], y[i] - cy[0])
                for c in 1..<k {
                    let d = square(x[i] - cx[c], y[i] - cy[c])
                    if d < bestDistance { bestDistance = d; bestLabel = c }
                }
                if labels[i] != bestLabel { labels[i] = bestLabel; changed = true }
            }
            if !changed { break }
            var sx = [Double](repeating: 0, count: k), sy = sx, counts = [Int](repeating: 0, count: k)
            for i in 0..<n { sx[labels[i]] += x[i]; sy[labels[i]] += y[i]; counts[labels[i]] += 1 }
            for c in 0..<k where counts[c] > 0 {
                cx[c] = sx[c] / Double(counts[c]); cy[c] = sy[c] / Double(counts[c])
            }
        }
        var counts = [Int](repeating: 0, count: k)
        var inertia = 0.0
        for i in 0..<n {
            counts[labels[i]] += 1
            inertia += square(x[i] - cx[labels[i]], y[i] - cy[labels[i]])
        }
        guard !counts.contains(0) else { return nil }
        return Result(labels: labels, centres: (0..<k).map { (cx[$0], cy[$0]) }, inertia: inertia)
    }

    @inline(__always) static func square(_ dx: Double, _ dy: Double) -> Double { dx * dx + dy * dy }
}

/// The mean silhouette coefficient of a clustering in the plane (Rousseeuw 1987), as
/// scikit-learn's `silhouette_score`: a point alone in its cluster scores 0.
enum Silhouette {
    /// Above this many points the mean is taken over an evenly spaced sample of this many (every
    /// (n / sample)-th point), so the cost stays bounded: 3,000 points are 4.5 million distances.
    static let sampleSize = 3000

    /// The mean silhouette over all points (or the sample), or `nil` with fewer than 2 clusters.
    static func mean(x: [Double], y: [Double], labels: [Int], k: Int) -> Double? {
        let n = x.count
        let indices: [Int] = n <= sampleSize ? Array(0..<n) : (0..<sampleSize).map { $0 * n / sampleSize }
        let m = indices.count
        var px = [Double](repeating: 0, count: m), py = px, pl = [Int](repeating: 0, count: m)
        var sizes = [Int](repeating: 0, count: k)
        for (j, i) in indices.enumerated() { px[j] = x[i]; py[j] = y[i]; pl[j] = labels[i]; sizes[labels[i]] += 1 }
        guard sizes.filter({ $0 > 0 }).count >= 2 else { return nil }
        // sums[j * k + c]: the sum of distances from point j to the points of cluster c.
        var sums = [Double](repeating: 0, count: m * k)
        sums.withUnsafeMutableBufferPointer { sums in
            for a in 0..<m {
                let ax = px[a], ay = py[a], al = pl[a]
                for b in (a + 1)..<max(m, a + 1) {
                    let d = KMeans.square(ax - px[b], ay - py[b]).squareRoot()
                    sums[a * k + pl[b]] += d
                    sums[b * k + al] += d
                }
            }
        }
        var total = 0.0
        for j in 0..<m {
            let own = pl[j]
            guard sizes[own] > 1 else { continue }
            let a = sums[j * k + own] / Double(sizes[own] - 1)
            var b = Double.infinity
            for c in 0..<k where c != own && sizes[c] > 0 { b = min(b, sums[j * k + c] / Double(sizes[c])) }
            let denominator = max(a, b)
            if denominator > 0 { total += (b - a) / denominator }
        }
        return total / Double(m)
    }
}
