import TesseraCore
import TesseraSketch
import TesseraTiles

/// A solution and its report.
public struct TallSolution: Sendable {
    public let x: [Double]
    public let report: SolveReport
}

/// Prepare once, solve many: for one tall A, picks the method, builds the triangular factor R
/// (sketched, randomized Cholesky-QR or Gram Cholesky) and, for the paper's method, the
/// Richardson step; then solves `gram` and `lstsq` problems for any right-hand side and power.
/// Immutable after `init`, so `solve…` may be called from several threads at once.
///
/// Costs (n×d A, j the power): sketch + QR(SA) O(s·d²); Gram Cholesky n·d² + d³/3;
/// randomized Cholesky-QR sketch + 2n·d²; each iteration one pass over A (4nd flops, two for LSQR);
/// verification j passes (gram) or 2j + 2 (lstsq); with an exact factor one block pass for gram
/// and three for lstsq (`Verification.gramPowerOnePass`: the power's probes G^k x, G = RᵀR, go
/// through A together).
public final class TallSolver: Sendable {
    public let op: TallOperator
    public let options: SolveOptions
    public let problem: TallProblem
    public let method: SolveMethod
    public let reason: String
    public let factor: TriangularFactor
    /// ‖A‖₂ ≈ ‖R‖₂.
    public let normA: Double
    /// Richardson step and κ(AR⁻¹) (from Lanczos on R⁻ᵀAᵀAR⁻¹), for the paper's method.
    let spectrum: (omega: Double, condition: Double)?
    let notes: [String]
    let prepareSeconds: [String: Double]

    public init(matrix: TiledMatrix, engine: Engine, problem: TallProblem, options: SolveOptions = SolveOptions()) throws(TesseraError) {
        try options.validate()
        guard matrix.rows >= matrix.cols else {
            throw .invalidInput("A has \(matrix.rows) rows and \(matrix.cols) columns; Tessera needs n ≥ d (a tall matrix)")
        }
        try options.checkMemory(rows: matrix.rows, cols: matrix.cols)
        op = TallOperator(matrix: matrix, engine: engine)
        self.options = options
        self.problem = problem
        let plan = Planner().plan(problem: problem, rows: matrix.rows, cols: matrix.cols, power: 1,
                                  workers: engine.workerCount, options: options)
        var notes: [String] = []
        var method = plan.method
        let distribution = try SketchDistribution(kind: options.sketch, rows: options.sketchRows(cols: matrix.cols, rows: matrix.rows),
                                                  seed: options.seed)
        var made: TriangularFactor
        switch method {
        case .paper, .pcg: made = try .sketched(matrix, distribution: distribution, engine: engine)
        case .direct: made = try .randomizedCholeskyQR(matrix, distribution: distribution, engine: engine)
        case .cholesky, .auto:
            do throws(TesseraError) {
                made = try .gramCholesky(matrix, engine: engine)
                if made.conditionEstimate > Self.choleskyConditionLimit {
                    throw TesseraError.numerical("κ(A) ≈ \(Format.sci(made.conditionEstimate))")
                }
            } catch {
                guard case .numerical = error else { throw error }
                notes.append("Cholesky of AᵀA is unreliable here (κ(A) ≳ \(Format.sci(Self.choleskyConditionLimit)) or not positive definite); used randomized Cholesky-QR")
                method = .direct
                made = try .randomizedCholeskyQR(matrix, distribution: distribution, engine: engine)
            }
        }
        if method == .auto { method = .cholesky }
        factor = made
        self.method = method
        reason = plan.reason
        normA = made.r.norm2
        var seconds = ["sketch": made.seconds.sketch, "factor": made.seconds.factor]
        if method == .paper {
            var clock = Stopwatch()
            let r = made.r, o = op
            let (lo, hi) = try Lanczos.extremeEigenvalues(dimension: matrix.cols, steps: 10, seed: options.seed) { (v) throws(TesseraError) in
                var w = v
                r.solve(&w)
                var g = try o.applyGram(w)
                r.solveTransposed(&g)
                return g
            }
            spectrum = (2 / (lo + hi), (hi / lo).squareRoot())
            seconds["factor", default: 0] += clock.lap()
        } else {
            spectrum = nil
        }
        self.notes = notes
        prepareSeconds = seconds
    }

