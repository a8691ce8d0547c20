import TesseraCore

/// Preconditioned conjugate gradients for M·y = c, M symmetric positive definite, with iterative
/// refinement: each sweep starts from the true residual c − My, runs CG on the recurrence until
/// it claims ‖r‖ ≤ `innerFraction`·target(y) or makes no new best residual for
/// `stagnationWindow` steps, and the next sweep confirms with a fresh product. One application
/// of M and of P⁻¹ per iteration (plus one of M per sweep); O(dimension) extra work.
///
/// Two configurations, one algorithm: the tall solver's (`init`: the best iterate judged by true
/// residuals only, a stalled sweep ends in a restart, the cap confirmed by a product) and the
/// attention solver's (`forKernel`: recurrence residuals count too, no progress for the window
/// ends the solve, restarts only while they halve the true residual, no product at the cap —
/// a kernel product costs n²d flops).
///
/// Exit states (`IterationStatus`): `converged` (a true residual ≤ target(y)), `iterationCap`,
/// `stagnated` (sweeps exhausted, a restart that did not gain, or — for the kernel — the window
/// without progress), `breakdown` (curvature pᵀMp ≤ 0, rᵀP⁻¹r ≤ 0 — an indefinite
/// preconditioner — or a NaN/Inf). Every exit but `converged` returns the best iterate seen.
/// Throws only what the operator and preconditioner throw (`.interrupted` among them).
public struct ConjugateGradients {
    public var maxIterations: Int
    /// Steps without a new best residual before a sweep (or, with `endOnStagnation`, the solve) ends.
    public var stagnationWindow: Int
    /// Sweeps (refinement rounds) at most.
    public var maxSweeps = 4
    /// Whether a restart must halve the best true residual so far to go on.
    public var restartOnlyWhileGaining = false
    /// Whether recurrence residuals compete with true ones for the best iterate (and the
    /// stagnation window counts against that best, across sweeps).
    public var bestByRecurrenceToo = false
    /// Whether no progress for `stagnationWindow` steps ends the solve (else only the sweep).
    public var endOnStagnation = false
    /// Whether reaching the cap is confirmed by a fresh product (else the best iterate is
    /// returned as it is).
    public var confirmAtCap = true
    /// The recurrence's residual must reach this fraction of the target before a true residual
    /// is taken.
    public var innerFraction = 0.5
    /// Whether a sweep whose recurrence met `innerFraction`·target is confirmed by a fresh
    /// product before the solve ends converged (else the recurrence is trusted and the solve
    /// saves that product: for an intermediate stage whose answer only feeds the next stage,
    /// with a preconditioner so good that the recurrence and true residuals cannot drift apart
    /// in the few steps taken — the caller's certificate is still an independent pass).
    public var confirmConvergence = true
    /// CG coefficients (α, β) of the first sweep kept for Ritz values.
    public var coefficientLimit = 60
    /// Multiplies the relative residuals ‖r‖/‖c‖ reported per iteration (`Interruption.checkpoint`):
    /// an inner solve for a correction reports them relative to the outer right-hand side
    /// (factor ‖c‖/‖b‖), so the history reads as one solve.
    public var reportedResidualFactor = 1.0
    /// The inner product of the iteration's vectors: Euclidean on whole vectors, or
    /// `RowPartition` when each process holds its rows of them (the attention solver's `pcg`).
    public var products: any InnerProducts = EuclideanProducts()

    public init(maxIterations: Int, stagnationWindow: Int) {
        self.maxIterations = maxIterations
        self.stagnationWindow = stagnationWindow
    }

    /// CG as the attention solver runs it on K + λI (see the type's documentation).
    public static func forKernel(maxIterations: Int) -> ConjugateGradients {
        var cg = ConjugateGradients(maxIterations: maxIterations, stagnationWindow: 50)
        cg.restartOnlyWhileGaining = true
        cg.bestByRecurrenceToo = true
        cg.endOnStagnation = true
        cg.confirmAtCap = false
        return cg
    }

    /// Solves from zero until ‖c − My‖ ≤ tolerance·‖c‖ (a relative residual).
    public func solve(_ m: some LinearOperator, rhs c: [Double], preconditioner: some Preconditioner,
                      relativeTolerance tolerance: Double) throws(TesseraError) -> IterationResult {
        let cNorm = try products.norm2(c)
        return try solve(m, rhs: c, preconditioner: preconditioner, target: { _ in tolerance * cNorm })
    }

