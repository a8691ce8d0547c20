import TesseraCore

/// Extreme eigenvalues of a symmetric positive (semi)definite operator by k Lanczos steps from a
/// Philox start vector: the Ritz values of the k×k tridiagonal T_k, widened by 5% on each side
/// (Ritz values lie inside the spectrum). Cost: k operator applications, O(k·dim) extra.
public enum Lanczos {
    public static func extremeEigenvalues(dimension m: Int, steps k: Int, seed: UInt64,
                                          apply: ([Double]) throws(TesseraError) -> [Double]) throws(TesseraError) -> (min: Double, max: Double) {
        let g = Philox4x32(seed: seed)
        var q = (0..<m).map { g.normal(index: UInt64($0), stream: 77) }
        q = q.scaled(1 / q.norm2)
        var previous = [Double](repeating: 0, count: m)
        var alphas: [Double] = [], betas: [Double] = []
        var beta = 0.0
        for _ in 0..<min(k, m) {
            var w = try apply(q)
            let alpha = w.dot(q)
            w = w.plus(-alpha, q).plus(-beta, previous)
            alphas.append(alpha)
            beta = w.norm2
            if !(beta > 1e-12 * abs(alpha)) { break }
            betas.append(beta)
            previous = q
            q = w.scaled(1 / beta)
        }
        let t = alphas.count
        var dense = [Double](repeating: 0, count: t * t)
        for i in 0..<t {
            dense[i + i * t] = alphas[i]
            if i + 1 < t { dense[i + (i + 1) * t] = betas[i]; dense[i + 1 + i * t] = betas[i] }
        }
        let ritz = SymmetricEigenvalues.jacobi(dense, order: t)
        let lo = ritz.min() ?? 1, hi = ritz.max() ?? 1
        return (max(lo * 0.95, .leastNormalMagnitude), hi * 1.05)
    }
}

/// Eigenvalues of a small dense symmetric matrix by cyclic Jacobi rotations (O(n³) per sweep;
/// used for Lanczos tridiagonals of order ≤ a few dozen).
public enum SymmetricEigenvalues {
    public static func jacobi(_ m: [Double], order n: Int) -> [Double] {
        var a = m
        for _ in 0..<60 {
            var off = 0.0, diag = 0.0
            for p in 0..<n {
                diag += a[p + p * n] * a[p + p * n]
                for q in (p + 1)..<max(p + 1, n) { off += a[p + q * n] * a[p + q * n] }
            }
            if off <= 1e-30 * diag { break }
            for p in 0..<n {
                for q in (p + 1)..<max(p + 1, n) where a[p + q * n] != 0 {
                    let theta = (a[q + q * n] - a[p + p * n]) / (2 * a[p + q * n])
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {
                        let akp = a[k + p * n], akq = a[k + q * n]
                        a[k + p * n] = c * akp - s * akq
                        a[k + q * n] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let apk = a[p + k * n], aqk = a[q + k * n]
                        a[p + k * n] = c * apk - s * aqk
                        a[q + k * n] = s * apk + c * aqk
                    }
                }
            }
        }
        return (0..<n).map { a[$0 + $0 * n] }
    }
}