    /// Above this estimated κ(A) (its square reaches 10¹² and the 1-norm estimate may be a few
    /// times high) the Gram-Cholesky factor is replaced by randomized Cholesky-QR, which also
    /// tells true rank deficiency apart.
    static let choleskyConditionLimit = 1e6

    /// Solves min ‖(AᵀA)^j x − b‖ for b ∈ ℝ^d, j ≥ 1.
    public func solveGram(_ b: [Double], power j: Int) throws(TesseraError) -> TallSolution {
        try checkPower(j, minimum: 1)
        guard b.count == op.cols else { throw .invalidInput("b has \(b.count) entries; the gram problem needs d = \(op.cols)") }
        try checkFinite(b)
        var report = makeReport(.gram, power: j)
        var clock = Stopwatch()
        let (x, iterations, status, condition) = try gramPower(b, power: j, eta: options.tolerance / Double(j))
        if report.conditionPreconditioned == nil { report.conditionPreconditioned = condition }
        report.seconds["iterate"] = clock.lap()
        report.iterations = iterations
        report.status = status
        try Verification.gram(op: op, exactFactor: exactFactor, x: x, b: b, power: j, normA: normA, into: &report)
        report.seconds["verify"] = clock.lap()
        if isExact && !(report.accuracy <= max(options.tolerance, report.accuracyFloor)) {
            let refined = try refinePower(b, power: j, eta: options.tolerance / Double(j))
            report.iterations = refined.iterations
            report.status = refined.status
            report.notes.append("the direct solve missed the tolerance; refined with preconditioned CG")
            report.seconds["iterate", default: 0] += clock.lap()
            try Verification.gram(op: op, exactFactor: exactFactor, x: refined.x, b: b, power: j, normA: normA, into: &report)
            report.seconds["verify", default: 0] += clock.lap()
            return finish(refined.x, &report)
        }
        return finish(x, &report)
    }

    /// Solves min ‖A(AᵀA)^j x − b‖ for b ∈ ℝ^n, j ≥ 0. With an exact factor, as a block of one
    /// (corrected semi-normal equations: one fused pass over A per step); otherwise, and when
    /// that misses the tolerance, by the method's least-squares stage (LSQR, Richardson).
    public func solveLstsq(_ b: [Double], power j: Int) throws(TesseraError) -> TallSolution {
        guard isExact else { return try solveLstsqAlone(b, power: j) }
        let solutions = try solveLstsq(block: [b], power: j)
        guard let solution = solutions.first else { throw .internalFailure("lstsq: the block of one gave no solution") }
        return solution
    }

