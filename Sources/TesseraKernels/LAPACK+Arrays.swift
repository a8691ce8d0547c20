import TesseraCore

/// LAPACK on plain column-major arrays, for the small dense factorizations of the solvers (d×d
/// Gram matrices, s×d sketches, k×k pivot blocks): the same routines as the pointer wrappers in
/// `LAPACK`, with the same errors (`numerical` for a matrix that is not positive definite,
/// `internalFailure` for an array shorter than the stated shape or a bad argument).
extension LAPACK {
    static func checkCount(_ count: Int, _ rows: Int, _ cols: Int, _ what: String) throws(TesseraError) {
        guard rows >= 0, cols >= 0, count >= rows * cols else {
            throw .internalFailure("\(what): an array of \(count) entries cannot hold \(rows) × \(cols)")
        }
    }

    /// Householder QR of a (rows × cols, leading dimension rows) in place (dgeqrf): R in the upper
    /// triangle, reflectors below; returns τ (min(rows, cols) scalars). Cost 2mn² − ⅔n³.
    public static func qrFactor(_ a: inout [Double], rows m: Int, cols n: Int) throws(TesseraError) -> [Double] {
        try checkCount(a.count, m, n, "qrFactor")
        var tau = [Double](repeating: 0, count: Swift.max(1, Swift.min(m, n)))
        guard m > 0, n > 0 else { return [] }
        try a.withUnsafeMutableBufferPointer { (buf) throws(TesseraError) in
            try tau.withUnsafeMutableBufferPointer { (t) throws(TesseraError) in
                guard let base = buf.baseAddress, let tb = t.baseAddress else { return }
                try geqrf(m: m, n: n, a: base, lda: m, tau: tb)
            }
        }
        return tau
    }

    /// Upper Cholesky factor a = UᵀU of a symmetric positive definite order × order array, in place
    /// (dpotrf); the strictly lower triangle is then set to zero. Cost n³/3. Throws `numerical`
    /// when a leading minor is not positive definite (a is then partly overwritten).
    public static func choleskyUpper(_ a: inout [Double], order n: Int) throws(TesseraError) {
        try checkCount(a.count, n, n, "choleskyUpper")
        guard n > 0 else { return }
        try a.withUnsafeMutableBufferPointer { (buf) throws(TesseraError) in
            guard let base = buf.baseAddress else { return }
            try potrf(n: n, a: base, lda: n)
        }
        for j in 0..<n { for i in (j + 1)..<Swift.max(j + 1, n) { a[i + j * n] = 0 } }
    }

    /// c ← Qᵀ·c for the Q of `qrFactor` (`factors`: rows × reflectors, τ), c ∈ ℝ^{rows×columns}
    /// (dormqr). Cost ≈ 4·rows·columns·reflectors.
    public static func applyQTransposed(factors: [Double], tau: [Double], rows m: Int, reflectors k: Int,
                                        to c: inout [Double], columns n: Int = 1) throws(TesseraError) {
        try checkCount(factors.count, m, k, "applyQTransposed (reflectors)")
        try checkCount(c.count, m, n, "applyQTransposed (right-hand side)")
        guard tau.count >= k else { throw .internalFailure("applyQTransposed: \(tau.count) scalars for \(k) reflectors") }
        guard m > 0, n > 0, k > 0 else { return }
        try factors.withUnsafeBufferPointer { (f) throws(TesseraError) in
            try tau.withUnsafeBufferPointer { (t) throws(TesseraError) in
                try c.withUnsafeMutableBufferPointer { (cb) throws(TesseraError) in
                    guard let fa = f.baseAddress, let ta = t.baseAddress, let ca = cb.baseAddress else { return }
                    try ormqr(transpose: true, m: m, n: n, k: k, a: fa, lda: m, tau: ta, c: ca, ldc: m)
                }
            }
        }
    }

    /// The orthogonal Q (order × order) of the QR factorization of a square array (dgeqrf then
    /// dorgqr). Cost ≈ (8/3)·order³.
    public static func orthogonalQ(_ a: [Double], order d: Int) throws(TesseraError) -> [Double] {
        try checkCount(a.count, d, d, "orthogonalQ")
        guard d > 0 else { return [] }
        var q = a
        var tau = [Double](repeating: 0, count: d)
        try q.withUnsafeMutableBufferPointer { (buf) throws(TesseraError) in
            try tau.withUnsafeMutableBufferPointer { (t) throws(TesseraError) in
                guard let base = buf.baseAddress, let tb = t.baseAddress else { return }
                try geqrf(m: d, n: d, a: base, lda: d, tau: tb)
                try orgqr(m: d, n: d, a: base, lda: d, tau: UnsafePointer(tb))
            }
        }
        return q
    }
}
