#if canImport(Glibc)
import Glibc
#endif
import TesseraCore
import TesseraKernels
import TesseraSketch
import TesseraTiles

/// Prepare once, solve many: for one tall A and one gram/lstsq problem (power j), carries out a
/// `TallPlan` — builds the triangular factor R (sketched, randomized Cholesky-QR or Gram
/// Cholesky, with the planner's fallback) and, for the paper's method, the Richardson step — then
/// solves for any right-hand side or block of them. Immutable after `init`, so `solve` may be
/// called from several threads at once.
///
/// Costs (n×d A, j the power): sketch + QR(SA) O(s·d²); Gram Cholesky n·d² + d³/3; randomized
/// Cholesky-QR sketch + 2n·d²; each iteration one pass over A (4nd flops, two passes for LSQR);
/// verification j passes (gram) or 2j + 2 (lstsq; one fused pass for j = 0); with an exact factor one block pass for gram
/// and three for lstsq (`Verification.gramPowerOnePass`).
///
/// A numerically rank-deficient A (with `SolveOptions.rankDeficient` = `.minNorm`, the default)
/// takes the rank-revealing route whatever the method (`TallPlanner.factorOrRankRevealing`,
/// `TruncatedSVDFactor`, `TallSolver+MinNorm.swift`): the minimum-norm solution, one extra
/// Householder pass over A (2n·d² flops) and ≈ 12d³ for the SVD of R.
///
/// Throws: `init` what planning throws (`.invalidArgument`, `.invalidInput`, `.resourceLimit`)
/// and what the factorization throws (`.rankDeficient` for a numerically rank-deficient A with
/// `.refuse`, `.interrupted`); `solve` `.invalidInput` for a right-hand side of the wrong length or with
/// NaN/Inf, `.interrupted` when a stop is requested.
public final class TallSolver: Sendable {
    public let op: TallOperator
    public let plan: TallPlan
    /// The method that made the factor (the plan's, or `direct` after the Cholesky fallback).
    public let method: SolveMethod
    public let factor: TriangularFactor
    /// ‖A‖₂ of `op`'s matrix: ‖R‖₂ for an exact factor, ‖Av‖ (a lower bound, so certificates stay
    /// upper bounds) for a sketched one; for a float32 Gram ‖R‖, which steers the iteration only,
    /// while the certificates measure ‖Av‖ in their own passes (`certifiedNorm`).
    public let normA: Double
    /// How the certificates measure ‖A‖ when `normA` is not yet a lower bound (float32 Gram).
    let certifiedNorm: CertifiedNorm?
    /// s when `op` works on 2^s·A because A's magnitude is far from 1 (`TallScaling`); 0 when
    /// it works on A itself. `factor` and `normA` belong to `op`'s matrix; reports give ‖A‖ in
    /// A's own units.
    public let scaleExponent: Int
    /// Richardson step and κ(AR⁻¹) (from Lanczos on R⁻ᵀAᵀAR⁻¹), for the paper's method.
    let spectrum: (omega: Double, condition: Double)?
    let notes: [String]
    let prepareSeconds: PhaseTimes
    /// The rank-revealing factor when A took the minimum-norm route (numerically rank deficient,
    /// `SolveOptions.rankDeficient` = `.minNorm`); nil for the ordinary full-rank solve.
    public let minNorm: TruncatedSVDFactor?

    /// Plans (`TallPlanner`) and prepares.
    public convenience init(matrix: TiledMatrix, engine: Engine, problem: Problem, options: SolveOptions = SolveOptions()) throws(TesseraError) {
        let plan = try TallPlanner().plan(problem, rows: matrix.rows, cols: matrix.cols, workers: engine.workerCount, options: options)
        try self.init(matrix: matrix, engine: engine, plan: plan)
    }