    /// min ‖A(AᵀA)^j x − b‖ by the method's own least-squares stage, then the power stages.
    func solveLstsqAlone(_ b: [Double], power j: Int) throws(TesseraError) -> TallSolution {
        try checkPower(j, minimum: 0)
        guard b.count == op.rows else { throw .invalidInput("b has \(b.count) entries; the lstsq problem needs n = \(op.rows)") }
        try checkFinite(b)
        var report = makeReport(.lstsq, power: j)
        var clock = Stopwatch()
        let ls = try leastSquares(b)
        var iterations = [ls.iterations], status = ls.status
        var x = ls.solution
        var powerEta = 1e-16
        if j > 0 {
            // Errors of the power stages reach the optimality multiplied by ≈ ‖A‖‖y‖/‖r‖.
            let residual = b.plus(-1, try op.apply(ls.solution)).norm2
            let scale = normA * ls.solution.norm2 / max(residual, .leastNormalMagnitude)
            var eta = (method == .paper ? 0.01 : 0.1) * options.tolerance / (Double(j) * max(scale, 1))
            if eta < 1e-16 {
                report.notes.append("power stages need backward error \(Format.sci(eta)) < float64 precision; aiming at 1e-16")
                eta = 1e-16
            }
            powerEta = eta
            let powered = try gramPower(ls.solution, power: j, eta: eta)
            x = powered.x
            if report.conditionPreconditioned == nil { report.conditionPreconditioned = powered.condition }
            iterations += powered.iterations
            status = status.combined(with: powered.status)
        }
        report.seconds["iterate"] = clock.lap()
        report.iterations = iterations
        report.status = status
        try Verification.lstsq(op: op, x: x, b: b, power: j, normA: normA, into: &report)
        report.seconds["verify"] = clock.lap()
        if isExact && j > 0 && !(report.accuracy <= max(options.tolerance, report.accuracyFloor)) {
            let refined = try refinePower(ls.solution, power: j, eta: powerEta)
            report.iterations = [ls.iterations] + refined.iterations
            report.status = ls.status.combined(with: refined.status)
            report.notes.append("the direct power solves missed the tolerance; refined with preconditioned CG")
            report.seconds["iterate", default: 0] += clock.lap()
            try Verification.lstsq(op: op, x: refined.x, b: b, power: j, normA: normA, into: &report)
            report.seconds["verify", default: 0] += clock.lap()
            return finish(refined.x, &report)
        }
        return finish(x, &report)
    }

    /// Solves for each column of a block B = [b₁ … b_m] of right-hand sides (reusing R). With an
    /// exact factor (`direct`, `cholesky`) the block goes through BLAS-3: X = (RᵀR)^{-j}B by 2j
    /// triangular solves with m columns, and the verification (AᵀA)^j X by one block pass over A
    /// (`Verification.gramPowerOnePass`) instead of j·m vector passes; a column that misses the
    /// tolerance is then solved again alone (with its refinement). Iterative methods solve column
    /// by column.
    public func solveGram(block: [[Double]], power j: Int) throws(TesseraError) -> [TallSolution] {
        guard isExact, block.count > 1 else {
            var out: [TallSolution] = []
            for b in block { out.append(try solveGram(b, power: j)) }
            return out
        }
        try checkPower(j, minimum: 1)
        let d = op.cols, m = block.count
        for b in block {
            guard b.count == d else { throw .invalidInput("b has \(b.count) entries; the gram problem needs d = \(d)") }
            try checkFinite(b)
        }
        var clock = Stopwatch()
        var x = block.flatMap { $0 }
        for _ in 0..<j { factor.r.solveNormal(block: &x, columns: m) }
        let iterate = clock.lap()
        let product = try Verification.gramPower(op: op, exactFactor: exactFactor, block: x, columns: m, power: j, normA: normA)
        let verify = clock.lap()
        var out: [TallSolution] = []
        for (c, b) in block.enumerated() {
            let xc = Array(x[(c * d)..<((c + 1) * d)])
            var report = makeReport(.gram, power: j)
            report.iterations = Array(repeating: 0, count: j)
            report.status = .converged
            report.seconds["iterate"] = iterate
            report.seconds["verify"] = verify
            Verification.gram(product: Array(product[(c * d)..<((c + 1) * d)]), x: xc, b: b, power: j, normA: normA, into: &report)
            if !(report.accuracy <= max(options.tolerance, report.accuracyFloor)) {
                out.append(try solveGram(b, power: j))      // alone, with the refinement
                continue
            }
            report.notes.append("solved as a block of \(m) right-hand sides (BLAS-3); the times are the whole block's")
            out.append(finish(xc, &report))
        }
        return out
    }

