import COpenBLAS
import TesseraCore

/// The singular value decomposition of a small dense matrix (dgesvd), for the rank-revealing
/// route of rank-deficient tall solves: A = U·Σ·Vᵀ with Σ in decreasing order. Cost ≈ 4mn² +
/// 8n³ (m ≥ n, right vectors only; U is never formed). Throws `numerical` when the QR iteration
/// does not converge (LAPACK's info > 0) and `internalFailure` for a bad argument or an array
/// shorter than the stated shape.
extension LAPACK {
    /// Singular values (decreasing) and Vᵀ (n × n, column-major) of a column-major m × n array
    /// with m ≥ n. The input is copied, never changed.
    public static func singularValues(_ a: [Double], rows m: Int, cols n: Int) throws(TesseraError)
        -> (values: [Double], vt: [Double]) {
        try checkCount(a.count, m, n, "singularValues")
        guard m >= n else { throw .internalFailure("singularValues: \(m) rows < \(n) columns") }
        guard n > 0 else { return ([], []) }
        var work = a, s = [Double](repeating: 0, count: n), vt = [Double](repeating: 0, count: n * n)
        var u = [Double](repeating: 0, count: 1)
        var jobu = CChar(UInt8(ascii: "N")), jobvt = CChar(UInt8(ascii: "A"))
        var mm = try i32(m), nn = try i32(n), lda = try i32(m), ldu: Int32 = 1, ldvt = try i32(n), info: Int32 = 0
        var query = 0.0, lwork: Int32 = -1
        serialized { dgesvd_(&jobu, &jobvt, &mm, &nn, &work, &lda, &s, &u, &ldu, &vt, &ldvt, &query, &lwork, &info, 1, 1) }
        if info != 0 { throw .internalFailure("dgesvd workspace query: info \(info)") }
        lwork = try i32(max(1, Int(query)))
        var space = [Double](repeating: 0, count: Int(lwork))
        serialized { dgesvd_(&jobu, &jobvt, &mm, &nn, &work, &lda, &s, &u, &ldu, &vt, &ldvt, &space, &lwork, &info, 1, 1) }
        if info < 0 { throw .internalFailure("dgesvd: argument \(-info) is invalid") }
        if info > 0 { throw .numerical("the SVD of the \(m)×\(n) factor did not converge (\(info) superdiagonals)") }
        return (s, vt)
    }
}
