#if canImport(Glibc)
import Glibc
#endif
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
/// - `paper`: P = ΦΦᵀ + D with the closed-form Taylor features Φ (`TaylorFeatures`: exact layers
///   to the degree the feature budget holds, PolySketch layers above when budget is left) and the
///   residual kernel's diagonal D = λ + diag(K − ΦΦᵀ); in the low-rank mode P is applied by
///   Woodbury (`WoodburyPreconditioner`), in the faithful mode (`--rank` ≥ n features, exact
///   layers then PolySketch: `AttentionPlan.faithful`) factored whole (`FaithfulPreconditioner`); preconditioned Richardson, its step 2/(λmin + λmax) of P⁻¹(K + λI)
///   from 10 CG steps' Ritz values (widened 5%), or CG when Richardson is predicted to need over
///   a third of the iteration budget (`paperIteration`; the report's `iteration` says which ran);
/// - `surrogate`: x = P⁻¹b only, for study;
/// - `pcg` in mixed precision (`plan.precision`): iterative refinement whose corrections are PCG
///   solves with float32-panel products (`mixedRefinement`).
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
    let faithful: FaithfulPreconditioner?
    let lowRank: SolveReport.LowRankSummary?
    let cholesky: DenseCholeskyFactor?
    /// K̃ + λI with float32 panels, for the inner iterations of a mixed-precision `pcg` solve
    /// (`plan.precision == .mixed` and A's rows allow it: `mixedRefusal`); nil otherwise.
    let singleKernel: KernelOperator?
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
            faithful = nil
            lowRank = nil
            seconds.factorSteps[.cholesky] = clock.lap()
        case .paper, .surrogate:
            let budget = plan.rank
            // Sketched (PolySketch) layers only in the faithful mode (m ≥ n, a subspace embedding):
            // in the low-rank mode, fewer sketched columns than a layer's dimension add noise that
            // widens the spectrum (κ 2.7 → 38 at n = 2,000, d = 48 with 774 degree-3+ columns).
            let taylor = try TaylorFeatures(matrix: matrix, budget: budget, sketched: plan.faithful, seed: options.seed, engine: engine)
            let diagonal = try onTheFly.diagonal()
            let residual = taylor.residualDiagonal(diagonal)
            let lr = taylor.lowRank(diagonal: diagonal)
            seconds.factorSteps[.features] = clock.lap()
            // The residual kernel's diagonal λ + diag(K − ΦΦᵀ) as the shift (exact for the exact
            // layers); floored at max(10⁻¹², 8nε) of K's diagonal so that P stays numerically
            // positive definite at λ = 0.
            let floor = max(1e-12, 8 * Double(n) * Double.ulpOfOne)
            let shifts = zip(residual, diagonal).map { max(plan.ridge + $0, floor * $1, .leastNormalMagnitude) }
            if plan.faithful {
                faithful = try Self.refusingSingular(rank: lr.rank, ridge: plan.ridge) { () throws(TesseraError) in
                    try FaithfulPreconditioner(features: taylor.features, rows: n, cols: taylor.count, diagonalShift: shifts, engine: engine)
                }
                preconditioner = nil
            } else {
                preconditioner = try Self.refusingSingular(rank: lr.rank, ridge: plan.ridge) { () throws(TesseraError) in
                    try WoodburyPreconditioner(lowRank: lr, diagonalShift: shifts, engine: engine)
                }
                faithful = nil
            }
            seconds.factorSteps[.woodbury] = clock.lap()
            let meanShift = shifts.reduce(0, +) / Double(max(1, n))
            let sketchedPart = taylor.degree > taylor.exactDegree ? " + PolySketch to degree \(taylor.degree)" : ""
            lowRank = SolveReport.LowRankSummary(kind: "Taylor features (exact to degree \(taylor.exactDegree)\(sketchedPart)), diagonal shift, "
                                                 + (plan.faithful ? "faithful n × n factor" : "low-rank Woodbury"),
                                                 rank: lr.rank, shift: meanShift)
            cholesky = nil
            reason += "; Taylor features exact to degree \(taylor.exactDegree)" + (sketchedPart.isEmpty ? "" : ",\(sketchedPart)")
                + ", \(taylor.count) columns \(taylor.perDegree); shift D = λ + diag(K − ΦΦᵀ) (mean \(Format.sci(meanShift)), range \(Format.sci(shifts.min() ?? 0))–\(Format.sci(shifts.max() ?? 0)))"
        case .pcg:
            let lr = try Self.refusingSingular(rank: plan.rank, ridge: plan.ridge) { () throws(TesseraError) in
                options.lowRank == .nystrom
                    ? try RandomizedNystrom.factor(kernel: onTheFly, rank: plan.rank, seed: options.seed)
                    : try RandomlyPivotedCholesky.factor(kernel: onTheFly, rank: plan.rank, seed: options.seed, enoughTrace: plan.ridge / 10,
                                                         growth: plan.rankGrowth)
            }
            seconds.factorSteps[.lowRank] = clock.lap()
            // The shift floor: where F captures K whole (rank n, or n = 1) the residual trace is 0
            // and with λ = 0 a zero shift would make the Woodbury form divide by nothing; 1e-8 of
            // K's mean diagonal keeps P = FFᵀ + μI within 1e-8 of K and well-defined.
            let meanDiagonal = try onTheFly.diagonal().reduce(0, +) / Double(n)
            let shift = max(plan.ridge + lr.residualTrace / Double(n), 1e-8 * meanDiagonal)
            preconditioner = try Self.refusingSingular(rank: plan.rank, ridge: plan.ridge) { () throws(TesseraError) in
                try WoodburyPreconditioner(lowRank: lr, shift: shift, engine: engine)
            }
            seconds.factorSteps[.woodbury] = clock.lap()
            faithful = nil
            lowRank = SolveReport.LowRankSummary(kind: options.lowRank == .nystrom ? "randomized Nyström" : "randomly pivoted Cholesky",
                                                 rank: lr.rank, shift: shift, traceHistory: lr.traceHistory, stopReason: lr.stopReason)
            cholesky = nil
        }
        var single: KernelOperator?
        if plan.precision == .mixed && plan.method == .pcg {
            let r2 = try matrix.maxRowNormSquared(engine: engine)
            if let why = Self.mixedRefusal(maxRowNormSquared: r2, cols: matrix.cols) {
                reason += "; float64 products after all: \(why)"
            } else {
                single = try onTheFly.inSinglePrecision()
                seconds.factorSteps[.roundToSingle] = clock.lap()
            }
        }
        singleKernel = single
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
        let productsBefore = kernel.ledger.snapshot()
        let bNorm = b.norm2
        let target: ([Double]) -> Double = { _ in tolerance * bNorm }
        var result: IterationResult
        if let cholesky {
            result = IterationResult(solution: try cholesky.solve(b), iterations: 0, status: .converged)
        } else if method == .surrogate, let faithful {
            result = IterationResult(solution: try faithful.apply(b), iterations: 0, status: .converged)
            report.notes.append("surrogate: x solves (ΦΦᵀ + D)x = b only; the residual below is against the true K")
        } else if method == .surrogate, let preconditioner {
            result = IterationResult(solution: try preconditioner.apply(b), iterations: 0, status: .converged)
            report.notes.append("surrogate: x solves (ΦΦᵀ + D)x = b only; the residual below is against the true K")
        } else if method == .paper, let faithful {
            (result, report.iteration) = try paperIteration(b, start: start, preconditioner: faithful, target: target)
        } else if method == .paper, let preconditioner {
            (result, report.iteration) = try paperIteration(b, start: start, preconditioner: preconditioner, target: target)
        } else {
            // pcg: x, b and the iteration's vectors hold this process's rows only (`RowPartition`;
            // all rows in a single process); x is gathered at the end.
            let partition = kernel.partition
            let bRows = try partition.slice(b), startRows = try start.map { (s) throws(TesseraError) in try partition.slice(s) }
            if let singleKernel, let preconditioner {
                guard singleKernel.partition.layout == partition.layout else {
                    throw .internalFailure("mixed precision with a stored kernel: the float32 and float64 products divide rows differently")
                }
                (result, report.iteration) = try mixedRefinement(bRows, bNorm: bNorm, start: startRows, inner: KernelRowsOperator(singleKernel),
                                                                 preconditioner: preconditioner, target: target)
            } else {
                var cg = ConjugateGradients.forKernel(maxIterations: maxIterations)
                cg.products = partition
                if let preconditioner {
                    result = try cg.solve(KernelRowsOperator(kernel), rhs: bRows, start: startRows,
                                          preconditioner: WoodburyRowsPreconditioner(preconditioner, partition: partition), target: target)
                } else {
                    result = try cg.solve(KernelRowsOperator(kernel), rhs: bRows, start: startRows, preconditioner: IdentityPreconditioner(), target: target)
                }
            }
            result.solution = try partition.gather(result.solution)
            result.finalProduct = nil
        }
        report.seconds.iterate = clock.lap()
        report.kernelProducts = ProductLedger.difference(kernel.ledger.snapshot(), productsBefore)
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
    /// The paper's iteration on (K + λI)x = b with P = ΦΦᵀ + D: 10 CG steps give Ritz values of
    /// P⁻¹(K + λI), widened 5% to [λ₋, λ₊]; κ = λ₊/λ₋ predicts Richardson's count
    /// ⌈ln(tol)/ln((κ − 1)/(κ + 1))⌉. Preconditioned Richardson (step 2/(λ₋ + λ₊)) runs when that
    /// is at most a third of the iteration budget (the margin covers Ritz values' optimism: on
    /// 8,000 MiniLM rows 10 CG steps predicted 240 and Richardson took 319), and CG takes
    /// over from its best iterate if it still misses the tolerance; otherwise CG (the accelerated
    /// form, ~√κ iterations) runs from the start. Returns the result and a description of what ran.
    func paperIteration(_ b: [Double], start: [Double]?, preconditioner: some Preconditioner,
                        target: @escaping ([Double]) -> Double) throws(TesseraError) -> (IterationResult, String) {
        let maxIterations = plan.options.maxIterations
        let ritz = try ConjugateGradients(maxIterations: 10, stagnationWindow: .max)
            .coefficients(kernel, rhs: b, steps: 10, preconditioner: preconditioner)
        let (lo, hi) = RitzValues.extremes(ritz)
        ConvergenceHistory.discard()        // the 10 spectrum steps are not iterations of the solve
        let low = 0.95 * lo, high = 1.05 * hi, ratio = high / low
        let kappa = ratio.isFinite && ratio > 1 ? ratio : (ratio.isNaN || ratio > 1 ? Double.infinity : 1)
        let rate = (kappa - 1) / (kappa + 1)
        // Richardson's count at rate ρ: ⌈ln(tol)/ln ρ⌉; "more than any budget" when ρ is not below 1.
        let count = rate > 0 && rate < 1 ? (log(plan.tolerance) / log(rate)).rounded(.up) : (rate <= 0 ? 1 : Double.infinity)
        let predicted = count.isFinite && count < 1e9 ? max(1, Int(count)) : Int.max
        let estimate = "κ ≈ \(Format.sci(kappa)) from Ritz values, Richardson predicted " + (predicted == Int.max ? "not to converge" : "\(predicted) iterations")
        if predicted <= maxIterations / 3, low > 0, high.isFinite {
            let richardson = try Richardson(maxIterations: maxIterations)
                .solve(kernel, rhs: b, start: start, step: 2 / (low + high), preconditioner: preconditioner, target: target)
            let left = maxIterations - richardson.iterations
            guard richardson.status != .converged, left > 0 else { return (richardson, "richardson (\(estimate))") }
            let cg = try ConjugateGradients.forKernel(maxIterations: left)
                .solve(kernel, rhs: b, start: richardson.solution, preconditioner: preconditioner, target: target)
            let result = IterationResult(solution: cg.solution, iterations: richardson.iterations + cg.iterations, status: cg.status)
            return (result, "richardson then cg (\(estimate); Richardson ended \(richardson.status.rawValue) after \(richardson.iterations))")
        }
        let cg = try ConjugateGradients.forKernel(maxIterations: maxIterations)
            .solve(kernel, rhs: b, start: start, preconditioner: preconditioner, target: target)
        return (cg, "cg (\(estimate), over a third of the budget of \(maxIterations))")
    }

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
