import TesseraCore

/// An upper-triangular R ∈ ℝ^{d×d} (column-major, strictly-lower part zero) and the operations
/// the solvers need: solves with R and Rᵀ (d² flops each, BLAS trsv; a block of m columns by two
/// trsm, 2d²m), products (trmv, d²), the 2-norm and ‖R⁻¹‖₂ by 12 Lanczos steps on RᵀR and
/// (RᵀR)⁻¹ (24d² flops each, from below), and LAPACK's reciprocal condition estimate (O(d²); throws `internalFailure` only
/// on a bad argument). Memory d² doubles. A value: safe to share between threads.
public struct UpperTriangular: Sendable {
    public let order: Int
    public let values: [Double]

    /// Keeps the upper triangle of a column-major d×d (or ld×d) array.
    public init(upperOf a: UnsafePointer<Double>, order d: Int, ld: Int) {
        var v = [Double](repeating: 0, count: d * d)
        for j in 0..<d { for i in 0...j { v[i + j * d] = a[i + j * ld] } }
        order = d
        values = v
    }

    /// Keeps the upper triangle of a column-major array holding a d×d block at leading dimension
    /// `ld` ≥ d (for example the R of `LAPACK.qrFactor` in an s×d array).
    public init(upperOf array: [Double], order d: Int, ld: Int) {
        var v = [Double](repeating: 0, count: d * d)
        for j in 0..<d { for i in 0...j { v[i + j * d] = array[i + j * ld] } }
        order = d
        values = v
    }

    public init(values: [Double], order: Int) {
        self.order = order
        self.values = values
    }

    /// x ← R⁻¹x.
    public func solve(_ x: inout [Double]) {
        values.withUnsafeBufferPointer { t in x.withUnsafeMutableBufferPointer { BLAS.trsv(.upper, .none, n: order, t: t.baseAddress!, ldt: order, x: $0.baseAddress!) } }
    }

    /// x ← R⁻ᵀx.
    public func solveTransposed(_ x: inout [Double]) {
        values.withUnsafeBufferPointer { t in x.withUnsafeMutableBufferPointer { BLAS.trsv(.upper, .transpose, n: order, t: t.baseAddress!, ldt: order, x: $0.baseAddress!) } }
    }

    /// x ← (RᵀR)⁻¹x = R⁻¹R⁻ᵀx.
    public func solveNormal(_ x: inout [Double]) {
        solveTransposed(&x)
        solve(&x)
    }

    /// X ← (RᵀR)⁻¹X for a block X (order × m, column-major): two BLAS-3 triangular solves.
    public func solveNormal(block x: inout [Double], columns m: Int) {
        guard m > 0 else { return }
        let n = order
        values.withUnsafeBufferPointer { t in
            x.withUnsafeMutableBufferPointer { xb in
                BLAS.trsm(left: true, .upper, .transpose, m: n, n: m, alpha: 1, t: t.baseAddress!, ldt: n, b: xb.baseAddress!, ldb: n)
                BLAS.trsm(left: true, .upper, .none, m: n, n: m, alpha: 1, t: t.baseAddress!, ldt: n, b: xb.baseAddress!, ldb: n)
            }
        }
    }

    /// R·x.
    public func times(_ x: [Double]) -> [Double] {
        var y = x
        values.withUnsafeBufferPointer { t in y.withUnsafeMutableBufferPointer { BLAS.trmv(.upper, .none, n: order, t: t.baseAddress!, ldt: order, x: $0.baseAddress!) } }
        return y
    }

    /// Rᵀ·x.
    public func transposedTimes(_ x: [Double]) -> [Double] {
        var y = x
        values.withUnsafeBufferPointer { t in y.withUnsafeMutableBufferPointer { BLAS.trmv(.upper, .transpose, n: order, t: t.baseAddress!, ldt: order, x: $0.baseAddress!) } }
        return y
    }

    /// RᵀR·x (2d² flops): the Gram matrix the factor stands for, applied without forming it.
    public func normalTimes(_ x: [Double]) -> [Double] { transposedTimes(times(x)) }

    /// This·other for another upper-triangular factor (the product is upper triangular).
    public func times(_ other: UpperTriangular) -> UpperTriangular {
        var c = [Double](repeating: 0, count: order * order)
        BLAS.gemm(.none, .none, m: order, n: order, k: order, alpha: 1, a: values, lda: order,
                  b: other.values, ldb: order, beta: 0, c: &c, ldc: order)
        for j in 0..<order { for i in (j + 1)..<max(j + 1, order) { c[i + j * order] = 0 } }
        return UpperTriangular(values: c, order: order)
    }

