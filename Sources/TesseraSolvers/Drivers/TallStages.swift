import TesseraCore
import TesseraKernels

/// The stages a tall solve is made of: j solves with AᵀA (the power stages), the least-squares
/// stage argmin ‖Ay − b‖, and their refinements — each by the method the plan chose, through the
/// one implementation of each iterative method (`ConjugateGradients`, `Richardson`,
/// `PreconditionedLSQR`).
extension TallSolver {
    /// P⁻¹ = (RᵀR)⁻¹.
    var preconditioner: NormalEquationsPreconditioner { NormalEquationsPreconditioner(factor.r) }

    /// The normwise backward-error target η·(‖AᵀA‖‖y‖ + ‖c‖) of a power stage.
    func gramTarget(_ c: [Double], eta: Double) -> ([Double]) -> Double {
        let normA = normA, cNorm = c.norm2
        return { y in eta * Verification.magnitude(normA: normA, power: 2, times: y.norm2, plus: cNorm) }
    }

    /// CG on AᵀA with P = RᵀR: sweeps end after 30 steps without progress.
    var conjugateGradients: ConjugateGradients { ConjugateGradients(maxIterations: options.maxIterations, stagnationWindow: 30) }

    /// j successive solves of AᵀA·y = c, each to backward error `eta`; the last one's iteration
    /// starts at `finalStart` when given (a caller's guess of x). `product`: AᵀA·x from the fresh
    /// pass that confirmed the last stage (CG's), when it ended on one; gram's verification uses it.
    func gramPower(_ c: [Double], eta: Double, finalStart: [Double]? = nil) throws(TesseraError)
        -> (x: [Double], iterations: [Int], status: IterationStatus, condition: Double?, product: [Double]?) {
        var y = c, iterations: [Int] = [], status = IterationStatus.converged
        var condition: Double?, product: [Double]? = nil
        for stage in 0..<power {
            var start = y
            factor.r.solveNormal(&start)            // (RᵀR)⁻¹c: exact for exact R, the sketched normal equations otherwise
            let guess = stage == power - 1 ? finalStart : nil
            let result: IterationResult
            switch method {
            case .paper:
                result = try Richardson(maxIterations: options.maxIterations)
                    .solve(op.gram, rhs: y, start: guess, step: spectrum?.omega ?? 1, preconditioner: preconditioner,
                           target: gramTarget(y, eta: eta))
            case .pcg:
                // An intermediate stage on the float32 Gram's factor (spectrum within 1 ± δκ², two
                // or three steps, for κ within the planner's limit) trusts its recurrence: its
                // answer only feeds the next stage, and the certificate is still an independent
                // pass. (From zero instead of (RᵀR)⁻¹c CG needs one step more: the same passes.)
                var cg = conjugateGradients
                cg.confirmConvergence = stage == power - 1 || factor.origin != .float32Gram
                    || !(factor.conditionEstimate <= TallPlanner.mixedConditionLimit)
                result = try cg.solve(op.gram, rhs: y, start: guess ?? start, preconditioner: preconditioner,
                                      target: gramTarget(y, eta: eta))
            case .direct, .cholesky, .surrogate:
                result = IterationResult(solution: start, iterations: 0, status: .converged)
            }
            y = result.solution
            product = result.finalProduct
            iterations.append(result.iterations)
            status = status.combined(with: result.status)
            condition = condition ?? result.conditionEstimate
        }
        return (y, iterations, status, condition, product)
    }

    /// j PCG stages from the exact factor's answers: the refinement used when a direct solve's
    /// verification misses the tolerance.
    func refinePower(_ c: [Double], eta: Double) throws(TesseraError) -> (x: [Double], iterations: [Int], status: IterationStatus) {
        var y = c, iterations: [Int] = [], status = IterationStatus.converged
        for _ in 0..<power {
            var start = y
            factor.r.solveNormal(&start)
            let result = try conjugateGradients.solve(op.gram, rhs: y, start: start, preconditioner: preconditioner,
                                                      target: gramTarget(y, eta: eta))
            y = result.solution
            iterations.append(result.iterations)
            status = status.combined(with: result.status)
        }
        return (y, iterations, status)
    }

