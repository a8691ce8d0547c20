import TesseraCore

/// The checks of the runs that are not solves — `tessera gram-matrix`, `generate` and `demo` —
/// made once, in the library, before any work: sizes and shapes (`.invalidArgument`,
/// `.invalidInput`) and the memory estimate (`MemoryEstimate`) against the default budget
/// (`.resourceLimit`). Solves are checked by `SolvePlan.make`.
public enum Preflight {
    /// G = AᵀA of an A with this shape: a matrix (`Problem.checkMatrix`), its tiled copy (unless
    /// A is used in place) and G within the budget.
    public static func gramMatrix(shape: [Int], source: String, matrixInPlace: Bool = false) throws(TesseraError) {
        try Problem.checkMatrix(shape, source: source)
        try MemoryBudget.systemDefault().require(MemoryEstimate.gramMatrix(rows: shape[0], cols: shape[1], matrixInPlace: matrixInPlace),
                                                 for: "the tiled copy of \(source)", advice: "free memory or use a smaller matrix")
    }

    /// A generated problem: n, d ≥ 1, n ≥ d, n·d·8 bytes representable, an attention ridge
    /// finite and ≥ 0, and what the generator holds within the budget: for attention A itself
    /// (`MemoryEstimate.generate`); for gram/lstsq (`ridge` nil) only the streaming generator's
    /// blocks, d×d matrices and n-vectors (`MemoryEstimate.generateStreamed`), since A goes to the
    /// file block by block. The disk space the file needs is not checked: a full disk is the
    /// write's error (`io`, nothing left behind).
    public static func generate(rows n: Int, cols d: Int, ridge: Double? = nil, workers: Int = 1) throws(TesseraError) {
        if let ridge { try Problem.attention(ridge: ridge).validate() }
        guard n >= 1, d >= 1 else { throw .invalidArgument("--rows and --cols must be at least 1") }
        _ = try Checked.product([n, d, 8], "A of \(n) × \(d)")
        guard n >= d else { throw .invalidArgument("--rows must be at least --cols (got \(n) × \(d))") }
        let bytes = ridge == nil ? MemoryEstimate.generateStreamed(rows: n, cols: d, workers: workers) : MemoryEstimate.generate(rows: n, cols: d)
        try MemoryBudget.systemDefault().require(bytes, for: "generating A of \(n) × \(d)", advice: "choose fewer --rows or --cols")
    }

    /// `tessera info`'s shape for the tile choice: n, d ≥ 1.
    public static func info(rows n: Int, cols d: Int) throws(TesseraError) {
        guard n >= 1, d >= 1 else { throw .invalidArgument("--rows and --cols must be at least 1") }
    }

    /// The demo's matrix: d ≥ 1, n ≥ d (and n/2 ≥ min(d, 64) for the solver demo), and A, its dense copy and the solver demos within the
    /// budget.
    public static func demo(rows n: Int, cols d: Int) throws(TesseraError) {
        guard d >= 1 else { throw .invalidArgument("--cols must be at least 1 (got \(d))") }
        guard n >= d else { throw .invalidArgument("--rows must be at least --cols (got \(n) × \(d))") }
        guard n / 2 >= min(d, 64) else { throw .invalidArgument("--rows must be at least twice --cols for the solver demo") }
        try MemoryBudget.systemDefault().require(MemoryEstimate.demo(rows: n, cols: d),
                                                 for: "the demo with A of \(n) × \(d)", advice: "choose fewer --rows or --cols")
    }
}