    /// Prepares a plan made for this matrix's shape.
    public init(matrix: TiledMatrix, engine: Engine, plan: TallPlan) throws(TesseraError) {
        guard matrix.rows == plan.rows, matrix.cols == plan.cols else {
            throw .invalidArgument("the plan was made for A of \(plan.rows) × \(plan.cols), not \(matrix.rows) × \(matrix.cols)")
        }
        self.plan = plan
        let prepared = try Self.prepare(matrix: matrix, engine: engine, plan: plan)
        let made = prepared.made
        op = TallOperator(matrix: prepared.matrix, engine: engine)
        factor = made.factor
        method = made.method
        notes = prepared.notes
        minNorm = made.minNorm
        normA = prepared.normA
        certifiedNorm = prepared.normProbe.map { CertifiedNorm(op: TallOperator(matrix: prepared.matrix, engine: engine), probe: $0) }
        scaleExponent = prepared.exponent
        var seconds = PhaseTimes(sketch: made.factor.seconds.sketch, factor: made.factor.seconds.factor)
        if method == .paper && made.minNorm == nil {
            var clock = Stopwatch()
            let preconditioned = FunctionOperator(dimension: matrix.cols) { [r = made.factor.r, op] (v) throws(TesseraError) in
                var w = v
                r.solve(&w)
                var g = try op.applyGram(w)
                r.solveTransposed(&g)
                return g
            }
            let (lo, hi) = try Lanczos.extremeEigenvalues(preconditioned, steps: 10, seed: plan.options.seed)
            spectrum = (2 / (lo + hi), (hi / lo).squareRoot())
            seconds.factor = (seconds.factor ?? 0) + clock.lap()
        } else {
            spectrum = nil
        }
        prepareSeconds = seconds
    }

    public var problem: Problem { plan.problem }
    var options: SolveOptions { plan.options }
    var tolerance: Double { plan.tolerance }
    var power: Int { plan.power }

    /// Solves for one right-hand side b (length d for gram, n for lstsq).
    /// Throws `.invalidInput` for a b of the wrong length or with NaN/Inf (nothing is solved),
    /// `.interrupted` when a stop is requested.
    public func solve(_ b: [Double]) throws(TesseraError) -> Solution {
        let solutions = try solve(RightHandSides(vector: b, problem: problem, rows: op.rows, cols: op.cols))
        guard let first = solutions.first else { throw .internalFailure("a solve of one right-hand side gave no solution") }
        return first
    }

    /// Solves for each column of a block B = [b₁ … b_m] (reusing R).
    /// Throws `.invalidInput` for an empty block or a b of the wrong length or with NaN/Inf (nothing is solved),
    /// `.interrupted` when a stop is requested.
    public func solve(block: [[Double]]) throws(TesseraError) -> [Solution] {
        try solve(RightHandSides(block: block, problem: problem, rows: op.rows, cols: op.cols))
    }

    /// Solves for validated right-hand sides. With an exact factor (`direct`, `cholesky`) a block
    /// goes through BLAS-3 (`TallSolver+Block.swift`; for lstsq a single column too: corrected
    /// semi-normal equations, one fused pass per step); otherwise column by column. Throws
    /// `.invalidArgument` for columns not of this solver's length, `.interrupted` on a stop.
    public func solve(_ rhs: RightHandSides) throws(TesseraError) -> [Solution] {
        try rhs.requireLength(problem.rightHandSideLength(rows: op.rows, cols: op.cols))
        return try solveRescaled(rhs) { (rhs) throws(TesseraError) in try solveAtWorkingScale(rhs) }
    }