    /// Solves min ‖A(AᵀA)^j x − b‖ for each column of a block B = [b₁ … b_m] (reusing R). With an
    /// exact factor (`direct`, `cholesky`) the block goes through BLAS-3: Y = argmin ‖AY − B‖ by
    /// the corrected semi-normal equations (Y ← Y + (RᵀR)⁻¹Aᵀ(B − AY), each step one block pass
    /// over A, two GEMMs per tile), X = (RᵀR)^{-j}Y by 2j triangular solves with m columns, and
    /// the verification r = A(AᵀA)^j X − B, Mᵀr by three block passes instead of (2j + 2)·m
    /// vector passes. A column that misses the tolerance is solved again alone (LSQR and the
    /// refinement of `solveLstsq(_:power:)`). Iterative methods solve column by column.
    public func solveLstsq(block: [[Double]], power j: Int) throws(TesseraError) -> [TallSolution] {
        guard isExact, !block.isEmpty else {
            var out: [TallSolution] = []
            for b in block { out.append(try solveLstsqAlone(b, power: j)) }
            return out
        }
        try checkPower(j, minimum: 0)
        let n = op.rows, d = op.cols, m = block.count, a = op.matrix, engine = op.engine
        for b in block {
            guard b.count == n else { throw .invalidInput("b has \(b.count) entries; the lstsq problem needs n = \(n)") }
            try checkFinite(b)
        }
        var clock = Stopwatch()
        let rhs = try SharedBlock(rows: n, cols: m, engine: engine, zeroed: false)
        for (c, b) in block.enumerated() {
            b.withUnsafeBufferPointer { v in
                if let base = v.baseAddress { (rhs.pointer + c * n).update(from: base, count: n) }
            }
        }
        // Least-squares stage: Y = (RᵀR)⁻¹AᵀB, then corrections while some column's optimality
        // ‖Aᵀ(B − AY)‖/(‖A‖‖B − AY‖) misses a tenth of the tolerance (at most three).
        var y = try a.residualGradient(block: nil, rhs: rhs, columns: m, engine: engine).gradient
        factor.r.solveNormal(block: &y, columns: m)
        var corrections = 0
        var last: (gradient: [Double], squaredNorms: [Double])
        while true {
            last = try a.residualGradient(block: y, rhs: rhs, columns: m, engine: engine)
            // For j = 0 this pass is the verification itself, so the tolerance is enough.
            let target = j == 0 ? options.tolerance : 0.1 * options.tolerance
            if worstOptimality(last, columns: m) <= target || corrections == 3 { break }
            var step = last.gradient
            factor.r.solveNormal(block: &step, columns: m)
            for k in 0..<(d * m) { y[k] += step[k] }
            corrections += 1
        }
        var x = y
        for _ in 0..<j { factor.r.solveNormal(block: &x, columns: m) }
        let iterate = clock.lap()
        // Verification: P = (AᵀA)^j X, G = Aᵀ(B − AP) = −Aᵀr and ‖r‖, Mᵀr = −(AᵀA)^j G. For j = 0
        // the last pass above was already that fresh pass over A for this very X.
        var (mtr, squares) = last
        if j > 0 {
            let product = try Verification.gramPower(op: op, exactFactor: exactFactor, block: x, columns: m, power: j, normA: normA)
            (mtr, squares) = try a.residualGradient(block: product, rhs: rhs, columns: m, engine: engine)
            mtr = try Verification.gramPower(op: op, exactFactor: exactFactor, block: mtr, columns: m, power: j, normA: normA)
        }
        let verify = clock.lap()
        var out: [TallSolution] = []
        for (c, b) in block.enumerated() {
            let xc = Array(x[(c * d)..<((c + 1) * d)])
            var report = makeReport(.lstsq, power: j)
            report.iterations = [corrections] + Array(repeating: 0, count: j)
            report.status = .converged
            report.seconds["iterate"] = iterate
            report.seconds["verify"] = verify
            Verification.lstsq(residualNorm: squares[c].squareRoot(), mtr: Array(mtr[(c * d)..<((c + 1) * d)]), x: xc, b: b,
                               power: j, normA: normA, into: &report)
            if !(report.accuracy <= max(options.tolerance, report.accuracyFloor)) {
                out.append(try solveLstsqAlone(b, power: j))      // with LSQR and the refinement
                continue
            }
            if m > 1 {
                report.notes.append("solved as a block of \(m) right-hand sides (BLAS-3, \(corrections) semi-normal correction(s)); the times are the whole block's")
            }
            out.append(finish(xc, &report))
        }
        return out
    }