    /// Lanczos steps for the extreme singular values (`lanczosTop`).
    public static let lanczosSteps = 12

    /// ‖R‖₂ from below, by `lanczosSteps` Lanczos steps on RᵀR (`dominantSingularPair`).
    public var norm2: Double { dominantSingularPair.value }

    /// The largest singular value of R, from below, and a unit vector v with ‖Rv‖ ≈ it (its right
    /// singular vector's Ritz approximation), by `lanczosSteps` Lanczos steps on RᵀR from a fixed
    /// start (2·12·d² flops; on log-spaced spectra tighter than 30 power steps).
    public var dominantSingularPair: (value: Double, vector: [Double]) {
        let top = Self.lanczosTop(order: order) { normalTimes($0) }
        return (top.value.squareRoot(), top.vector)
    }

    /// ‖R⁻¹‖₂ = 1/σmin(R), from below, by `lanczosSteps` Lanczos steps on (RᵀR)⁻¹ (2d² flops
    /// each); ∞ when a solve overflows.
    public var inverseNorm2: Double {
        let top = Self.lanczosTop(order: order) { x in
            var y = x
            solveNormal(&y)
            return y
        }
        return top.value.isFinite ? top.value.squareRoot() : .infinity
    }

    /// The largest eigenvalue θ of a symmetric positive semidefinite operator and its Ritz vector,
    /// by k = min(order, `lanczosSteps`) Lanczos steps with full reorthogonalization from the
    /// normalized ones vector: θ is a Ritz value, so never above the true eigenvalue. The k × k
    /// tridiagonal is diagonalized by LAPACK (its SVD: it is positive semidefinite). ∞ when the
    /// operator returns a non-finite vector.
    static func lanczosTop(order: Int, _ apply: ([Double]) -> [Double]) -> (value: Double, vector: [Double]) {
        guard order > 0 else { return (0, []) }
        var q = [Double](repeating: 1 / Double(order).squareRoot(), count: order)
        var basis: [[Double]] = [], alphas: [Double] = [], betas: [Double] = []
        for step in 0..<min(order, lanczosSteps) {
            var w = apply(q)
            guard w.allSatisfy({ $0.isFinite }) else { return (.infinity, q) }
            alphas.append(w.dot(q))
            basis.append(q)
            // Full reorthogonalization, twice (k ≤ 16 vectors of length d: negligible next to d²).
            for _ in 0..<2 {
                for v in basis { w = w.plus(-w.dot(v), v) }
            }
            let beta = w.norm2
            if step + 1 == min(order, lanczosSteps) || !(beta > 1e-12 * max(abs(alphas[step]), .leastNormalMagnitude)) { break }
            betas.append(beta)
            q = w.map { $0 / beta }
        }
        let k = alphas.count
        var t = [Double](repeating: 0, count: k * k)
        for i in 0..<k {
            t[i + i * k] = alphas[i]
            if i + 1 < k { t[i + (i + 1) * k] = betas[i]; t[i + 1 + i * k] = betas[i] }
        }
        guard let svd = try? LAPACK.singularValues(t, rows: k, cols: k), let theta = svd.values.first else {
            return (alphas.max() ?? 0, basis[0])
        }
        // The top right singular vector of T (row 0 of Vᵀ) combines the Lanczos basis.
        var vector = [Double](repeating: 0, count: order)
        for i in 0..<k { vector = vector.plus(svd.vt[0 + i * k], basis[i]) }
        let size = vector.norm2
        return (theta, size > 0 ? vector.map { $0 / size } : basis[0])
    }

    /// κ₂(R) = ‖R‖₂·‖R⁻¹‖₂ by Lanczos (an underestimate, slight on the spectra measured).
    public var condition2: Double { norm2 * inverseNorm2 }

    /// LAPACK's estimate of 1/κ₁(R).
    public func reciprocalCondition() throws(TesseraError) -> Double {
        try values.withUnsafeBufferPointer { (t) throws(TesseraError) in try LAPACK.trcon(n: order, t: t.baseAddress!, ldt: order) }
    }

    /// Numerical rank: diagonal entries with |rᵢᵢ| > tol·max|rⱼⱼ| (a rank-revealing guess that
    /// suffices to name the deficiency in a message).
    public func estimatedRank(relativeTolerance tol: Double) -> Int {
        let diag = (0..<order).map { abs(values[$0 + $0 * order]) }
        let top = diag.max() ?? 0
        return diag.filter { $0 > tol * top }.count
    }
}
