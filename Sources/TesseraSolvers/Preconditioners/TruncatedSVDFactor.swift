import TesseraCore
import TesseraKernels
import TesseraTiles

/// The rank-revealing factor of a numerically rank-deficient tall A: R from a Householder QR of
/// A by tiles (`TiledMatrix.householderR`, backward stable for any rank), then the SVD of the
/// d × d R = U·Σ·Vᵀ, which gives A's singular values and right singular vectors (A = (QU)·Σ·Vᵀ).
/// Singular values σ ≤ rcond·σ₁ are dropped; the kept r columns V_r of V and Σ_r carry every
/// minimum-norm solve: ((AᵀA)⁺)^k v = V_r·Σ_r^{−2k}·V_rᵀ·v, and A⁺b = V_r·Σ_r^{−2}·V_rᵀ·Aᵀb (the
/// semi-normal equations in the kept subspace, corrected from the true residual).
///
/// Cost: 2n·d² flops for R (one pass over A), ≈ 12d³ for the SVD, d·r per application.
/// Memory d² + d·r doubles. Throws what the pass over A throws (NaN/Inf, `.interrupted`), and
/// `numerical` when the SVD does not converge.
public struct TruncatedSVDFactor: Sendable {
    /// The exact triangular factor: RᵀR = AᵀA to rounding.
    public let r: UpperTriangular
    /// All d singular values of A, decreasing.
    public let singularValues: [Double]
    /// The threshold relative to σ₁ and the numerical rank r = #{σᵢ > rcond·σ₁}.
    public let rcond: Double
    public let rank: Int
    /// V_r, d × r column-major: an orthonormal basis of the numerical row space of A.
    let basis: [Double]
    public let seconds: Double

    /// Factors A: one Householder pass, the SVD of R, truncation at rcond·σ₁.
    public static func make(_ a: TiledMatrix, rcond: Double, engine: Engine) throws(TesseraError) -> TruncatedSVDFactor {
        var clock = Stopwatch()
        let d = a.cols
        let rValues = try a.householderR(engine: engine)
        let (sigma, vt) = try LAPACK.singularValues(rValues, rows: d, cols: d)
        let cutoff = rcond * (sigma.first ?? 0)
        let rank = sigma.filter { $0 > cutoff }.count
        var basis = [Double](repeating: 0, count: d * rank)
        for i in 0..<rank { for k in 0..<d { basis[k + i * d] = vt[i + k * d] } }   // column i of V = row i of Vᵀ
        return TruncatedSVDFactor(r: UpperTriangular(values: rValues, order: d), singularValues: sigma, rcond: rcond,
                                  rank: rank, basis: basis, seconds: clock.lap())
    }

    public var order: Int { r.order }
    /// σ₁ = ‖A‖₂.
    public var largest: Double { singularValues.first ?? 0 }
    /// σ_r, the smallest singular value kept (nil when r = 0).
    public var smallestKept: Double? { rank > 0 ? singularValues[rank - 1] : nil }
    /// σ_{r+1}, the largest singular value dropped (nil when r = d).
    public var largestDropped: Double? { rank < order ? singularValues[rank] : nil }
    /// κ of the kept part, σ₁/σ_r.
    public var keptCondition: Double { smallestKept.map { largest / $0 } ?? .infinity }

    /// V_rᵀ·v (r numbers).
    func coordinates(_ v: [Double]) -> [Double] {
        let d = order
        return (0..<rank).map { i in
            var s = 0.0
            for k in 0..<d { s += basis[k + i * d] * v[k] }
            return s
        }
    }

    /// V_r·c.
    func expand(_ c: [Double]) -> [Double] {
        let d = order
        var v = [Double](repeating: 0, count: d)
        for i in 0..<rank where c[i] != 0 { for k in 0..<d { v[k] += basis[k + i * d] * c[i] } }
        return v
    }

    /// V_r·V_rᵀ·v: the orthogonal projection onto the numerical row space.
    public func project(_ v: [Double]) -> [Double] { expand(coordinates(v)) }

    /// V_r·Σ_r^{−k}·V_rᵀ·v (k = 2j gives ((AᵀA)⁺)^j v).
    public func pseudoInversePower(_ v: [Double], exponent k: Int) -> [Double] {
        var c = coordinates(v)
        for i in 0..<rank { for _ in 0..<k { c[i] /= singularValues[i] } }
        return expand(c)
    }

    /// x = ((AᵀA)⁺)^j v, refined twice against the exact R: e = V_rV_rᵀv − (RᵀR)^j x (2j
    /// triangular products, no pass over A), x ← x + V_rΣ_r^{−2j}V_rᵀe. The SVD's vectors carry
    /// errors ≈ u·σ₁/gap that, multiplied by σ_r^{−2j}, would leave x a poor backward solution
    /// along the leading directions; the refinement makes (AᵀA)^j x = V_rV_rᵀv to the accuracy of
    /// the backward-stable R, as triangular solves do on the full-rank route. x stays in span(V_r).
    public func solvePower(_ v: [Double], power j: Int) -> [Double] {
        let target = project(v)
        var x = pseudoInversePower(target, exponent: 2 * j)
        for _ in 0..<2 {
            var t = x
            for _ in 0..<j { t = r.normalTimes(t) }
            x = x.plus(1, pseudoInversePower(target.plus(-1, t), exponent: 2 * j))
        }
        return x
    }
}
