import TesseraCore
import TesseraTiles

/// The preconditioner P = F·Fᵀ + μI applied by the Woodbury identity:
/// P⁻¹v = (v − F·(μI + FᵀF)⁻¹·Fᵀv)/μ. Setup: FᵀF by column blocks of its upper triangle (n·k²
/// flops) and a tiled Cholesky (k³/3), all as task graphs; each application 4nk + 2k² flops
/// (Fᵀv by column blocks, F·t by row blocks: fixed splits, so bits do not depend on the worker
/// count). Memory: F (shared with the low-rank factor) and k². Setup throws `numerical` if
/// μI + FᵀF is not numerically positive definite; `apply` throws for v of the wrong length.
public struct WoodburyPreconditioner: Sendable {
    let f: ColumnBlock
    let n: Int
    let k: Int
    let mu: Double
    let engine: Engine
    let core: ColumnBlock   // upper Cholesky factor of μI + FᵀF (k × k)

    public init(lowRank: LowRankFactor, shift mu: Double, engine: Engine) throws(TesseraError) {
        let n = lowRank.order, k = lowRank.rank, f = lowRank.block
        let c = try f.gramUpperByColumnBlocks(columns: k, engine: engine)
        if k > 0 {
            c.addToDiagonal(mu, order: k)
            try c.factorCholesky(order: k, engine: engine)
        }
        self.n = n
        self.k = k
        self.f = f
        self.mu = mu
        self.engine = engine
        core = c
    }

    public func apply(_ v: [Double]) throws(TesseraError) -> [Double] {
        guard v.count == n else { throw .invalidArgument("v has length \(v.count), the preconditioner has order \(n)") }
        guard k > 0 else { return v.map { $0 / mu } }
        let t = try core.solveUpperNormal(f.transposedTimes(vector: v, columns: k, engine: engine), order: k)
        return try f.expand(v, minus: t, columns: k, scale: 1 / mu, engine: engine)
    }
}
