import TesseraCore
import TesseraTiles

/// A rank-k approximation K ≈ F·Fᵀ of a kernel, F ∈ ℝ^{n×k} (what randomly pivoted Cholesky,
/// randomized Nyström and the Taylor features produce, and what `WoodburyPreconditioner` uses).
/// F lives in a tall `ColumnBlock` (n × capacity, of which the first `rank` columns are F), shared
/// with the preconditioner rather than copied: memory n·capacity doubles. `residualTrace` =
/// trace(K − FFᵀ) sets the preconditioner's shift. A value; nothing here throws.
public struct LowRankFactor: Sendable {
    /// F in its first `rank` columns (n rows).
    public let block: ColumnBlock
    public let rank: Int
    public let order: Int
    /// trace(K − FFᵀ) = Σ residual diagonal (clamped at 0 where estimated).
    public let residualTrace: Double
    /// The pivot indices, in the order chosen (randomly pivoted Cholesky only; else empty).
    public let pivots: [Int]
    /// trace(K − FFᵀ) after each round, with the rank reached (randomly pivoted Cholesky only).
    public let traceHistory: [RankGrowth.Step]
    /// Why the rounds stopped, in words (randomly pivoted Cholesky only; else nil).
    public let stopReason: String?

    public init(block: ColumnBlock, rank: Int, order: Int, residualTrace: Double, pivots: [Int] = [],
                traceHistory: [RankGrowth.Step] = [], stopReason: String? = nil) {
        self.block = block
        self.rank = rank
        self.order = order
        self.residualTrace = residualTrace
        self.pivots = pivots
        self.traceHistory = traceHistory
        self.stopReason = stopReason
    }

    /// F as an array (n × rank, column-major; a copy).
    public var factor: [Double] { block.columns(0..<rank) }
}
