import TesseraCore
import TesseraTiles

/// The preconditioner P = F·Fᵀ + μI applied by the Woodbury identity:
/// P⁻¹v = (v − F·(μI + FᵀF)⁻¹·Fᵀv)/μ. Setup: FᵀF by column blocks of its upper triangle (n·k²
/// flops) and a tiled Cholesky (k³/3), all as task graphs; each application 4nk + 2k² flops
/// (Fᵀv by column blocks, F·t by row blocks: fixed splits, so bits do not depend on the worker
/// count). Memory: F (shared with the low-rank factor) and k². Setup throws `numerical` if
/// μI + FᵀF is not numerically positive definite; `apply` throws for v of the wrong length.
///
/// With a diagonal shift D (`init(lowRank:diagonalShift:engine:)`, the residual kernel's diagonal
/// λ + diag(K − FFᵀ) when it varies by row) P = FFᵀ + D = D^{1/2}(GGᵀ + I)D^{1/2} with
/// G = D^{−1/2}F, so P⁻¹v = D^{−1/2}(I + GGᵀ)⁻¹D^{−1/2}v by the same identity with μ = 1; F's
/// rows are scaled in place (n·k flops), each application adds 2n.
public struct WoodburyPreconditioner: Sendable {
    let f: ColumnBlock
    let n: Int
    let k: Int
    let mu: Double
    let engine: Engine
    let core: ColumnBlock   // upper Cholesky factor of μI + FᵀF (k × k)
    /// D^{−1/2} for a diagonal shift (then μ = 1 and F holds G = D^{−1/2}F); nil for μI.
    let rowScale: [Double]?

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
        rowScale = nil
    }

    /// P = FFᵀ + D for a positive diagonal D (n entries). Scales the factor's block in place to
    /// D^{−1/2}F: the low-rank factor must not be used as F afterwards. Throws `.invalidArgument`
    /// for a D of the wrong length or with an entry that is not positive and finite, `numerical`
    /// when I + GᵀG cannot be factored.
    public init(lowRank: LowRankFactor, diagonalShift: [Double], engine: Engine) throws(TesseraError) {
        let n = lowRank.order, k = lowRank.rank, f = lowRank.block
        guard diagonalShift.count == n else { throw .invalidArgument("the diagonal shift has \(diagonalShift.count) entries, the preconditioner has order \(n)") }
        guard diagonalShift.allSatisfy({ $0 > 0 && $0.isFinite }) else { throw .invalidArgument("the diagonal shift must be positive and finite") }
        let scale = diagonalShift.map { 1 / $0.squareRoot() }
        f.scaleRows(by: scale, columns: 0..<k)
        let c = try f.gramUpperByColumnBlocks(columns: k, engine: engine)
        if k > 0 {
            c.addToDiagonal(1, order: k)
            try c.factorCholesky(order: k, engine: engine)
        }
        self.n = n
        self.k = k
        self.f = f
        mu = 1
        self.engine = engine
        core = c
        rowScale = scale
    }

    /// This process's rows of P⁻¹v from its rows of v (`RowPartition`; F stays whole): Fᵀv as
    /// per-tile partials summed by the partition's fixed tree (`RowPartition.combine`: the same
    /// bits for any number of processes), the k × k solve on every process, then its rows of the
    /// expansion. Every process calls it. Throws the agreed failure of any process.
    public func applyRows(_ v: [Double], partition: RowPartition) throws(TesseraError) -> [Double] {
        guard partition.order == n, v.count == partition.rows.count else {
            throw .invalidArgument("a slice of \(v.count) values for \(partition.rows.count) rows of order \(partition.order), the preconditioner has order \(n)")
        }
        let scale = try rowScale.map { (s) throws(TesseraError) in try partition.slice(s) }
        let w = scale.map { zip(v, $0).map { $0 * $1 } } ?? v
        guard k > 0 else { return scale.map { zip(w, $0).map { $0 * $1 } } ?? w.map { $0 / mu } }
        var partials: [Double] = [], failure: TesseraError?
        do { partials = try f.transposedTimes(rows: w, partition: partition, columns: k, engine: engine) } catch { failure = error }
        let t = try core.solveUpperNormal(partition.combine(partials, count: k, failure: failure), order: k)
        // A failure here (an allocation, an interruption) is agreed on, not thrown alone.
        var u: [Double] = []
        do { u = try f.expand(rows: w, minus: t, partition: partition, columns: k, scale: scale == nil ? 1 / mu : 1, engine: engine) } catch { failure = error }
        try partition.agree(failure: failure)
        return scale.map { zip(u, $0).map { $0 * $1 } } ?? u
    }

    public func apply(_ v: [Double]) throws(TesseraError) -> [Double] {
        guard v.count == n else { throw .invalidArgument("v has length \(v.count), the preconditioner has order \(n)") }
        if let rowScale {
            let w = zip(v, rowScale).map { $0 * $1 }
            guard k > 0 else { return zip(w, rowScale).map { $0 * $1 } }
            let t = try core.solveUpperNormal(f.transposedTimes(vector: w, columns: k, engine: engine), order: k)
            let u = try f.expand(w, minus: t, columns: k, scale: 1, engine: engine)
            return zip(u, rowScale).map { $0 * $1 }
        }
        guard k > 0 else { return v.map { $0 / mu } }
        let t = try core.solveUpperNormal(f.transposedTimes(vector: v, columns: k, engine: engine), order: k)
        return try f.expand(v, minus: t, columns: k, scale: 1 / mu, engine: engine)
    }
}
