import TesseraCore

/// The paper's iteration, preconditioned Richardson: y ← y + ω·P⁻¹(c − My), with ω = 2/(λmin +
/// λmax) of P⁻¹M (from `Lanczos` or `RitzValues` estimates). Its true residual is recomputed
/// every step (one application of M and one of P⁻¹ per iteration). It stops at
/// ‖c − My‖ ≤ target(y); it keeps the best iterate and ends `stagnated` after
/// `stagnationWindow` steps without a new best, `iterationCap` at the cap, `breakdown` at a
/// NaN/Inf. Throws only what M and P throw (`.interrupted` among them).
public struct Richardson {
    public var maxIterations: Int
    public var stagnationWindow = 20

    public init(maxIterations: Int) { self.maxIterations = maxIterations }

    /// Iterates from `start` (nil: zero, whose residual is c itself, without a product).
    public func solve(_ m: some LinearOperator, rhs c: [Double], start: [Double]? = nil, step omega: Double,
                      preconditioner: some Preconditioner, target: ([Double]) -> Double) throws(TesseraError) -> IterationResult {
        var y = start ?? [Double](repeating: 0, count: c.count)
        var best = y, bestResidual = Double.infinity, sinceBest = 0
        let scale = max(c.norm2, .leastNormalMagnitude)
        for k in 0...maxIterations {
            try Interruption.check()
            let r = (k == 0 && start == nil) ? c : c.plus(-1, try m.apply(y))
            let norm = r.norm2
            guard norm.isFinite else { return IterationResult(solution: best, iterations: k, status: .breakdown) }
            try Interruption.checkpoint(iteration: k, residual: norm / scale)
            if norm < bestResidual { best = y; bestResidual = norm; sinceBest = 0 } else { sinceBest += 1 }
            if norm <= target(y) { return IterationResult(solution: y, iterations: k, status: .converged) }
            if sinceBest >= stagnationWindow { return IterationResult(solution: best, iterations: k, status: .stagnated) }
            if k == maxIterations { break }
            y = y.plus(omega, try preconditioner.apply(r))
        }
        return IterationResult(solution: best, iterations: maxIterations, status: .iterationCap)
    }
}
