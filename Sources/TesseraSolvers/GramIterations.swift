import TesseraCore

/// Iterations for G·y = c with G = AᵀA (one fused pass over A per product) and the
/// preconditioner M⁻¹ = R⁻¹R⁻ᵀ. Both stop when the residual meets the normwise backward-error
/// target ‖c − Gy‖ ≤ η·(‖G‖‖y‖ + ‖c‖), keep the best iterate, and report how they ended.
public struct GramStage: Sendable {
    public let op: TallOperator
    public let preconditioner: UpperTriangular
    /// ‖G‖₂ = ‖A‖₂² (estimate).
    public let gramNorm: Double
    public let maxIterations: Int

    func target(_ y: [Double], _ c: [Double], _ eta: Double) -> Double { eta * (gramNorm * y.norm2 + c.norm2) }

    /// The paper's preconditioned Richardson iteration y ← y + ω·M⁻¹(c − Gy), ω = 2/(λmin + λmax)
    /// of M⁻¹G, its true residual recomputed every step (one pass).
    public func richardson(_ c: [Double], start: [Double], step omega: Double, eta: Double) throws(TesseraError) -> IterationResult {
        var y = start, best = start, bestResidual = Double.infinity, sinceBest = 0
        for k in 0...maxIterations {
            try Interruption.check()
            let r = c.plus(-1, try op.applyGram(y))
            let norm = r.norm2
            guard norm.isFinite else { return IterationResult(solution: best, iterations: k, status: .breakdown) }
            if norm < bestResidual { best = y; bestResidual = norm; sinceBest = 0 } else { sinceBest += 1 }
            if norm <= target(y, c, eta) { return IterationResult(solution: y, iterations: k, status: .converged) }
            if sinceBest >= 20 { return IterationResult(solution: best, iterations: k, status: .stagnated) }
            if k == maxIterations { break }
            var z = r
            preconditioner.solveNormal(&z)
            y = y.plus(omega, z)
        }
        return IterationResult(solution: best, iterations: maxIterations, status: .iterationCap)
    }

    /// Preconditioned conjugate gradients from `start`, restarted from the true residual (iterative
    /// refinement) when the recurrence claims convergence that the true residual does not confirm.
    public func conjugateGradients(_ c: [Double], start: [Double], eta: Double) throws(TesseraError) -> IterationResult {
        var y = start, total = 0
        var best = start, bestResidual = Double.infinity
        var coefficients: [(alpha: Double, beta: Double)] = []   // first round, for the spectrum
        for _ in 0..<4 {   // refinement rounds
            var r = c.plus(-1, try op.applyGram(y))
            let trueNorm = r.norm2
            guard trueNorm.isFinite else { return IterationResult(solution: best, iterations: total, status: .breakdown) }
            if trueNorm < bestResidual { best = y; bestResidual = trueNorm }
            if trueNorm <= target(y, c, eta) {
                return IterationResult(solution: y, iterations: total, status: .converged, conditionEstimate: Self.condition(coefficients))
            }
            if total >= maxIterations { return IterationResult(solution: best, iterations: total, status: .iterationCap) }
            var z = r
            preconditioner.solveNormal(&z)
            var p = z, rz = r.dot(z)
            guard rz > 0, rz.isFinite else { return IterationResult(solution: best, iterations: total, status: .breakdown) }
            var sinceBest = 0, recurrenceBest = trueNorm
            while total < maxIterations {
                try Interruption.check()
                let q = try op.applyGram(p)
                let curvature = p.dot(q)
                total += 1
                guard curvature > 0, curvature.isFinite else {
                    return IterationResult(solution: best, iterations: total, status: .breakdown)
                }
                let alpha = rz / curvature
                y = y.plus(alpha, p)
                r = r.plus(-alpha, q)
                let norm = r.norm2
                guard norm.isFinite else { return IterationResult(solution: best, iterations: total, status: .breakdown) }
                if norm < recurrenceBest { recurrenceBest = norm; sinceBest = 0 } else { sinceBest += 1 }
                if norm <= 0.5 * target(y, c, eta) || sinceBest >= 30 { break }
                z = r
                preconditioner.solveNormal(&z)
                let rzNew = r.dot(z)
                guard rzNew > 0, rzNew.isFinite else { return IterationResult(solution: best, iterations: total, status: .breakdown) }
                if total == coefficients.count + 1 && coefficients.count < 60 { coefficients.append((alpha, rzNew / rz)) }
                p = z.plus(rzNew / rz, p)
                rz = rzNew
            }
        }
        let r = c.plus(-1, try op.applyGram(y))
        if r.norm2 < bestResidual { best = y }
        let status: IterationStatus = r.norm2 <= target(y, c, eta) ? .converged : (total >= maxIterations ? .iterationCap : .stagnated)
        return IterationResult(solution: status == .converged ? y : best, iterations: total, status: status,
                               conditionEstimate: Self.condition(coefficients))
    }

    /// √(λmax/λmin) of the preconditioned operator from CG's coefficients: the Lanczos
    /// tridiagonal has diagonal 1/αₖ + βₖ₋₁/αₖ₋₁ and off-diagonal √βₖ/αₖ.
    static func condition(_ c: [(alpha: Double, beta: Double)]) -> Double? {
        let k = c.count
        guard k >= 2 else { return nil }
        var t = [Double](repeating: 0, count: k * k)
        for i in 0..<k {
            t[i + i * k] = 1 / c[i].alpha + (i > 0 ? c[i - 1].beta / c[i - 1].alpha : 0)
            if i + 1 < k {
                let off = c[i].beta.squareRoot() / c[i].alpha
                t[i + (i + 1) * k] = off
                t[i + 1 + i * k] = off
            }
        }
        let ritz = SymmetricEigenvalues.jacobi(t, order: k)
        guard let lo = ritz.min(), let hi = ritz.max(), lo > 0 else { return nil }
        return (hi / lo).squareRoot()
    }
}
