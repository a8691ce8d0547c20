import TesseraCore
import TesseraKernels
import TesseraRuntime
import TesseraTiles

/// Solves (exp(AAᵀ) + λI)x = b — prepare once (the preconditioner or the Cholesky factor is kept),
/// solve for any right-hand side. Carries out an `AttentionPlan`:
/// - `direct`: K + λI formed tile by tile and factored by Cholesky (n² memory, n³/3 flops);
/// - `pcg`: CG with exact K products (`KernelOperator`: n²d flops and n²/2 exps each, or one
///   pass over K's stored upper triangle) and P = FFᵀ + μI (Woodbury), F by randomly pivoted
///   Cholesky (n·k·(d + k)) or randomized Nyström (2n²(d + k)), μ = λ + trace(K − FFᵀ)/n;
/// - `paper`: the same with Taylor features Φ as F and preconditioned Richardson, its step
///   2/(λmin + λmax) of P⁻¹(K + λI) from 10 CG steps' Ritz values (widened 5%);
/// - `surrogate`: x = P⁻¹b only, for study.
/// The residual in the report is always a fresh exact product (`Verification.attention`).
///
/// Throws: `init` what planning throws, `.invalidInput` when exp(AAᵀ) would overflow,
/// `.rankDeficient` when K + λI is not numerically positive definite (`direct`) or the pcg
/// preconditioner of a numerically singular K cannot be factored (λ = 0), `.interrupted`;
/// `solve` `.invalidInput` for a b of the wrong length or with NaN/Inf, `.interrupted`.
public final class AttentionSolver: Sendable {
    public let kernel: KernelOperator
    public let plan: AttentionPlan
    let preconditioner: WoodburyPreconditioner?
    let lowRank: SolveReport.LowRankSummary?
    let cholesky: DenseCholeskyFactor?
    let prepareSeconds: PhaseTimes
    let reason: String

    /// Plans (`AttentionPlanner`) and prepares.
    public convenience init(matrix: TiledMatrix, engine: Engine, problem: Problem, options: SolveOptions = SolveOptions()) throws(TesseraError) {
        try self.init(matrix: matrix, engine: engine, plan: AttentionPlanner.plan(problem, rows: matrix.rows, cols: matrix.cols, options: options))
    }

    /// Prepares a plan made for this matrix's shape.
    public init(matrix: TiledMatrix, engine: Engine, plan: AttentionPlan) throws(TesseraError) {
        guard matrix.rows == plan.rows, matrix.cols == plan.cols else {
            throw .invalidArgument("the plan was made for A of \(plan.rows) × \(plan.cols), not \(matrix.rows) × \(matrix.cols)")
        }
        self.plan = plan
        SolveMonitor.enter(.factor)
        let options = plan.options, n = matrix.rows
        let onTheFly = try KernelOperator(matrix: matrix, engine: engine, ridge: plan.ridge)
        var seconds = PhaseTimes()
        var clock = Stopwatch(), total = Stopwatch()
        kernel = plan.storesKernel ? try onTheFly.storing() : onTheFly
        if plan.storesKernel { seconds.factorSteps[.storeKernel] = clock.lap() }
        var reason = plan.reason
        switch plan.method {
        case .direct, .cholesky:
            cholesky = try onTheFly.denseCholesky()
            preconditioner = nil
            lowRank = nil
            seconds.factorSteps[.cholesky] = clock.lap()
        case .paper, .surrogate:
            let taylor = try TaylorFeatures(matrix: matrix, budget: options.rank ?? AttentionPlanner.defaultRank(n: n, d: matrix.cols),
                                            seed: options.seed, engine: engine)
            let lr = taylor.lowRank(diagonal: onTheFly.diagonal())
            seconds.factorSteps[.features] = clock.lap()
            let shift = max(plan.ridge + lr.residualTrace / Double(n), 1e-12 * Double(n))
            preconditioner = try WoodburyPreconditioner(lowRank: lr, shift: shift, engine: engine)
            seconds.factorSteps[.woodbury] = clock.lap()
            lowRank = SolveReport.LowRankSummary(kind: "Taylor features (TensorSRHT)", rank: lr.rank, shift: shift)
            cholesky = nil
            reason += "; Taylor features to degree \(taylor.degree), \(taylor.count) columns \(taylor.perDegree)"
        case .pcg:
            let lr = try Self.refusingSingular(rank: plan.rank, ridge: plan.ridge) { () throws(TesseraError) in
                options.lowRank == .nystrom
                    ? try RandomizedNystrom.factor(kernel: onTheFly, rank: plan.rank, seed: options.seed)
                    : try RandomlyPivotedCholesky.factor(kernel: onTheFly, rank: plan.rank, seed: options.seed, enoughTrace: plan.ridge / 10)
            }
            seconds.factorSteps[.lowRank] = clock.lap()
            // The shift floor: where F captures K whole (rank n, or n = 1) the residual trace is 0
            // and with λ = 0 a zero shift would make the Woodbury form divide by nothing; 1e-8 of
            // K's mean diagonal keeps P = FFᵀ + μI within 1e-8 of K and well-defined.
            let meanDiagonal = onTheFly.diagonal().reduce(0, +) / Double(n)
            let shift = max(plan.ridge + lr.residualTrace / Double(n), 1e-8 * meanDiagonal)
            preconditioner = try Self.refusingSingular(rank: plan.rank, ridge: plan.ridge) { () throws(TesseraError) in
                try WoodburyPreconditioner(lowRank: lr, shift: shift, engine: engine)
            }
            seconds.factorSteps[.woodbury] = clock.lap()
            lowRank = SolveReport.LowRankSummary(kind: options.lowRank == .nystrom ? "randomized Nyström" : "randomly pivoted Cholesky",
                                                 rank: lr.rank, shift: shift)
            cholesky = nil
        }
        seconds.factor = total.lap()
        prepareSeconds = seconds
        self.reason = reason
    }

