import TesseraCore
import TesseraKernels
import TesseraTiles

/// K + λI for the attention kernel K = exp(AAᵀ) of a tiled A ∈ ℝ^{n×d}, never stored:
/// products over tile pairs (n²d flops, n²/2 exps), columns K[:, S] on demand (n·|S|·d flops),
/// and the diagonal exp(‖aᵢ‖²). Construction checks that exp cannot overflow (`invalidInput`)
/// and that the ridge is finite and ≥ 0 (`invalidArgument`).
public struct KernelOperator: Sendable {
    public let matrix: TiledMatrix
    public let engine: Engine
    public let ridge: Double
    /// K's upper-triangle blocks kept in memory when the caller chose to (`storing()`): a product
    /// is then one memory-bound pass over n²/2 numbers instead of n²d flops and n²/2 exps.
    public let stored: StoredKernel?
    /// A rounded to float32 when the products run in mixed precision (`inSinglePrecision()`):
    /// each product is then K̃·x with float32 panels (`TiledMatrix.kernelMultiply(_:single:)`),
    /// not the exact K.
    public let single: SingleRowTiles?
    /// Counts and times every product of this operator and those derived from it.
    public let ledger: ProductLedger

    /// K + λI for this A; λ is taken as given (`Problem.validate` is where a request's λ is
    /// checked). Throws `.invalidInput` when exp(AAᵀ) would overflow.
    public init(matrix: TiledMatrix, engine: Engine, ridge: Double) throws(TesseraError) {
        try matrix.checkKernelOverflow(engine: engine)
        self.matrix = matrix
        self.engine = engine
        self.ridge = ridge
        stored = nil
        single = nil
        ledger = ProductLedger()
    }

    private init(_ other: KernelOperator, stored: StoredKernel?, single: SingleRowTiles?) {
        matrix = other.matrix
        engine = other.engine
        ridge = other.ridge
        self.stored = stored
        self.single = single
        ledger = other.ledger
    }

    /// The same operator with K's upper triangle formed once and kept (`StoredKernel`).
    public func storing() throws(TesseraError) -> KernelOperator {
        KernelOperator(self, stored: try StoredKernel(matrix: matrix, engine: engine), single: nil)
    }

    /// K̃ + λI with K̃ from float32 panels (A rounded to float32 once, n·d·4 bytes): products at
    /// about half the cost of exact ones, each entry within `singleEntryError` of K's (relative).
    /// For the inner iterations of a mixed-precision solve; never for a certificate.
    public func inSinglePrecision() throws(TesseraError) -> KernelOperator {
        KernelOperator(self, stored: nil, single: try SingleRowTiles(matrix, engine: engine))
    }

    /// The bound on |K̃ᵢₖ − Kᵢₖ|/Kᵢₖ for float32 panels when every row has ‖aᵢ‖² ≤ r2: A's rounding
    /// and SGEMM's sum, (d + 2)·2⁻²⁴·r2 in the argument (e^δ − 1 ≈ δ), plus float32 exp's error
    /// and the rounding of its result.
    public static func singleEntryError(maxRowNormSquared r2: Double, cols d: Int) -> Double {
        let u = Double(Float.ulpOfOne) / 2
        return Double(d + 2) * u * r2 + SingleExp.relativeErrorBound + u
    }

    public var order: Int { matrix.rows }

    /// (K + λI)·x: over tile pairs of A (K never stored) or over the stored blocks, with a fixed
    /// summation order either way.
    public func apply(_ x: [Double]) throws(TesseraError) -> [Double] {
        var clock = Stopwatch()
        let y: [Double]
        if let stored { y = try stored.multiply(x, ridge: ridge, engine: engine) } else {
            y = try matrix.kernelMultiply(x, ridge: ridge, single: single, engine: engine)
        }
        ledger.record(stored != nil ? .stored : single != nil ? .singlePanels : .onTheFly, seconds: clock.lap())
        return y
    }

    /// How this operator's `applyRows` divides vectors among processes: by A's tiles, as the ring
    /// does, or by a stored K's block rows (every row in a single process).
    public var partition: RowPartition { RowPartition(layout: stored?.layout ?? matrix.layout, engine: engine) }

    /// This process's rows of (K + λI)·x from its rows of x (`partition`): on the fly, the ring
    /// product (`TiledMatrix.kernelMultiply(rows:)`, no n-vector held); a stored K gathers x
    /// (n values) and makes its rows of y (`StoredKernel.multiply(rows:)`). In a single process
    /// the same as `apply`.
    public func applyRows(_ x: [Double]) throws(TesseraError) -> [Double] {
        var clock = Stopwatch()
        let y: [Double]
        if let stored { y = try stored.multiply(rows: x, ridge: ridge, engine: engine) } else {
            y = try matrix.kernelMultiply(rows: x, ridge: ridge, single: single, engine: engine)
        }
        ledger.record(stored != nil ? .stored : single != nil ? .singlePanels : .onTheFly, seconds: clock.lap())
        return y
    }

    /// diag(K) = exp(‖aᵢ‖²) (without the ridge); distributed, each process reads its own rows
    /// (`TiledMatrix.kernelDiagonal`).
    public func diagonal() throws(TesseraError) -> [Double] { try matrix.kernelDiagonal(engine: engine) }

    /// K[:, S] (without the ridge) as an n × |S| column-major array: one GEMM + exp per tile.
    public func columns(_ s: [Int]) throws(TesseraError) -> [Double] {
        let out = try ColumnBlock(rows: order, cols: s.count, engine: engine, alignedWith: matrix.layout)
        try matrix.kernelColumns(s, into: out, engine: engine)
        return out.toArray()
    }

    /// Writes K[:, S] into columns `firstColumn ..< firstColumn + |S|` of `out` (n rows; only
    /// rows `only` when given).
    func fillColumns(_ s: [Int], into out: ColumnBlock, firstColumn: Int = 0, rows only: Range<Int>? = nil) throws(TesseraError) {
        try matrix.kernelColumns(s, into: out, firstColumn: firstColumn, rows: only, engine: engine)
    }
}
