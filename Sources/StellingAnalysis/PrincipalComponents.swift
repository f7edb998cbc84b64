/// Principal components of a centred data matrix by the cyclic Jacobi eigenvalue method on its
/// (statements x statements) scatter matrix: deterministic, no random start, exact to rounding.
enum PrincipalComponents {
    /// The result: the first `count` components (unit vectors, sign fixed so that the loading with
    /// the largest absolute value is positive) and every eigenvalue share.
    struct Result {
        /// `components[c][j]`: the loading of column j on component c.
        var components: [[Double]]
        /// The share of the total variance each returned component explains (0 when there is none).
        var explainedVarianceRatio: [Double]
    }

    /// The first `count` principal components of `centred` (row-major, `rows` x `columns`,
    /// columns already centred). Components past the matrix's rank are zero vectors.
    static func compute(centred: [Double], rows: Int, columns: Int, count: Int) -> Result {
        let s = columns
        guard s > 0, rows > 0 else {
            return Result(components: Array(repeating: [Double](repeating: 0, count: s), count: count),
                          explainedVarianceRatio: Array(repeating: 0, count: count))
        }
        // Scatter matrix Xᵀ X (the 1 / (n - 1) of the covariance changes no eigenvector).
        var a = [Double](repeating: 0, count: s * s)
        centred.withUnsafeBufferPointer { x in
            a.withUnsafeMutableBufferPointer { m in
                for r in 0..<rows {
                    let row = r * s
                    for i in 0..<s {
                        let xi = x[row + i]
                        if xi == 0 { continue }
                        for j in i..<s { m[i * s + j] += xi * x[row + j] }
                    }
                }
                for i in 0..<s { for j in 0..<i { m[i * s + j] = m[j * s + i] } }
            }
        }
        let (values, vectors) = jacobi(a, size: s)
        let order = (0..<s).sorted { values[$0] != values[$1] ? values[$0] > values[$1] : $0 < $1 }
        let total = values.reduce(0) { $0 + max($1, 0) }
        var components: [[Double]] = []
        var ratios: [Double] = []
        for c in 0..<count {
            guard c < s, values[order[c]] > 1e-12 * max(total, 1) else {
                components.append([Double](repeating: 0, count: s))
                ratios.append(0)
                continue
            }
            var v = (0..<s).map { vectors[$0 * s + order[c]] }
            var largest = 0
            for j in 1..<s where abs(v[j]) > abs(v[largest]) { largest = j }
            if v[largest] < 0 { v = v.map { -$0 } }
            components.append(v)
            ratios.append(total > 0 ? values[order[c]] / total : 0)
        }
        return Result(components: components, explainedVarianceRatio: ratios)
    }

    /// Eigenvalues and eigenvectors (columns of the row-major result) of a symmetric matrix.
    static func jacobi(_ matrix: [Double], size n: Int) -> (values: [Double], vectors: [Double]) {
        var a = matrix
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        var scale = 0.0
        for x in a { scale += x * x }
        let threshold = max(scale, Double.leastNormalMagnitude) * 1e-30
        for _ in 0..<100 {
            var off = 0.0
            for i in 0..<n { for j in (i + 1)..<max(n, i + 1) { off += a[i * n + j] * a[i * n + j] } }
            if off <= threshold { break }
            for p in 0..<n {
                for q in (p + 1)..<max(n, p + 1) {
                    let apq = a[p * n + q]
                    if apq == 0 { continue }
                    let app = a[p * n + p], aqq = a[q * n + q]
                    let theta = (aqq - app) / (2 * apq)
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot()
                    let sn = t * c
                    for k in 0..<n {
                        let akp = a[k * n + p], akq = a[k * n + q]
                        a[k * n + p] = c * akp - sn * akq
                        a[k * n + q] = sn * akp + c * akq
                    }
                    for k in 0..<n {
                        let apk = a[p * n + k], aqk = a[q * n + k]
                        a[p * n + k] = c * apk - sn * aqk
                        a[q * n + k] = sn * apk + c * aqk
                    }
                    for k in 0..<n {
                        let vkp = v[k * n + p], vkq = v[k * n + q]
                        v[k * n + p] = c * vkp - sn * vkq
                        v[k * n + q] = sn * vkp + c * vkq
                    }
                }
            }
        }
        return ((0..<n).map { a[$0 * n + $0] }, v)
    }
}
