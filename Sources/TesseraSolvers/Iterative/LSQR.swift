import TesseraCore
import TesseraKernels

/// LSQR (Paige & Saunders 1982) for min ‖A·y − b‖ with right preconditioner R: it iterates on
/// K = A·R⁻¹ (one pass for K·v, one for Kᵀ·u) and returns y = y₀ + R⁻¹z. Stops when the
/// estimate ‖Kᵀr‖/(‖K‖‖r‖) ≤ tolerance, or ‖r‖ ≤ tolerance·(‖K‖‖z‖ + ‖b‖) for consistent
/// systems. Well-conditioned K (‖K‖ ≈ 1) converges in a few dozen iterations at most.
/// Throws what the operator throws (`.interrupted` among them).
public struct PreconditionedLSQR<Operator: RectangularOperator, Right: RightPreconditioner> {
    public let op: Operator
    public let preconditioner: Right
    public let maxIterations: Int

    public init(op: Operator, preconditioner: Right, maxIterations: Int) {
        self.op = op
        self.preconditioner = preconditioner
        self.maxIterations = maxIterations
    }

    public func solve(_ b: [Double], start y0: [Double], tolerance: Double) throws(TesseraError) -> IterationResult {
        let d = op.cols
        let r0 = b.plus(-1, try op.apply(y0))
        var beta = try op.rowNorm(r0)
        guard beta > 0 else { return IterationResult(solution: y0, iterations: 0, status: .converged) }
        var u = r0.scaled(1 / beta)
        var v = try kTransposed(u)
        var alpha = v.norm2
        guard alpha > 0 else { return IterationResult(solution: y0, iterations: 0, status: .converged) }
        v = v.scaled(1 / alpha)
        var w = v, z = [Double](repeating: 0, count: d)
        var phiBar = beta, rhoBar = alpha
        var anorm = 0.0
        let bnorm = beta
        var status = IterationStatus.iterationCap
        var iterations = 0
        for k in 1...maxIterations {
            try Interruption.check()
            iterations = k
            var uNext = try kTimes(v).plus(-alpha, u)
            beta = try op.rowNorm(uNext)
            guard beta.isFinite else { status = .breakdown; break }
            if beta > 0 { uNext = uNext.scaled(1 / beta) }
            u = uNext
            anorm = (anorm * anorm + alpha * alpha + beta * beta).squareRoot()
            var vNext = try kTransposed(u).plus(-beta, v)
            alpha = vNext.norm2
            if alpha > 0 { vNext = vNext.scaled(1 / alpha) }
            v = vNext
            let rho = (rhoBar * rhoBar + beta * beta).squareRoot()
            let c = rhoBar / rho, s = beta / rho
            let theta = s * alpha
            rhoBar = -c * alpha
            let phi = c * phiBar
            phiBar = s * phiBar
            z = z.plus(phi / rho, w)
            w = v.plus(-theta / rho, w)
            let residual = phiBar                       // ‖r‖
            let normalResidual = phiBar * alpha * abs(c)  // ‖Kᵀr‖
            try Interruption.checkpoint(iteration: k, residual: normalResidual / max(anorm * residual, .leastNormalMagnitude))
            if residual <= tolerance * (anorm * z.norm2 + bnorm) || normalResidual <= tolerance * anorm * residual {
                status = .converged
                break
            }
        }
        var step = z
        preconditioner.solve(&step)
        return IterationResult(solution: y0.plus(1, step), iterations: iterations, status: status)
    }

    func kTimes(_ v: [Double]) throws(TesseraError) -> [Double] {
        var x = v
        preconditioner.solve(&x)
        return try op.apply(x)
    }

    func kTransposed(_ u: [Double]) throws(TesseraError) -> [Double] {
        var x = try op.applyTransposed(u)
        preconditioner.solveTransposed(&x)
        return x
    }
}
