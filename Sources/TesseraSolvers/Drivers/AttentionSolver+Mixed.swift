import TesseraCore
import TesseraKernels

extension AttentionSolver {
    /// Row norms beyond which float32 panels are refused: the worst-case entry error of K̃
    /// (`KernelOperator.singleEntryError`) must stay at most this, so that a refinement step
    /// gains several digits; and ‖aᵢ‖² within float32 exp's range (`SingleExp.maximumArgument`).
    static let mixedEntryErrorLimit = 1e-4

    /// Why float32 panels do not suit A (nil when they do), for the report.
    static func mixedRefusal(maxRowNormSquared r2: Double, cols d: Int) -> String? {
        if r2 > Double(SingleExp.maximumArgument) {
            return "rows of A reach ‖aᵢ‖² = \(Format.sci(r2)) > \(SingleExp.maximumArgument), beyond float32 exp's range"
        }
        let error = KernelOperator.singleEntryError(maxRowNormSquared: r2, cols: d)
        if error > mixedEntryErrorLimit {
            return "float32 panels would change K's entries by up to \(Format.sci(error)) (rows of norm² \(Format.sci(r2)), d = \(d)), over \(Format.sci(mixedEntryErrorLimit))"
        }
        return nil
    }

    /// The correction of each refinement step is solved to this fraction of its residual (or
    /// to what the tolerance still needs, if less): K̃'s entries are ~1e-6 from K's, so
    /// a step's exact residual falls by about that much at best, and more inner iterations buy
    /// nothing.
    static let mixedInnerReduction = 1e-4

    /// Mixed-precision `pcg`: iterative refinement on (K + λI)x = b. Each step takes the exact
    /// residual r = b − (K + λI)x (one float64 product), solves (K̃ + λI)δ = r by PCG with the same
    /// preconditioner and float32-panel products (`inner`, on this process's rows: `KernelRowsOperator`) to `mixedInnerReduction`·‖r‖, and sets
    /// x += δ; it stops when ‖r‖ ≤ target. When a step does not halve the exact residual (K̃ too far
    /// from K for this system), x keeps its best value and float64 PCG finishes from it with the
    /// remaining budget. Iterations counted: inner and float64 ones (the exact residual products,
    /// one per step, are not). b, `start` and the returned x are this process's rows
    /// (`KernelOperator.partition`; `bNorm` is ‖b‖ of the whole b). Returns the result and what ran.
    func mixedRefinement(_ b: [Double], bNorm: Double, start: [Double]?, inner: some LinearOperator, preconditioner: WoodburyPreconditioner,
                         target: @escaping ([Double]) -> Double) throws(TesseraError) -> (IterationResult, String) {
        let maxIterations = plan.options.maxIterations, partition = kernel.partition
        let exact = KernelRowsOperator(kernel), rowsPreconditioner = WoodburyRowsPreconditioner(preconditioner, partition: partition)
        var x = start ?? [Double](repeating: 0, count: b.count)
        var r = start == nil ? b : b.plus(-1, try exact.apply(x))
        var rNorm = try partition.norm2(r), used = 0, steps: [Double] = [rNorm / max(bNorm, .leastNormalMagnitude)]
        var stalled = false
        while rNorm > target(x) && used < maxIterations && rNorm.isFinite {
            var cg = ConjugateGradients.forKernel(maxIterations: maxIterations - used)
            cg.products = partition
            cg.reportedResidualFactor = rNorm / max(bNorm, .leastNormalMagnitude)
            let goal = max(Self.mixedInnerReduction * rNorm, 0.5 * target(x))
            let correction = try cg.solve(inner, rhs: r, preconditioner: rowsPreconditioner, target: { _ in goal })
            used += correction.iterations
            let candidate = x.plus(1, correction.solution)
            let next = b.plus(-1, try exact.apply(candidate)), nextNorm = try partition.norm2(next)
            steps.append(nextNorm / max(bNorm, .leastNormalMagnitude))
            if !(nextNorm < 0.5 * rNorm) {
                if nextNorm < rNorm { x = candidate; r = next; rNorm = nextNorm }
                stalled = true
                break
            }
            (x, r, rNorm) = (candidate, next, nextNorm)
        }
        let trail = steps.map { Format.sci($0) }.joined(separator: " → ")
        let summary = "mixed: \(steps.count - 1) refinement steps, exact relative residuals \(trail), \(used) inner PCG iterations with float32 panels"
        if rNorm <= target(x) {
            return (IterationResult(solution: x, iterations: used, status: .converged), summary)
        }
        guard stalled, used < maxIterations else {
            return (IterationResult(solution: x, iterations: used, status: rNorm.isFinite ? .iterationCap : .breakdown), summary)
        }
        var finishing = ConjugateGradients.forKernel(maxIterations: maxIterations - used)
        finishing.products = partition
        let finish = try finishing.solve(exact, rhs: b, start: x, preconditioner: rowsPreconditioner, target: target)
        let result = IterationResult(solution: finish.solution, iterations: used + finish.iterations, status: finish.status)
        return (result, summary + "; a step did not halve the exact residual, so float64 PCG finished (\(finish.iterations) iterations)")
    }
}