    /// Solves from `start` (nil: zero, and the first residual is c itself, without a product)
    /// until ‖c − My‖ ≤ target(y). The system is first scaled by the power of two σ that brings
    /// ‖c‖ into [1, 2) — exact, so the iterates are σ times the unscaled ones, bit for bit, and
    /// scaled back exactly — because CG's inner products are ≈ ‖c‖²/‖M‖: for M = (AᵀA)^j with
    /// ‖A‖ = 1e90 and ‖c‖ = 1e-90 they would underflow to zero (1e-360) and break the iteration.
    public func solve(_ m: some LinearOperator, rhs c: [Double], start: [Double]? = nil, preconditioner: some Preconditioner,
                      target: ([Double]) -> Double) throws(TesseraError) -> IterationResult {
        let sigma = try Self.unitScale(products.norm2(c))
        guard sigma != 1 else { return try solveScaled(m, rhs: c, start: start, preconditioner: preconditioner, target: target) }
        var result = try solveScaled(m, rhs: c.map { $0 * sigma }, start: start?.map { $0 * sigma }, preconditioner: preconditioner,
                                     target: { y in sigma * target(y.map { $0 / sigma }) })
        result.solution = result.solution.map { $0 / sigma }
        result.finalProduct = result.finalProduct?.map { $0 / sigma }      // exact: σ is a power of two
        return result
    }

    /// The power of two 2^−e with ‖c‖·2^−e ∈ [1, 2) (e clamped to ±1,000); 1 for 0 or non-finite.
    static func unitScale(_ norm: Double) -> Double {
        guard norm > 0, norm.isFinite else { return 1 }
        return Double(sign: .plus, exponent: -max(-1_000, min(1_000, Int(norm.exponent))), significand: 1)
    }

    /// `solve` on a right-hand side already brought to unit scale.
    private func solveScaled(_ m: some LinearOperator, rhs c: [Double], start: [Double]?, preconditioner: some Preconditioner,
                             target: ([Double]) -> Double) throws(TesseraError) -> IterationResult {
        var state = State(y: start ?? [Double](repeating: 0, count: c.count), rhsNorm: try products.norm2(c))
        for sweep in 0..<maxSweeps {
            let product: [Double]? = (sweep == 0 && start == nil) ? nil : try m.apply(state.y)
            let r = product.map { c.plus(-1, $0) } ?? c
            let trueNorm = try products.norm2(r)
            guard trueNorm.isFinite else { return state.result(.breakdown) }
            let bestTrueBefore = state.bestTrue
            state.offerTrue(trueNorm)
            if trueNorm <= target(state.y) { return state.result(.converged, withCondition: true, product: product) }
            if restartOnlyWhileGaining && sweep > 0 && !(trueNorm < 0.5 * bestTrueBefore) { return state.result(.stagnated) }
            if state.total >= maxIterations { return state.result(.iterationCap) }
            state.recording = sweep == 0
            if let exit = try sweepFrom(&state, residual: r, m, preconditioner, target: target) { return state.result(exit) }
            if !confirmConvergence && state.recurrenceConverged { return state.result(.converged, withCondition: true) }
            if !confirmAtCap && state.total >= maxIterations { return state.result(.iterationCap) }
        }
        let product = try m.apply(state.y)
        let norm = try products.norm2(c.plus(-1, product))
        state.offerTrue(norm)
        let status: IterationStatus = norm <= target(state.y) ? .converged : (state.total >= maxIterations ? .iterationCap : .stagnated)
        return state.result(status, withCondition: true, product: product)
    }

    /// `steps` CG iterations from zero for M·y = c, for their coefficients (the Lanczos
    /// tridiagonal of P⁻¹M: `RitzValues`). Stops early only at a breakdown.
    public func coefficients(_ m: some LinearOperator, rhs c: [Double], steps: Int,
                             preconditioner: some Preconditioner) throws(TesseraError) -> [RitzValues.Coefficient] {
        var run = self
        run.maxIterations = steps
        run.coefficientLimit = steps
        run.stagnationWindow = Int.max
        var state = State(y: [Double](repeating: 0, count: c.count), rhsNorm: try products.norm2(c))
        state.recording = true
        _ = try run.sweepFrom(&state, residual: c, m, preconditioner, target: { _ in 0 })
        return state.coefficients
    }

