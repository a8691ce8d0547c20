import COpenBLAS
import TesseraCore

/// Typed wrappers over the Fortran LAPACK routines exported by OpenBLAS. Column-major,
/// `info < 0` (a bad argument: a Tessera bug) becomes `internalFailure`, `info > 0` becomes a
/// `numerical` error that names the routine and the failing index.
///
/// Reentrancy: OpenBLAS's own LAPACK routines (`dpotrf`) may run on many threads at once, but the
/// reference-LAPACK ones it bundles are not reentrant in the Debian 0.3.21 build: `dormqr`
/// called from 16 threads at once gave different bits in 4 of 16,000 calls. Every other routine
/// here therefore runs under one process-wide lock (`referenceLock`); they are called on d×d or
/// s×d sketch-sized data, so the lock costs microseconds and never sits on a tile's path.
public enum LAPACK {
    static func i32(_ v: Int) throws(TesseraError) -> Int32 { try Checked.int32(v, "LAPACK dimension") }

    /// Serializes the calls into OpenBLAS's bundled reference LAPACK (see the type's note).
    /// Guards the calls (and counts them). Not `Locked(())`: a zero-sized value shares its address
    /// with the lock's own pointer field, and ThreadSanitizer then reports the inout access to it
    /// as racing with a reader of that field (the "unexplained" CI report of earlier sessions).
    static let referenceLock = Locked(0)

    @inline(__always)
    static func serialized<R>(_ body: () -> R) -> R { referenceLock.withLock { calls in calls &+= 1; return body() } }

    /// Cholesky factorization A = UᵀU (upper) in place, A ∈ ℝ^{n×n} SPD. Cost n³/3.
    public static func potrf(upper: Bool = true, n: Int, a: UnsafeMutablePointer<Double>, lda: Int) throws(TesseraError) {
        var uplo = CChar(UInt8(ascii: upper ? "U" : "L"))
        var nn = try i32(n), ld = try i32(lda), info: Int32 = 0
        dpotrf_(&uplo, &nn, a, &ld, &info, 1)
        if info < 0 { throw .internalFailure("dpotrf: argument \(-info) is invalid") }
        if info > 0 {
            throw .numerical("Cholesky failed: leading minor \(info) of the \(n)×\(n) matrix is not positive definite")
        }
    }

    /// Solves op(T)·X = B for triangular T ∈ ℝ^{n×n}, B ∈ ℝ^{n×nrhs}, in place. Cost n²·nrhs.
    public static func trtrs(upper: Bool = true, transpose: Bool, n: Int, nrhs: Int,
                             t: UnsafePointer<Double>, ldt: Int,
                             b: UnsafeMutablePointer<Double>, ldb: Int) throws(TesseraError) {
        var uplo = CChar(UInt8(ascii: upper ? "U" : "L"))
        var tr = CChar(UInt8(ascii: transpose ? "T" : "N"))
        var diag = CChar(UInt8(ascii: "N"))
        var nn = try i32(n), nr = try i32(nrhs), lt = try i32(ldt), lb = try i32(ldb), info: Int32 = 0
        serialized { dtrtrs_(&uplo, &tr, &diag, &nn, &nr, t, &lt, b, &lb, &info, 1, 1, 1) }
        if info < 0 { throw .internalFailure("dtrtrs: argument \(-info) is invalid") }
        if info > 0 { throw .numerical("triangular solve failed: diagonal entry \(info) is exactly zero") }
    }

    /// Householder QR of A ∈ ℝ^{m×n} in place (R in the upper triangle, reflectors below,
    /// scalars in `tau`, length min(m, n)). Cost 2mn² − ⅔n³.
    public static func geqrf(m: Int, n: Int, a: UnsafeMutablePointer<Double>, lda: Int,
                             tau: UnsafeMutablePointer<Double>) throws(TesseraError) {
        var mm = try i32(m), nn = try i32(n), ld = try i32(lda), info: Int32 = 0
        var query = 0.0, lwork: Int32 = -1
        serialized { dgeqrf_(&mm, &nn, a, &ld, tau, &query, &lwork, &info) }
        if info != 0 { throw .internalFailure("dgeqrf workspace query: info \(info)") }
        lwork = try i32(max(1, Int(query)))
        var work = [Double](repeating: 0, count: Int(lwork))
        work.withUnsafeMutableBufferPointer { w in
            serialized { dgeqrf_(&mm, &nn, a, &ld, tau, w.baseAddress, &lwork, &info) }
        }
        if info != 0 { throw .internalFailure("dgeqrf: argument \(-info) is invalid") }
    }