    /// `solve(_:)` for right-hand sides at `op`'s scale.
    /// lstsq's b ∈ ℝⁿ is held by rows from here on (`TallOperator.heldRows`): distributed, each
    /// process keeps its own rows only — except in the block route, whose fused block passes
    /// group rows by their own (d + 1)·m-value partials (each process reads the rows of its
    /// groups of that reduction, which for very large d·m are not `heldRows`), so it keeps all of b.
    func solveAtWorkingScale(_ rhs: RightHandSides) throws(TesseraError) -> [Solution] {
        let whole = rhs.columns
        let block = plan.kind == .lstsq ? whole.map(op.heldRows(of:)) : whole
        SolveMonitor.enter(.iterate)
        if let minNorm {
            return try block.map { (b) throws(TesseraError) in try recordingHistory { () throws(TesseraError) in try solveMinNorm(b, svd: minNorm) } }
        }
        if isExact && (plan.kind == .lstsq || block.count > 1) {
            return plan.kind == .gram ? try solveGramBlock(block) : try solveLstsqBlock(whole)
        }
        var out: [Solution] = []
        for (k, b) in block.enumerated() {
            let start = rhs.starts?[k]
            out.append(try recordingHistory { () throws(TesseraError) in
                plan.kind == .gram ? try solveGramAlone(b, start: start) : try solveLstsqAlone(b, start: start, whole: whole[k])
            })
        }
        return out
    }

    var isExact: Bool { method == .direct || method == .cholesky }

    /// `solve()` for one right-hand side, its report carrying the residuals its iterations reported.
    func recordingHistory(_ solve: () throws(TesseraError) -> Solution) throws(TesseraError) -> Solution {
        let (solution, history) = try ConvergenceHistory.recording(solve)
        return solution.withHistory(history)
    }

    /// R when it is the exact factor of A (RᵀR = AᵀA to rounding), which lets the verification
    /// apply (AᵀA)^j in one pass (`Verification.gramPowerOnePass`); nil for sketch preconditioners.
    var exactFactor: UpperTriangular? { isExact ? factor.r : nil }

    func makeReport() -> SolveReport {
        var r = SolveReport(problem: problem, method: method, reason: plan.reason, rows: op.rows, cols: op.cols,
                            tolerance: tolerance, threads: op.engine.workerCount, tileRows: op.matrix.layout.tileRows, seed: options.seed)
        r.factor = factor.origin.rawValue
        r.sketchKind = factor.sketch?.distribution.kind.rawValue
        r.sketchRows = factor.sketch?.distribution.rows
        r.conditionA = factor.conditionEstimate
        r.conditionPreconditioned = spectrum?.condition ?? (factor.origin == .sketch ? nil : 1)
        r.normA = PowerOfTwo.scale(normA, by: -scaleExponent)
        r.notes = notes
        r.seconds = prepareSeconds
        if let minNorm {
            r.conditionPreconditioned = nil
            r.rank = minNorm.rank
            r.rcond = minNorm.rcond
            r.smallestKeptSingularValue = minNorm.smallestKept.map { PowerOfTwo.scale($0, by: -scaleExponent) }
            r.largestDroppedSingularValue = minNorm.largestDropped.map { PowerOfTwo.scale($0, by: -scaleExponent) }
            r.route = "householder-qr-svd"
        }
        let exponent = plan.kind == .gram ? 2 * Double(power) : 2 * Double(power) + 1
        let floor = pow(factor.conditionEstimate, exponent) * 1.1e-16
        if floor > 1e-2 {
            r.notes.append("κ(A)^\(Int(exponent)) · u ≈ \(Format.sci(floor)): the forward error of x cannot be small in float64"
                           + (plan.kind == .lstsq ? ", and the tolerance may be unreachable" : "; the backward error still can"))
        }
        return r
    }

    func finish(_ x: [Double], _ report: inout SolveReport) -> Solution {
        report.converged = report.meetsTolerance
        if report.accuracyFloor > tolerance {
            report.notes.append("float64 cannot certify this measure below ≈ \(Format.sci(report.accuracyFloor)) for this x (rounding in r = Mx − b alone); convergence is judged against that floor")
        }
        if report.converged && report.status == .stagnated {
            report.notes.append("the iteration stagnated at its rounding floor, which already meets the tolerance")
        } else if !report.converged, let why = report.status.explanation {
            report.notes.append(why)
        }
        return Solution(x: x, report: report)
    }
}
