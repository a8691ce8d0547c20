import TesseraCore

/// The kinds of random sketch S ∈ ℝ^{s×n} Tessera draws. Each is an oblivious subspace embedding:
/// for s ≳ γ·d, ‖SAx‖ ≈ ‖Ax‖ for all x, with distortion shrinking as γ grows.
public enum SketchKind: String, Sendable, CaseIterable, Hashable {
    /// Dense i.i.d. N(0, 1/s) entries. Strongest guarantee; costs 2snd flops.
    case gaussian
    /// Block subsampled randomized Hadamard transform (see `SketchOperator`); ≈ nd·log₂B flops.
    case srht
    /// One ±1 per column of S at a random row (Clarkson–Woodruff); nd flops, needs s ≳ d².
    case countsketch
    /// k ±1/√k per column of S at distinct random rows (default k = 8); k·nd flops.
    case sparseSign = "sparse-sign"
}

/// A sketch *distribution*: kind, number of rows s, seed, and for sparse sign the nonzeros per
/// column. A value: sampling it for n input rows gives the `SketchOperator`, whose every entry is
/// a pure function of (seed, global column index, sketch row) through Philox.
public struct SketchDistribution: Sendable, Hashable {
    public let kind: SketchKind
    public let rows: Int
    public let seed: UInt64
    public let nonzerosPerColumn: Int

    public init(kind: SketchKind, rows: Int, seed: UInt64 = 0, nonzerosPerColumn: Int = 8) throws(TesseraError) {
        guard rows >= 1 else { throw .invalidArgument("the sketch needs at least 1 row (got \(rows))") }
        guard nonzerosPerColumn >= 1 else { throw .invalidArgument("sparse-sign needs at least 1 nonzero per column") }
        self.kind = kind
        self.rows = rows
        self.seed = seed
        self.nonzerosPerColumn = min(nonzerosPerColumn, rows)
    }

    /// The operator for inputs with `inputRows` rows.
    public func sample(inputRows n: Int) throws(TesseraError) -> SketchOperator {
        guard n >= 1 else { throw .invalidArgument("cannot sketch an empty matrix") }
        return SketchOperator(distribution: self, inputRows: n)
    }
}
