import TesseraCore

/// What a solve reports, for all three problems (PAPER.md §2): the problem, the method and why,
/// the shapes, the factor or preconditioner, iterations and how the iteration ended, the accuracy
/// measures from an independent verification pass over the real operator, condition estimates,
/// typed phase times, and notes (fallbacks, float64 limits). Rendered once as text
/// (`SolveReport+Text.swift`) and once as JSON (`SolveReport+JSON.swift`).
public struct SolveReport: Sendable {
    /// A low-rank preconditioner P = FFᵀ + μI (attention `pcg`, `paper`, `surrogate`).
    public struct LowRankSummary: Sendable, Equatable {
        /// What F is, in words ("randomly pivoted Cholesky", "Taylor features (TensorSRHT)", …).
        public var kind: String
        public var rank: Int
        public var shift: Double
        /// Randomly pivoted Cholesky: trace(K − FFᵀ) after each round, and why the rounds stopped.
        public var traceHistory: [RankGrowth.Step] = []
        public var stopReason: String? = nil
    }

    public var problem: Problem
    public var method: SolveMethod
    public var reason: String
    public var rows: Int
    public var cols: Int
    public var tolerance: Double
    /// Iterations per stage (lstsq: the least-squares stage first, then one per power; attention:
    /// one stage).
    public var iterations: [Int] = []
    public var status: IterationStatus = .converged
    /// The residual estimate of each iteration, all stages in order (`ConvergenceHistory`): the
    /// method's own measure — CG the relative recurrence residual, Richardson the true relative
    /// residual, LSQR its optimality estimate, the corrected semi-normal steps the optimality of
    /// each pass. Its length is the sum of `iterations` (one less when a CG step broke down before
    /// producing a residual); empty for exact factors without steps.
    public var history: [Double] = []
    /// Whether the measure compared with the tolerance (`accuracy`) met it (or its float64 floor).
    public var converged = false
    /// False when x itself is not a float64 (a magnitude beyond 1.8e308 or below 2.2e-308, e.g.
    /// gram with ‖A‖ = 1e-300): the solve then is not converged, the certificate is that of x
    /// at unit scale (`TallScaling`), and the CLI writes nothing.
    public var solutionRepresentable = true
    /// ‖residual‖/‖b‖ from the verification pass.
    public var relativeResidual = Double.nan
    /// gram: ‖(AᵀA)^j x − b‖ / (‖A‖^{2j}‖x‖ + ‖b‖).
    public var backwardError: Double?
    /// lstsq: ‖Mᵀ(Mx − b)‖ / (‖M‖‖Mx − b‖), M = A(AᵀA)^j.
    public var optimality: Double?
    /// The level below which the measure cannot be certified in float64 for this x: gram u;
    /// lstsq u·‖A‖^{2j+1}‖x‖/‖r‖ (a backward-stable evaluation of r = Mx − b is only that
    /// accurate); attention 0 (not estimated).
    public var accuracyFloor = 0.0
    /// gram/lstsq: the triangular factor's origin, and the sketch behind it.
    public var factor: String?
    public var sketchKind: String?
    public var sketchRows: Int?
    /// gram/lstsq: κ₂(A) estimated from the factor (on the minimum-norm route, σ₁/σ_r of the
    /// kept part).
    public var conditionA = Double.nan
    /// gram/lstsq: κ₂(AR⁻¹) (Lanczos or CG Ritz values for sketch factors; 1 for exact ones).
    public var conditionPreconditioned: Double?
    /// gram/lstsq: ‖A‖₂ estimated as ‖R‖₂.
    public var normA = Double.nan
    /// gram/lstsq on the rank-revealing route (a numerically rank-deficient A): the numerical
    /// rank used, the threshold rcond (relative to σ₁), the smallest kept and largest dropped
    /// singular values of A, and the route's name. nil on the ordinary full-rank route.
    public var rank: Int?
    public var rcond: Double?
    public var smallestKeptSingularValue: Double?
    public var largestDroppedSingularValue: Double?
    public var route: String?
    /// attention: the low-rank preconditioner, when there is one.
    public var lowRank: LowRankSummary?
    /// Attention: the kernel products the iteration ran (not the verification's), by kind, with
    /// their count and wall time.
    public var kernelProducts: [ProductLedger.Kind: ProductLedger.Tally] = [:]
    /// Attention `paper`: which iteration ran (`richardson`, `richardson then cg`, `cg`) and the
    /// spectrum estimate that chose it; mixed-precision `pcg`: the refinement steps and their
    /// exact residuals (`mixed: …`); nil for the other methods.
    public var iteration: String?
    public var seconds = PhaseTimes()
    public var threads: Int
    public var tileRows: Int
    public var seed: UInt64
    public var notes: [String] = []

    public init(problem: Problem, method: SolveMethod, reason: String, rows: Int, cols: Int, tolerance: Double,
                threads: Int, tileRows: Int, seed: UInt64) {
        self.problem = problem
        self.method = method
        self.reason = reason
        self.rows = rows
        self.cols = cols
        self.tolerance = tolerance
        self.threads = threads
        self.tileRows = tileRows
        self.seed = seed
    }

    /// The measure compared with the tolerance: gram the backward error, lstsq the optimality,
    /// attention the relative residual.
    public var accuracy: Double {
        switch problem {
        case .gram: return backwardError ?? .nan
        case .lstsq: return optimality ?? .nan
        case .attention: return relativeResidual
        }
    }

    /// True when the accuracy meets the tolerance, or the float64 floor when that is higher.
    public var meetsTolerance: Bool { accuracy <= max(tolerance, accuracyFloor) }
}

/// A solution and its report.
public struct Solution: Sendable {
    public let x: [Double]
    public let report: SolveReport

    public init(x: [Double], report: SolveReport) {
        self.x = x
        self.report = report
    }

    /// The same solution with `history` as its report's convergence history, unless the report
    /// already has one (a block solve's corrections).
    func withHistory(_ history: [Double]) -> Solution {
        guard report.history.isEmpty else { return self }
        var r = report
        r.history = history
        return Solution(x: x, report: r)
    }
}