    /// Reciprocal condition number of a triangular T ∈ ℝ^{n×n} in the 1-norm (an estimate,
    /// within a small factor). Cost O(n²).
    public static func trcon(upper: Bool = true, n: Int, t: UnsafePointer<Double>, ldt: Int) throws(TesseraError) -> Double {
        var norm = CChar(UInt8(ascii: "1")), uplo = CChar(UInt8(ascii: upper ? "U" : "L"))
        var diag = CChar(UInt8(ascii: "N"))
        var nn = try i32(n), lt = try i32(ldt), info: Int32 = 0, rcond = 0.0
        var work = [Double](repeating: 0, count: 3 * max(1, n))
        var iwork = [Int32](repeating: 0, count: max(1, n))
        serialized { dtrcon_(&norm, &uplo, &diag, &nn, t, &lt, &rcond, &work, &iwork, &info, 1, 1, 1) }
        if info != 0 { throw .internalFailure("dtrcon: argument \(-info) is invalid") }
        return rcond
    }

    /// Forms the m×n matrix Q with orthonormal columns from `geqrf`'s reflectors, in place.
    /// Cost 4mn² − (4/3)n³.
    public static func orgqr(m: Int, n: Int, a: UnsafeMutablePointer<Double>, lda: Int,
                             tau: UnsafePointer<Double>) throws(TesseraError) {
        var mm = try i32(m), nn = try i32(n), kk = try i32(n), ld = try i32(lda), info: Int32 = 0
        var query = 0.0, lwork: Int32 = -1
        serialized { dorgqr_(&mm, &nn, &kk, a, &ld, tau, &query, &lwork, &info) }
        if info != 0 { throw .internalFailure("dorgqr workspace query: info \(info)") }
        lwork = try i32(max(1, Int(query)))
        var work = [Double](repeating: 0, count: Int(lwork))
        work.withUnsafeMutableBufferPointer { w in serialized { dorgqr_(&mm, &nn, &kk, a, &ld, tau, w.baseAddress, &lwork, &info) } }
        if info != 0 { throw .internalFailure("dorgqr: argument \(-info) is invalid") }
    }

    /// C ← Qᵀ·C (or Q·C) for the Q of `geqrf` (m×k reflectors), C ∈ ℝ^{m×n}. Cost ≈ 4mnk.
    public static func ormqr(transpose: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Double>, lda: Int,
                             tau: UnsafePointer<Double>, c: UnsafeMutablePointer<Double>, ldc: Int) throws(TesseraError) {
        var side = CChar(UInt8(ascii: "L")), tr = CChar(UInt8(ascii: transpose ? "T" : "N"))
        var mm = try i32(m), nn = try i32(n), kk = try i32(k), la = try i32(lda), lc = try i32(ldc), info: Int32 = 0
        var query = 0.0, lwork: Int32 = -1
        serialized { dormqr_(&side, &tr, &mm, &nn, &kk, a, &la, tau, c, &lc, &query, &lwork, &info, 1, 1) }
        if info != 0 { throw .internalFailure("dormqr workspace query: info \(info)") }
        lwork = try i32(max(1, Int(query)))
        var work = [Double](repeating: 0, count: Int(lwork))
        work.withUnsafeMutableBufferPointer { w in
            serialized { dormqr_(&side, &tr, &mm, &nn, &kk, a, &la, tau, c, &lc, w.baseAddress, &lwork, &info, 1, 1) }
        }
        if info != 0 { throw .internalFailure("dormqr: argument \(-info) is invalid") }
    }
}