    /// max over the columns of ‖Aᵀr_c‖/(‖A‖‖r_c‖), from a block pass's gradient and squared norms.
    func worstOptimality(_ pass: (gradient: [Double], squaredNorms: [Double]), columns m: Int) -> Double {
        let d = op.cols
        var worst = 0.0
        for c in 0..<m where pass.squaredNorms[c] > 0 {
            let g: [Double] = Array(pass.gradient[(c * d)..<((c + 1) * d)])
            let residualNorm: Double = pass.squaredNorms[c].squareRoot()
            worst = max(worst, g.norm2 / (normA * residualNorm))
        }
        return worst
    }

    // MARK: stages

    var stage: GramStage { GramStage(op: op, preconditioner: factor.r, gramNorm: normA * normA, maxIterations: options.maxIterations) }

    /// j successive solves of AᵀA·y = c, each to backward error `eta`.
    func gramPower(_ c: [Double], power j: Int, eta: Double) throws(TesseraError)
        -> (x: [Double], iterations: [Int], status: IterationStatus, condition: Double?) {
        var y = c, iterations: [Int] = [], status = IterationStatus.converged
        var condition: Double?
        for _ in 0..<j {
            var start = y
            factor.r.solveNormal(&start)            // (RᵀR)⁻¹c: exact for exact R, the sketched normal equations otherwise
            let result: IterationResult
            switch method {
            case .paper: result = try stage.richardson(y, start: [Double](repeating: 0, count: op.cols), step: spectrum?.omega ?? 1, eta: eta)
            case .pcg: result = try stage.conjugateGradients(y, start: start, eta: eta)
            case .direct, .cholesky, .auto: result = IterationResult(solution: start, iterations: 0, status: .converged)
            }
            y = result.solution
            iterations.append(result.iterations)
            status = status.combined(with: result.status)
            condition = condition ?? result.conditionEstimate
        }
        return (y, iterations, status, condition)
    }

    /// j PCG stages from the exact factor's answers: the refinement used when a direct solve's
    /// verification misses the tolerance.
    func refinePower(_ c: [Double], power j: Int, eta: Double) throws(TesseraError) -> (x: [Double], iterations: [Int], status: IterationStatus) {
        var y = c, iterations: [Int] = [], status = IterationStatus.converged
        for _ in 0..<j {
            var start = y
            factor.r.solveNormal(&start)
            let result = try stage.conjugateGradients(y, start: start, eta: eta)
            y = result.solution
            iterations.append(result.iterations)
            status = status.combined(with: result.status)
        }
        return (y, iterations, status)
    }

    var isExact: Bool { method == .direct || method == .cholesky }

    /// R when it is the exact factor of A (RᵀR = AᵀA to rounding), which lets the verification
    /// apply (AᵀA)^j in one pass (`Verification.gramPowerOnePass`); nil for sketch preconditioners.
    var exactFactor: UpperTriangular? { isExact ? factor.r : nil }

    /// argmin ‖Ay − b‖ by the method's least-squares stage.
    func leastSquares(_ b: [Double]) throws(TesseraError) -> IterationResult {
        let tol = options.tolerance
        let lsqr = PreconditionedLSQR(op: op, preconditioner: factor.r, maxIterations: options.maxIterations)
        switch method {
        case .paper:
            let c = try op.applyTransposed(b)
            let start = try factor.sketchAndSolve(b)
            let r0 = b.plus(-1, try op.apply(start)).norm2
            let eta = 0.01 * tol * normA * r0 / (normA * normA * start.norm2 + c.norm2 + .leastNormalMagnitude)
            return try stage.richardson(c, start: start, step: spectrum?.omega ?? 1, eta: max(eta, 1e-16))
        case .pcg:
            return try refinedLSQR(lsqr, b, start: try factor.sketchAndSolve(b))
        case .direct:
            // Corrected semi-normal equations: y = (RᵀR)⁻¹Aᵀb, then one correction from the residual.
            var y = try op.applyTransposed(b)
            factor.r.solveNormal(&y)
            var correction = try op.applyTransposed(b.plus(-1, try op.apply(y)))
            factor.r.solveNormal(&correction)
            return IterationResult(solution: y.plus(1, correction), iterations: 1, status: .converged)
        case .cholesky, .auto:
            var y = try op.applyTransposed(b)
            factor.r.solveNormal(&y)
            return try refinedLSQR(lsqr, b, start: y)
        }
    }

