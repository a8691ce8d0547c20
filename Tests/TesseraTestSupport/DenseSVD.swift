import COpenBLAS

/// The thin SVD of a dense column-major m × n matrix (m ≥ n) by one direct LAPACK `dgesvd` call
/// on the whole matrix, with U: the independent reference for the minimum-norm solutions of a
/// rank-deficient A (the library never forms U and factors only the d × d R of A).
public struct DenseSVD {
    public let rows: Int
    public let cols: Int
    /// m × n, column-major.
    public let u: [Double]
    /// Decreasing.
    public let s: [Double]
    /// n × n, column-major: row i is vᵢ.
    public let vt: [Double]

    public init?(_ a: [Double], rows m: Int, cols n: Int) {
        var work = a, s = [Double](repeating: 0, count: n), u = [Double](repeating: 0, count: m * n)
        var vt = [Double](repeating: 0, count: n * n)
        var jobu = CChar(UInt8(ascii: "S")), jobvt = CChar(UInt8(ascii: "S"))
        var mm = Int32(m), nn = Int32(n), lda = Int32(m), ldu = Int32(m), ldvt = Int32(n), info: Int32 = 0
        var query = 0.0, lwork: Int32 = -1
        dgesvd_(&jobu, &jobvt, &mm, &nn, &work, &lda, &s, &u, &ldu, &vt, &ldvt, &query, &lwork, &info, 1, 1)
        guard info == 0 else { return nil }
        lwork = Int32(query)
        var space = [Double](repeating: 0, count: Int(lwork))
        dgesvd_(&jobu, &jobvt, &mm, &nn, &work, &lda, &s, &u, &ldu, &vt, &ldvt, &space, &lwork, &info, 1, 1)
        guard info == 0 else { return nil }
        rows = m
        cols = n
        self.u = u
        self.s = s
        self.vt = vt
    }

    /// The numerical rank at threshold rcond·σ₁ (σᵢ > rcond·σ₁).
    public func rank(rcond: Double) -> Int { s.filter { $0 > rcond * (s.first ?? 0) }.count }

    /// vᵢ (column i of V).
    public func v(_ i: Int) -> [Double] { (0..<cols).map { vt[i + $0 * cols] } }

    /// Σ_{i<r} vᵢ·(uᵢᵀb)/σᵢ^{p}: with p = 2j + 1, (A(AᵀA)^j)⁺b truncated at rank r.
    public func lstsqPseudoInverse(_ b: [Double], rank r: Int, power p: Int) -> [Double] {
        var x = [Double](repeating: 0, count: cols)
        for i in 0..<r {
            var c = 0.0
            for k in 0..<rows { c += u[k + i * rows] * b[k] }
            for _ in 0..<p { c /= s[i] }
            for k in 0..<cols { x[k] += vt[i + k * cols] * c }
        }
        return x
    }

    /// Σ_{i<r} vᵢ·(vᵢᵀb)/σᵢ^{2j}: ((AᵀA)⁺)^j b truncated at rank r.
    public func gramPseudoInverse(_ b: [Double], rank r: Int, power j: Int) -> [Double] {
        var x = [Double](repeating: 0, count: cols)
        for i in 0..<r {
            var c = 0.0
            for k in 0..<cols { c += vt[i + k * cols] * b[k] }
            for _ in 0..<(2 * j) { c /= s[i] }
            for k in 0..<cols { x[k] += vt[i + k * cols] * c }
        }
        return x
    }
}
