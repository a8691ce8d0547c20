import TesseraCore
import TesseraSketch

/// A method, once chosen (by the planner, or by the caller through `SolveOptions.method`).
public enum SolveMethod: String, Sendable, CaseIterable {
    /// The paper's sketch-and-precondition. gram/lstsq: R from QR(SA), preconditioned Richardson
    /// on AᵀA with step 2/(λmin + λmax) from Lanczos estimates. attention: Taylor features Φ as
    /// the preconditioner P = ΦΦᵀ + μI (Woodbury) and preconditioned Richardson with exact K
    /// products, its step from 10 CG steps' Ritz values.
    case paper
    /// gram/lstsq: the same R, conjugate gradients on AᵀA and LSQR for least squares, warm-started
    /// at the sketch-and-solve point. attention: PCG with exact K products and a low-rank
    /// (randomly pivoted Cholesky or Nyström) preconditioner applied through Woodbury.
    case pcg
    /// gram/lstsq: the exact R of A by randomized Cholesky-QR (R = R_B·R_s), then triangular solves
    /// (with corrected semi-normal steps for least squares). attention: K + λI formed tile by tile
    /// and factored by Cholesky (n² memory, n³/3 flops).
    case direct
    /// gram/lstsq only: R = chol(AᵀA) from the tiled Gram matrix (n·d² flops, the cheapest exact
    /// factor), refined with preconditioned CG/LSQR when the verification asks for it.
    case cholesky
    /// attention only: solves the surrogate (ΦΦᵀ + μI)x = b, for study; the report shows the true
    /// residual.
    case surrogate

    /// Whether the method exists for `problem`'s family.
    public func applies(to problem: Problem) -> Bool {
        switch self {
        case .paper, .pcg, .direct: return true
        case .cholesky: return problem.tallKind != nil
        case .surrogate: return problem.tallKind == nil
        }
    }
}

/// The low-rank factor behind attention `pcg`'s preconditioner.
public enum LowRankMethod: String, Sendable, CaseIterable {
    /// Block randomly pivoted Cholesky: n·k·(d + k) flops.
    case rpcholesky
    /// Randomized Nyström with a Gaussian test matrix: 2n²(d + k) flops.
    case nystrom
}

/// The arithmetic of the solve's dominant work: the n·d² Gram that preconditions a gram/lstsq
/// solve, or the kernel products of an attention `pcg` solve.
public enum Precision: String, Sendable, CaseIterable {
    /// float64 throughout (the exact factors, or a sketch; exact kernel products).
    case double
    /// gram/lstsq: the Gram matrix by SSYRK on float32 roundings of A's blocks (twice DGEMM's
    /// rate), its float64 Cholesky factor as the preconditioner of `pcg`, whose iterations and
    /// certificate run in float64 on the exact A (`TriangularFactor.float32Gram`). attention:
    /// iterative refinement — each outer step takes an exact float64 residual b − (K + λI)x and
    /// solves for the correction by PCG whose kernel products use float32 panels (SGEMM and float32
    /// exp, accumulated in float64: `KernelOperator.inSinglePrecision`); the certificate is an
    /// exact product.
    case mixed
}

/// How to solve, for every problem. Defaults are tunable, not the paper's constants. Fields
/// that a problem family does not use are ignored by it (the sketch for attention, the rank for
/// gram/lstsq). `validate(for:)` is the one check of their ranges.
public struct SolveOptions: Sendable {
    /// nil: the planner picks (`TallPlanner`, `AttentionPlanner`) and the report says why.
    public var method: SolveMethod?
    /// gram/lstsq: the sketch and its size s = ⌈factor·d⌉ rows (capped at n).
    public var sketch: SketchKind = .sparseSign
    public var sketchSizeFactor: Double = 4
    /// Target: normwise backward error (gram), optimality ‖Mᵀr‖/(‖M‖‖r‖) (lstsq), or relative
    /// residual (attention). nil: 1e-12 for gram/lstsq, 1e-10 for attention.
    public var tolerance: Double?
    /// Cap on iterations per stage.
    public var maxIterations: Int = 500
    public var seed: UInt64 = 0
    /// Bytes the solver may allocate (nil: 60% of available memory); a plan over it is refused.
    public var memoryBudget: UInt64?
    /// attention: the preconditioner's rank (nil: `AttentionPlanner.defaultRank`).
    public var rank: Int?
    /// attention pcg: the low-rank factor.
    public var lowRank: LowRankMethod = .rpcholesky
    /// attention pcg: false never stores K (every product on the fly); true stores K's upper
    /// triangle when it fits half the memory budget.
    public var mayStoreKernel = true
    /// gram/lstsq: what to do when A is numerically rank deficient (default: the minimum-norm
    /// solution).
    public var rankDeficient: RankDeficientPolicy = .minNorm
    /// gram/lstsq: singular values σ ≤ rcond·σ₁ of A are treated as zero (nil: NumPy's default,
    /// machine epsilon × max(n, d)).
    public var rcond: Double?
    /// gram/lstsq: `.mixed` preconditions `pcg` with a float32 Gram; `.double` never does; nil:
    /// the planner decides (mixed only where its cost model says it pays and κ(A) allows).
    public var precision: Precision?

    /// NumPy's `finfo(float64).eps`.
    public static let machineEpsilon = 2.220446049250313e-16

    public init() {}

    /// The truncation threshold in force for A of n × d, relative to A's largest singular value.
    public func rcond(rows n: Int, cols d: Int) -> Double { rcond ?? Self.machineEpsilon * Double(max(n, d)) }

    /// The tolerance in force for `problem`.
    public func tolerance(for problem: Problem) -> Double { tolerance ?? (problem.tallKind == nil ? 1e-10 : 1e-12) }

    /// Checks every range, and that the method exists for the problem (`.invalidArgument`).
    public func validate(for problem: Problem) throws(TesseraError) {
        let tol = tolerance(for: problem)
        guard tol > 0, tol < 1 else { throw .invalidArgument("--tolerance must lie strictly between 0 and 1 (got \(tol))") }
        guard maxIterations >= 1 else { throw .invalidArgument("--max-iterations must be at least 1 (got \(maxIterations))") }
        if let method, !method.applies(to: problem) {
            throw .invalidArgument(method == .cholesky
                ? "--method cholesky is for gram/lstsq; attention takes auto, pcg, direct, paper or surrogate"
                : "--method surrogate is only for attention; gram/lstsq take auto, paper, pcg, direct or cholesky")
        }
        if problem.tallKind != nil {
            guard sketchSizeFactor >= 1, sketchSizeFactor <= 100 else {
                throw .invalidArgument("--sketch-size-factor must lie in [1, 100] (got \(sketchSizeFactor))")
            }
        }
        if let rcond, !(rcond >= 0 && rcond < 1) {
            throw .invalidArgument("--rcond must lie in [0, 1) (got \(rcond))")
        }
        if let r = rank, r < 1 { throw .invalidArgument("--rank must be at least 1 (got \(r))") }
        if precision == .mixed, let method, method != .pcg {
            let what = problem.tallKind != nil ? "preconditions pcg with a float32 Gram" : "runs pcg's kernel products with float32 panels"
            throw .invalidArgument("--precision mixed \(what); it does not combine with --method \(method.rawValue) (use --method pcg or auto)")
        }
    }

    /// Sketch rows for d columns and n rows.
    public func sketchRows(cols d: Int, rows n: Int) -> Int {
        min(n, max(d + 1, Int((sketchSizeFactor * Double(d)).rounded(.up))))
    }
}