    /// LSQR to a tenth of the tolerance, restarted (up to twice) from its own answer while the
    /// true optimality ‖Aᵀr‖/(‖A‖‖r‖), measured with two passes, misses the tolerance.
    func refinedLSQR(_ lsqr: PreconditionedLSQR, _ b: [Double], start: [Double]) throws(TesseraError) -> IterationResult {
        var result = try lsqr.solve(b, start: start, tolerance: 0.1 * options.tolerance)
        for _ in 0..<2 {
            let r = b.plus(-1, try op.apply(result.solution))
            let optimality = try op.applyTransposed(r).norm2 / (normA * max(r.norm2, .leastNormalMagnitude))
            if optimality <= options.tolerance || r.norm2 == 0 { break }
            let again = try lsqr.solve(b, start: result.solution, tolerance: 0.1 * options.tolerance)
            result = IterationResult(solution: again.solution, iterations: result.iterations + again.iterations,
                                     status: again.status)
        }
        return result
    }

    // MARK: helpers

    func checkPower(_ j: Int, minimum: Int) throws(TesseraError) {
        guard j >= minimum, j <= maximumPower else {
            throw .invalidArgument("--power must lie in \(minimum)...\(maximumPower) for this problem (got \(j))")
        }
    }

    func checkFinite(_ b: [Double]) throws(TesseraError) {
        if let i = b.firstIndex(where: { !$0.isFinite }) {
            throw .invalidInput("b holds a non-finite value at index \(i); remove or replace NaN/Inf entries")
        }
    }

    func makeReport(_ problem: TallProblem, power j: Int) -> SolveReport {
        var r = SolveReport(problem: problem, method: method, reason: reason, rows: op.rows, cols: op.cols, power: j,
                            sketchKind: factor.sketch?.distribution.kind.rawValue, sketchRows: factor.sketch?.distribution.rows,
                            factor: factor.origin.rawValue, tolerance: options.tolerance,
                            threads: op.engine.workerCount, tileRows: op.matrix.layout.tileRows, seed: options.seed)
        r.conditionA = factor.conditionEstimate
        r.conditionPreconditioned = spectrum?.condition ?? (factor.origin == .sketch ? nil : 1)
        r.normA = normA
        r.notes = notes
        for (k, v) in prepareSeconds { r.seconds[k] = v }
        let exponent = problem == .gram ? 2 * Double(j) : 2 * Double(j) + 1
        let floor = pow(factor.conditionEstimate, exponent) * 1.1e-16
        if floor > 1e-2 {
            r.notes.append("κ(A)^\(Int(exponent)) · u ≈ \(Format.sci(floor)): the forward error of x cannot be small in float64"
                           + (problem == .lstsq ? ", and the tolerance may be unreachable" : "; the backward error still can"))
        }
        return r
    }

    func finish(_ x: [Double], _ report: inout SolveReport) -> TallSolution {
        report.converged = report.accuracy <= max(options.tolerance, report.accuracyFloor)
        if report.accuracyFloor > options.tolerance {
            report.notes.append("float64 cannot certify this measure below ≈ \(Format.sci(report.accuracyFloor)) for this x (rounding in r = Mx − b alone); convergence is judged against that floor")
        }
        if report.converged && report.status == .stagnated {
            report.notes.append("the iteration stagnated at its rounding floor, which already meets the tolerance")
        } else if !report.converged, let why = report.status.explanation {
            report.notes.append(why)
        }
        report.seconds["total"] = ["sketch", "factor", "iterate", "verify"].reduce(0) { $0 + (report.seconds[$1] ?? 0) }
        return TallSolution(x: x, report: report)
    }
}

#if canImport(Glibc)
import Glibc
#endif