    /// argmin ‖Ay − b‖ by the method's least-squares stage; the iterative methods start at
    /// `guess` when given (a caller's warm start), else at the sketch-and-solve point from
    /// `whole` (all of b, where b is held by rows; b itself by default).
    func leastSquares(_ b: [Double], start guess: [Double]? = nil, whole: [Double]? = nil) throws(TesseraError) -> IterationResult {
        let lsqr = PreconditionedLSQR(op: op, preconditioner: factor.r, maxIterations: options.maxIterations)
        switch method {
        case .paper:
            let c = try op.applyTransposed(b)
            let start: [Double]
            if let guess { start = guess } else { start = try factor.sketchAndSolve(whole ?? b) }
            let r0 = try op.rowNorm(b.plus(-1, try op.apply(start)))
            // 0.01·tol·‖A‖‖r₀‖ / (‖A‖²‖x₀‖ + ‖c‖), formed without ‖A‖² alone.
            let eta = 0.01 * tolerance * Verification.ratio(Verification.magnitude(normA: normA, power: 1, times: r0),
                                                             normA: normA, power: 2, times: start.norm2, plus: c.norm2)
            return try Richardson(maxIterations: options.maxIterations)
                .solve(op.gram, rhs: c, start: start, step: spectrum?.omega ?? 1, preconditioner: preconditioner,
                       target: gramTarget(c, eta: max(eta, 1e-16)))
        case .pcg:
            if let guess { return try refinedLSQR(lsqr, b, start: guess) }
            // A factor without a sketch (the float32 Gram): corrected semi-normal steps.
            guard factor.sketch != nil else { return try correctedSemiNormal(lsqr, b) }
            return try refinedLSQR(lsqr, b, start: try factor.sketchAndSolve(whole ?? b))
        case .direct, .surrogate:
            // Corrected semi-normal equations: y = (RᵀR)⁻¹Aᵀb, then one correction from the residual.
            var y = try op.applyTransposed(b)
            factor.r.solveNormal(&y)
            var correction = try op.applyTransposed(b.plus(-1, try op.apply(y)))
            factor.r.solveNormal(&correction)
            // The step's residual estimate for the history: the correction relative to y.
            try Interruption.checkpoint(iteration: 1, residual: correction.norm2 / max(y.norm2, .leastNormalMagnitude))
            return IterationResult(solution: y.plus(1, correction), iterations: 1, status: .converged)
        case .cholesky:
            var y = try op.applyTransposed(b)
            factor.r.solveNormal(&y)
            return try refinedLSQR(lsqr, b, start: y)
        }
    }

    /// The float32 Gram's least-squares stage: y = (RᵀR)⁻¹Aᵀb, then corrections y ← y +
    /// (RᵀR)⁻¹Aᵀ(b − Ay), each one fused pass over A that also gives ‖b − Ay‖, until the
    /// optimality ‖Aᵀr‖/(‖A‖‖r‖) meets the tolerance (a tenth of it when power stages follow).
    /// RᵀR is within δ ≈ 10⁻⁶·‖A‖² of AᵀA, so each step shrinks the error by about δκ(A)² (the
    /// planner keeps float32 for κ ≲ 10³): two or three passes instead of LSQR's two per
    /// iteration. After 6 steps, or a step that fails to halve the optimality, LSQR continues
    /// from the best y (`refinedLSQR`). Throws what the passes throw.
    func correctedSemiNormal(_ lsqr: PreconditionedLSQR<TallOperator, UpperTriangular>, _ b: [Double]) throws(TesseraError) -> IterationResult {
        // j = 0: half the tolerance, as the certificate's ‖A‖ (`CertifiedNorm`, from below) may
        // sit ≈ 10⁻⁶ under the ‖R‖ judged here.
        let target = power == 0 ? 0.5 * tolerance : 0.1 * tolerance
        var y = try op.applyTransposed(b)
        factor.r.solveNormal(&y)
        var best = (y: y, optimality: Double.infinity), steps = 0
        while true {
            let pass = try op.residualGradient(y, b)
            let rNorm = pass.squaredNorm.squareRoot()
            let optimality = rNorm == 0 ? 0 : Verification.ratio(pass.gradient.norm2, normA: normA, power: 1, times: rNorm)
            if steps > 0 { try Interruption.checkpoint(iteration: steps, residual: optimality) }
            if optimality <= target {
                var done = IterationResult(solution: y, iterations: steps, status: .converged)
                done.finalResidualGradient = pass
                return done
            }
            let halved = optimality < 0.5 * best.optimality
            if optimality < best.optimality { best = (y, optimality) }
            guard optimality.isFinite, halved, steps < 6 else { break }
            var step = pass.gradient
            factor.r.solveNormal(&step)
            y = y.plus(1, step)
            steps += 1
        }
        let rest = try refinedLSQR(lsqr, b, start: best.optimality.isFinite ? best.y : y)
        return IterationResult(solution: rest.solution, iterations: steps + rest.iterations, status: rest.status)
    }

    /// LSQR to a tenth of the tolerance, restarted (up to twice) from its own answer while the
    /// true optimality ‖Aᵀr‖/(‖A‖‖r‖), measured with two passes, misses the tolerance (half of
    /// it when power stages follow: their errors add to it, and ‖Mᵀr‖/(‖M‖‖r‖) ≤ ‖Aᵀr‖/(‖A‖‖r‖)
    /// for M = A(AᵀA)^j leaves them the other half).
    func refinedLSQR(_ lsqr: PreconditionedLSQR<TallOperator, UpperTriangular>, _ b: [Double], start: [Double]) throws(TesseraError) -> IterationResult {
        var result = try lsqr.solve(b, start: start, tolerance: 0.1 * tolerance)
        let target = power == 0 ? tolerance : 0.5 * tolerance
        for _ in 0..<2 {
            let r = b.plus(-1, try op.apply(result.solution))
            let rNorm = try op.rowNorm(r)
            let optimality = rNorm == 0 ? 0 : Verification.ratio(try op.applyTransposed(r).norm2, normA: normA, power: 1, times: rNorm)
            if optimality <= target || rNorm == 0 { break }
            let again = try lsqr.solve(b, start: result.solution, tolerance: 0.1 * tolerance)
            result = IterationResult(solution: again.solution, iterations: result.iterations + again.iterations,
                                     status: again.status)
        }
        return result
    }
}
