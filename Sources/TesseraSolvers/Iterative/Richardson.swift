import TesseraCore

/// The paper's iteration, preconditioned Richardson: y ← y + ω·P⁻¹(c − My), with ω = 2/(λmin +
/// λmax) of P⁻¹M (from `Lanczos` or `RitzValues` estimates). Its true residual is recomputed
/// every step (one application of M and one of P⁻¹ per iteration). It stops at
/// ‖c − My‖ ≤ target(y) and keeps the iterate with the smallest true residual. Progress is
/// judged in the P⁻¹-norm of the residual, √(rᵀP⁻¹r), which Richardson contracts by
/// ρ = (κ − 1)/(κ + 1) every step (κ of P⁻¹M); the 2-norm may first grow by up to √κ(P) when P
/// is ill-conditioned (A with κ ≥ 10⁵ for gram), so it cannot tell stagnation from a detour. It
/// ends `stagnated` after `stagnationWindow` steps without a new smallest P⁻¹-norm,
/// `iterationCap` at the cap, `breakdown` at a NaN/Inf. Throws only what M and P throw
/// (`.interrupted` among them).
public struct Richardson {
    public var maxIterations: Int
    public var stagnationWindow = 20

    public init(maxIterations: Int) { self.maxIterations = maxIterations }

    /// Iterates from `start` (nil: zero, whose residual is c itself, without a product).
    public func solve(_ m: some LinearOperator, rhs c: [Double], start: [Double]? = nil, step omega: Double,
                      preconditioner: some Preconditioner, target: ([Double]) -> Double) throws(TesseraError) -> IterationResult {
        var y = start ?? [Double](repeating: 0, count: c.count)
        var best = y, bestResidual = Double.infinity
        var smallestEnergy = Double.infinity, sinceProgress = 0
        let scale = max(c.norm2, .leastNormalMagnitude)
        for k in 0...maxIterations {
            try Interruption.check()
            let r = (k == 0 && start == nil) ? c : c.plus(-1, try m.apply(y))
            let norm = r.norm2
            guard norm.isFinite else { return IterationResult(solution: best, iterations: k, status: .breakdown) }
            try Interruption.checkpoint(iteration: k, residual: norm / scale)
            if norm < bestResidual { best = y; bestResidual = norm }
            if norm <= target(y) { return IterationResult(solution: y, iterations: k, status: .converged) }
            if k == maxIterations { break }
            let z = try preconditioner.apply(r)
            // √(rᵀP⁻¹r); the 2-norm where P⁻¹ is not positive on r (it always is for an SPD P).
            let pairing = r.dot(z)
            let energy = pairing > 0 && pairing.isFinite ? pairing.squareRoot() : norm
            if energy < smallestEnergy { smallestEnergy = energy; sinceProgress = 0 } else { sinceProgress += 1 }
            if sinceProgress >= stagnationWindow { return IterationResult(solution: best, iterations: k, status: .stagnated) }
            y = y.plus(omega, z)
        }
        return IterationResult(solution: best, iterations: maxIterations, status: .iterationCap)
    }
}
