import TesseraCore
import TesseraSketch

/// The problems of this module, for A ∈ ℝ^{n×d}, n ≥ d, power j:
/// - `gram`:  min ‖(AᵀA)^j x − b‖₂, b ∈ ℝ^d, j ≥ 1;
/// - `lstsq`: min ‖A(AᵀA)^j x − b‖₂, b ∈ ℝ^n, j ≥ 0.
public enum TallProblem: String, Sendable, CaseIterable {
    case gram, lstsq
}

/// How to solve.
public enum SolveMethod: String, Sendable, CaseIterable {
    /// Pick by the cost model (`Planner`); the report says what and why.
    case auto
    /// The paper's sketch-and-precondition: R from QR(SA), preconditioned gradient descent
    /// (Richardson) on AᵀA with step 2/(λmin + λmax) from Lanczos estimates.
    case paper
    /// The same R, conjugate gradients on AᵀA and LSQR for least squares, warm-started at the
    /// sketch-and-solve point.
    case pcg
    /// The exact R of A by randomized Cholesky-QR (R = R_B·R_s), then triangular solves (with one
    /// correction step of the semi-normal equations for least squares).
    case direct
    /// R = chol(AᵀA) from the tiled Gram matrix (n·d² flops, the cheapest exact factor), then
    /// preconditioned CG/LSQR refinement with that R until the tolerance is met.
    case cholesky
}

/// Options of a solve. Defaults are tunable, not the paper's constants.
public struct SolveOptions: Sendable {
    public var method: SolveMethod = .auto
    public var sketch: SketchKind = .sparseSign
    /// Sketch rows s = ⌈factor·d⌉ (capped at n).
    public var sketchSizeFactor: Double = 4
    /// Target normwise backward error (gram) or optimality ‖Mᵀr‖/(‖M‖‖r‖) (lstsq).
    public var tolerance: Double = 1e-12
    /// Cap on iterations per stage.
    public var maxIterations: Int = 500
    public var seed: UInt64 = 0
    /// Bytes the solver may allocate (nil: 60% of available memory); a plan over it is refused.
    public var memoryBudget: UInt64?

    public init() {}

    /// Tessera's allocations for an n×d solve: A's tiles, the sketch SA (and its row-major
    /// accumulator), d×d factors and a few n-vectors. The memory-mapped input is not counted.
    public func requiredBytes(rows n: Int, cols d: Int) -> UInt64 {
        let s = sketchRows(cols: d, rows: n)
        return MemoryBudget.sum(MemoryBudget.doubles(n, d), MemoryBudget.doubles(2, s, d),
                                MemoryBudget.doubles(8, d, d), MemoryBudget.doubles(8, n))
    }

    /// Refuses an n×d solve whose allocations exceed the budget, before any work starts.
    public func checkMemory(rows n: Int, cols d: Int) throws(TesseraError) {
        try MemoryBudget.resolve(memoryBudget).require(requiredBytes(rows: n, cols: d), for: "a solve with A of \(n) × \(d)",
                                                       advice: "raise --memory-budget or solve a smaller problem")
    }

    /// Validates ranges; messages name the CLI option.
    public func validate() throws(TesseraError) {
        guard tolerance > 0, tolerance < 1 else {
            throw .invalidArgument("--tolerance must lie strictly between 0 and 1 (got \(tolerance))")
        }
        guard maxIterations >= 1 else { throw .invalidArgument("--max-iterations must be at least 1 (got \(maxIterations))") }
        guard sketchSizeFactor >= 1, sketchSizeFactor <= 100 else {
            throw .invalidArgument("--sketch-size-factor must lie in [1, 100] (got \(sketchSizeFactor))")
        }
    }

    /// Sketch rows for d columns and n rows.
    public func sketchRows(cols d: Int, rows n: Int) -> Int {
        min(n, max(d + 1, Int((sketchSizeFactor * Double(d)).rounded(.up))))
    }
}

/// The largest power Tessera accepts: beyond it (AᵀA)^j under/overflows for any useful A.
public let maximumPower = 64
