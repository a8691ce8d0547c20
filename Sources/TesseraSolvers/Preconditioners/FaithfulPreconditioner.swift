import TesseraCore
import TesseraTiles

/// The paper's faithful sketch-and-precondition of K + λI: features Φ ∈ ℝ^{n×m} with m ≥ n (exact
/// Taylor layers, then PolySketch layers: `TaylorFeatures`) give the n × n preconditioner
/// P = ΦΦᵀ + D, D = λ + diag(K − ΦΦᵀ) clamped at λ (floored at 10⁻¹² of K's diagonal), formed
/// and factored whole: P = UᵀU. Setup: Φᵀ as an m × n block, its Gram's upper triangle by
/// column blocks (n²m flops), D added, a tiled Cholesky (n³/3); each application two triangular
/// solves (2n²). Memory n² + n·m doubles. Fixed splits: the same bits for any worker count.
/// `init` throws `.invalidArgument` for features or a shift of the wrong size, `numerical` when P
/// is not numerically positive definite; `apply` `.invalidArgument` for v of the wrong length.
public struct FaithfulPreconditioner: Preconditioner, Sendable {
    let factor: ColumnBlock
    public let order: Int

    public init(features: [Double], rows n: Int, cols m: Int, diagonalShift: [Double], engine: Engine) throws(TesseraError) {
        guard n >= 1, m >= 1, features.count == n * m, diagonalShift.count == n else {
            throw .invalidArgument("the faithful preconditioner needs n × m features and n shifts (n = \(n), m = \(m))")
        }
        var transposed = [Double](repeating: 0, count: n * m)
        for c in 0..<m { for i in 0..<n { transposed[c + i * m] = features[i + c * n] } }
        let phiT = try ColumnBlock(transposed, rows: m, cols: n, engine: engine)
        let p = try phiT.gramUpperByColumnBlocks(columns: n, engine: engine)
        p.addToDiagonal(diagonalShift, order: n)
        try p.factorCholesky(order: n, engine: engine)
        factor = p
        order = n
    }

    public func apply(_ v: [Double]) throws(TesseraError) -> [Double] {
        guard v.count == order else { throw .invalidArgument("v has length \(v.count), the preconditioner has order \(order)") }
        return try factor.solveUpperNormal(v, order: order)
    }
}