    /// What a solve carries between sweeps.
    struct State {
        var y: [Double]
        var best: [Double]
        /// The residual norm of `best` (true, or recurrence with `bestByRecurrenceToo`).
        var bestResidual = Double.infinity
        /// The smallest true residual norm seen.
        var bestTrue = Double.infinity
        /// Steps since `bestResidual` last fell (with `bestByRecurrenceToo`).
        var sinceBest = 0
        var total = 0
        var coefficients: [RitzValues.Coefficient] = []
        var recording = false
        /// Whether the last sweep ended with its recurrence residual at `innerFraction`·target.
        var recurrenceConverged = false
        /// ‖c‖, the scale of the residuals reported to a `SolveMonitor`.
        var rhsNorm = 1.0

        init(y: [Double], rhsNorm: Double = 1) {
            self.y = y
            self.rhsNorm = rhsNorm
            best = y
        }

        /// A true residual norm of y: y becomes the best iterate when it is the smallest true
        /// residual so far.
        mutating func offerTrue(_ norm: Double) {
            if norm < bestTrue { best = y; bestResidual = norm }
            bestTrue = min(bestTrue, norm)
        }

        /// `product`: M·y by a fresh application, kept only when y is what is returned.
        func result(_ status: IterationStatus, withCondition: Bool = false, product: [Double]? = nil) -> IterationResult {
            IterationResult(solution: status == .converged ? y : best, iterations: total, status: status,
                            conditionEstimate: withCondition ? RitzValues.condition(coefficients) : nil,
                            finalProduct: status == .converged ? product : nil)
        }
    }

    /// One CG sweep from state.y with residual r = c − M·y. Returns an exit status when the solve
    /// must end there (breakdown; stagnation with `endOnStagnation`), nil when the sweep ended
    /// normally (recurrence converged, stalled, or the cap reached).
    func sweepFrom(_ state: inout State, residual: [Double], _ m: some LinearOperator, _ p: some Preconditioner,
                   target: ([Double]) -> Double) throws(TesseraError) -> IterationStatus? {
        var r = residual
        state.recurrenceConverged = false
        var z = try p.apply(r)
        var direction = z, rz = try products.dot(r, z)
        guard rz > 0, rz.isFinite else { return .breakdown }
        var sweepSinceBest = 0, recurrenceBest = try products.norm2(r)
        while state.total < maxIterations {
            try Interruption.check()
            let q = try m.apply(direction)
            let curvature = try products.dot(direction, q)
            state.total += 1
            guard curvature > 0, curvature.isFinite else { return .breakdown }
            let alpha = rz / curvature
            state.y = state.y.plus(alpha, direction)
            r = r.plus(-alpha, q)
            let norm = try products.norm2(r)
            guard norm.isFinite else { return .breakdown }
            try Interruption.checkpoint(iteration: state.total, residual: reportedResidualFactor * norm / max(state.rhsNorm, .leastNormalMagnitude))
            let stalled: Bool
            if bestByRecurrenceToo {
                if norm < state.bestResidual { state.best = state.y; state.bestResidual = norm; state.sinceBest = 0 } else { state.sinceBest += 1 }
                stalled = state.sinceBest >= stagnationWindow
            } else {
                if norm < recurrenceBest { recurrenceBest = norm; sweepSinceBest = 0 } else { sweepSinceBest += 1 }
                stalled = sweepSinceBest >= stagnationWindow
            }
            if stalled && endOnStagnation { return .stagnated }
            if norm <= innerFraction * target(state.y) {
                state.recurrenceConverged = true
                return nil
            }
            if stalled { return nil }
            z = try p.apply(r)
            let rzNew = try products.dot(r, z)
            guard rzNew > 0, rzNew.isFinite else { return .breakdown }
            if state.recording && state.coefficients.count < coefficientLimit {
                state.coefficients.append(RitzValues.Coefficient(alpha: alpha, beta: rzNew / rz))
            }
            direction = z.plus(rzNew / rz, direction)
            rz = rzNew
        }
        return nil
    }
}
