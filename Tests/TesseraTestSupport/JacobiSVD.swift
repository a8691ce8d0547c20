/// Singular values of a dense matrix by one-sided Jacobi (Hestenes) rotations: an oracle written
/// for the tests, sharing no code with the solvers or with LAPACK. Columns are orthogonalized by
/// plane rotations, sweep after sweep, until every pair is orthogonal to 1e-15 of its norms; the
/// singular values are then the column norms, accurate to a few ulps relative to the largest.
/// Cost ≈ 6·m·n² flops per sweep, about 6–10 sweeps.
public enum JacobiSVD {
    /// The singular values of the m×n column-major `a` (m ≥ n), in decreasing order.
    public static func singularValues(_ a: [Double], rows m: Int, cols n: Int) -> [Double] {
        var w = a
        for _ in 0..<60 {
            var rotated = false
            for p in 0..<n {
                for q in (p + 1)..<n {
                    var alpha = 0.0, beta = 0.0, gamma = 0.0
                    for i in 0..<m {
                        let x = w[i + p * m], y = w[i + q * m]
                        alpha += x * x; beta += y * y; gamma += x * y
                    }
                    guard abs(gamma) > 1e-15 * (alpha * beta).squareRoot(), gamma != 0 else { continue }
                    rotated = true
                    let zeta = (beta - alpha) / (2 * gamma)
                    let t = (zeta >= 0 ? 1.0 : -1.0) / (abs(zeta) + (1 + zeta * zeta).squareRoot())
                    let c = 1 / (1 + t * t).squareRoot(), s = c * t
                    for i in 0..<m {
                        let x = w[i + p * m], y = w[i + q * m]
                        w[i + p * m] = c * x - s * y
                        w[i + q * m] = s * x + c * y
                    }
                }
            }
            if !rotated { break }
        }
        return (0..<n).map { j in (0..<m).reduce(0.0) { $0 + w[$1 + j * m] * w[$1 + j * m] }.squareRoot() }.sorted(by: >)
    }
}