    public var problem: Problem { plan.problem }
    public var method: SolveMethod { plan.method }
    /// Whether K's upper triangle is stored (`pcg` when it fits half the memory budget).
    public var storesKernel: Bool { plan.storesKernel }

    /// Solves for one b ∈ ℝⁿ.
    /// Throws `.invalidInput` for a b of the wrong length or with NaN/Inf (nothing is solved),
    /// `.interrupted` when a stop is requested.
    public func solve(_ b: [Double]) throws(TesseraError) -> Solution {
        let rhs = try RightHandSides(vector: b, problem: problem, rows: plan.rows, cols: plan.cols)
        guard let first = try solve(rhs).first else { throw .internalFailure("a solve of one right-hand side gave no solution") }
        return first
    }

    /// Solves for each validated right-hand side, reusing the preconditioner or factor. Throws
    /// `.invalidArgument` for columns not of length n, `.interrupted` on a stop.
    public func solve(_ rhs: RightHandSides) throws(TesseraError) -> [Solution] {
        try rhs.requireLength(plan.rows)
        var out: [Solution] = []
        for (k, given) in rhs.columns.enumerated() {
            // b far from 1 (beyond 2^±100) is solved at unit scale, exactly (`UnitScaling`).
            let t = UnitScaling.rightHandSideExponent(given, matrixRescaled: false)
            let b = PowerOfTwo.scale(given, by: t), start = rhs.starts?[k].map { PowerOfTwo.scale($0, by: t) }
            let (solution, history) = try ConvergenceHistory.recording { () throws(TesseraError) in try solveOne(b, start: start) }
            let note = t == 0 ? nil : "solved at unit scale (b·2^\(t); exact) and x scaled back by 2^\(-t)"
            out.append(UnitScaling.mapBack(solution.withHistory(history), exponent: -t, note: note))
        }
        return out
    }

    /// One b; `start` (a guess of x) starts the iteration of `pcg` and `paper`.
    func solveOne(_ b: [Double], start: [Double]? = nil) throws(TesseraError) -> Solution {
        let n = kernel.order, tolerance = plan.tolerance, maxIterations = plan.options.maxIterations
        var report = SolveReport(problem: problem, method: method, reason: reason, rows: n, cols: kernel.matrix.cols, tolerance: tolerance,
                                 threads: kernel.engine.workerCount, tileRows: kernel.matrix.layout.tileRows, seed: plan.options.seed)
        report.lowRank = lowRank
        report.seconds = prepareSeconds
        SolveMonitor.enter(.iterate)
        var clock = Stopwatch()
        let bNorm = b.norm2
        let target: ([Double]) -> Double = { _ in tolerance * bNorm }
        var result: IterationResult
        if let cholesky {
            result = IterationResult(solution: try cholesky.solve(b), iterations: 0, status: .converged)
        } else if method == .surrogate, let preconditioner {
            result = IterationResult(solution: try preconditioner.apply(b), iterations: 0, status: .converged)
            report.notes.append("surrogate: x solves (ΦΦᵀ + μI)x = b only; the residual below is against the true K")
        } else if method == .paper, let preconditioner {
            let ritz = try ConjugateGradients(maxIterations: 10, stagnationWindow: .max)
                .coefficients(kernel, rhs: b, steps: 10, preconditioner: preconditioner)
            let (lo, hi) = RitzValues.extremes(ritz)
            ConvergenceHistory.discard()        // the 10 spectrum steps are not iterations of the solve
            result = try Richardson(maxIterations: maxIterations)
                .solve(kernel, rhs: b, start: start, step: 2 / (0.95 * lo + 1.05 * hi), preconditioner: preconditioner, target: target)
        } else {
            let cg = ConjugateGradients.forKernel(maxIterations: maxIterations)
            if let preconditioner {
                result = try cg.solve(kernel, rhs: b, start: start, preconditioner: preconditioner, target: target)
            } else {
                result = try cg.solve(kernel, rhs: b, start: start, preconditioner: IdentityPreconditioner(), target: target)
            }
        }
        report.seconds.iterate = clock.lap()
        report.relativeResidual = try Verification.attention(kernel: kernel, x: result.solution, b: b)
        report.seconds.verify = clock.lap()
        report.iterations = [result.iterations]
        report.status = result.status
        report.converged = report.meetsTolerance
        if !report.converged {
            if let why = result.status.explanation { report.notes.append(why) }
            report.notes.append(plan.ridge == 0
                ? "K is very ill-conditioned without a ridge; the best iterate was kept. Try --ridge 1e-6 (or larger)"
                : "the tolerance was not reached; the best iterate was kept. Try a larger --rank or --max-iterations")
        }
        return Solution(x: result.solution, report: report)
    }
}

extension AttentionSolver {
    /// Runs a preconditioner step; a factorization that fails because K is numerically singular at
    /// this rank (duplicated rows with λ = 0, or a rank near n) is the input's doing: it is
    /// rethrown as `rankDeficient` (exit 2) with what to change, not as an internal error.
    static func refusingSingular<T>(rank: Int, ridge: Double, _ body: () throws(TesseraError) -> T) throws(TesseraError) -> T {
        do { return try body() } catch {
            guard case .numerical = error else { throw error }
            throw .rankDeficient("the rank-\(rank) preconditioner of K + λI (λ = \(ridge)) is numerically singular: K has fewer numerically independent directions than that (duplicated rows?); lower --rank or add a ridge, e.g. --ridge 1e-6")
        }
    }
}
