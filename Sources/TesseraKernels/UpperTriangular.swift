import TesseraCore

/// An upper-triangular R ∈ ℝ^{d×d} (column-major, strictly-lower part zero) and the operations
/// the solvers need: solves with R and Rᵀ (d² flops each, BLAS trsv; a block of m columns by two
/// trsm, 2d²m), products (trmv, d²), the 2-norm and ‖R⁻¹‖₂ by 30 power iterations on RᵀR
/// (60d² flops), and LAPACK's reciprocal condition estimate (O(d²); throws `internalFailure` only
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

    /// ‖R‖₂ by 30 power iterations on RᵀR from a fixed start (within a few percent).
    public var norm2: Double { dominantSingularPair.value }

    /// The largest singular value of R and a unit vector v with ‖Rv‖ ≈ it (its right singular
    /// vector), by 30 power iterations on RᵀR from a fixed start (2·30·d² flops).
    public var dominantSingularPair: (value: Double, vector: [Double]) {
        var x = [Double](repeating: 1 / Double(order).squareRoot(), count: order)
        var sigma = 0.0
        for _ in 0..<30 {
            let y = normalTimes(x)
            let norm = y.norm2
            guard norm > 0 else { return (0, x) }
            sigma = norm.squareRoot()
            x = y.map { $0 / norm }
        }
        return (sigma, x)
    }

    /// ‖R⁻¹‖₂ = 1/σmin(R) by 30 power iterations on (RᵀR)⁻¹ (2d² flops each).
    public var inverseNorm2: Double {
        var x = [Double](repeating: 1 / Double(order).squareRoot(), count: order)
        var value = 0.0
        for _ in 0..<30 {
            var y = x
            solveNormal(&y)
            let norm = y.norm2
            guard norm.isFinite, norm > 0 else { return .infinity }
            value = norm.squareRoot()
            x = y.map { $0 / norm }
        }
        return value
    }

    /// κ₂(R) = ‖R‖₂·‖R⁻¹‖₂ by power iterations (a slight underestimate at most).
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
