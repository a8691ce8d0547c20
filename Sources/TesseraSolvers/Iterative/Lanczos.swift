import TesseraCore

/// Extreme eigenvalues of a symmetric positive (semi)definite operator by k Lanczos steps from a
/// Philox start vector: the Ritz values of the k×k tridiagonal T_k, widened by 5% on each side
/// (Ritz values lie inside the spectrum). Cost: k operator applications, O(k·dim) extra.
/// Throws what the operator throws.
public enum Lanczos {
    public static func extremeEigenvalues(_ m: some LinearOperator, steps k: Int, seed: UInt64) throws(TesseraError) -> (min: Double, max: Double) {
        let dimension = m.dimension
        let g = Philox4x32(seed: seed)
        var q = (0..<dimension).map { g.normal(index: UInt64($0), stream: PhiloxStream.lanczosStart) }
        q = q.scaled(1 / q.norm2)
        var previous = [Double](repeating: 0, count: dimension)
        var alphas: [Double] = [], betas: [Double] = []
        var beta = 0.0
        for _ in 0..<min(k, dimension) {
            var w = try m.apply(q)
            let alpha = w.dot(q)
            w = w.plus(-alpha, q).plus(-beta, previous)
            alphas.append(alpha)
            beta = w.norm2
            if !(beta > 1e-12 * abs(alpha)) { break }
            betas.append(beta)
            previous = q
            q = w.scaled(1 / beta)
        }
        let ritz = SymmetricEigenvalues.tridiagonal(diagonal: alphas, offDiagonal: betas)
        let lo = ritz.min() ?? 1, hi = ritz.max() ?? 1
        return (max(lo * 0.95, .leastNormalMagnitude), hi * 1.05)
    }
}

/// Ritz values of P⁻¹M from the coefficients of CG on M with preconditioner P: the Lanczos
/// tridiagonal has diagonal 1/αₖ + βₖ₋₁/αₖ₋₁ and off-diagonal √βₖ/αₖ. O(k³) for k coefficients.
public enum RitzValues {
    /// One CG step's step length α and direction update β.
    public struct Coefficient: Sendable {
        public var alpha: Double
        public var beta: Double
    }

    /// The Ritz values (unsorted); empty without coefficients.
    public static func values(_ c: [Coefficient]) -> [Double] {
        let k = c.count
        guard k > 0 else { return [] }
        let diagonal = (0..<k).map { i in 1 / c[i].alpha + (i > 0 ? c[i - 1].beta / c[i - 1].alpha : 0) }
        let off = (0..<max(0, k - 1)).map { i in c[i].beta.squareRoot() / c[i].alpha }
        return SymmetricEigenvalues.tridiagonal(diagonal: diagonal, offDiagonal: off)
    }

    /// √(λmax/λmin) of P⁻¹M — κ of the preconditioned factor — from at least two coefficients.
    public static func condition(_ c: [Coefficient]) -> Double? {
        guard c.count >= 2 else { return nil }
        let ritz = values(c)
        guard let lo = ritz.min(), let hi = ritz.max(), lo > 0 else { return nil }
        return (hi / lo).squareRoot()
    }

    /// (λmin, λmax) of P⁻¹M, λmin at least the smallest normal number; (1, 1) without coefficients.
    public static func extremes(_ c: [Coefficient]) -> (min: Double, max: Double) {
        let ritz = values(c)
        guard !ritz.isEmpty else { return (1, 1) }
        return (max(ritz.min() ?? 1, .leastNormalMagnitude), ritz.max() ?? 1)
    }
}

/// Eigenvalues of a small dense symmetric matrix by cyclic Jacobi rotations (O(n³) per sweep;
/// used for Lanczos tridiagonals of order ≤ a few dozen).
public enum SymmetricEigenvalues {
    /// The eigenvalues of the symmetric tridiagonal with this diagonal and off-diagonal.
    public static func tridiagonal(diagonal: [Double], offDiagonal: [Double]) -> [Double] {
        let t = diagonal.count
        var dense = [Double](repeating: 0, count: t * t)
        for i in 0..<t {
            dense[i + i * t] = diagonal[i]
            if i + 1 < t, i < offDiagonal.count { dense[i + (i + 1) * t] = offDiagonal[i]; dense[i + 1 + i * t] = offDiagonal[i] }
        }
        return jacobi(dense, order: t)
    }

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
