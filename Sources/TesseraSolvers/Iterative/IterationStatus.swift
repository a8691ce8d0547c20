/// How an iteration ended (RandLAPACK-style exit states).
public enum IterationStatus: String, Sendable {
    /// Reached the requested tolerance.
    case converged
    /// Hit the iteration cap first; the best iterate is kept.
    case iterationCap = "iteration-cap"
    /// No progress for many iterations (rounding floor reached); the best iterate is kept.
    case stagnated
    /// A curvature pᵀAp ≤ 0 or a NaN appeared: the operator or preconditioner is not SPD in
    /// floating point; the best iterate is kept.
    case breakdown

    /// What happened, for a report's notes (nil when converged).
    public var explanation: String? {
        switch self {
        case .converged: return nil
        case .iterationCap: return "the iteration cap was reached first; the best iterate is kept (raise --max-iterations)"
        case .stagnated: return "the iteration stagnated (no new best residual for many steps: a rounding floor or an ill-conditioned system); the best iterate is kept"
        case .breakdown: return "the iteration broke down (non-positive curvature, an indefinite preconditioner, or a NaN/Inf appeared); the best iterate is kept"
        }
    }

    /// The worse of two outcomes, for a multi-stage solve.
    func combined(with other: IterationStatus) -> IterationStatus {
        let rank: [IterationStatus: Int] = [.converged: 0, .iterationCap: 1, .stagnated: 2, .breakdown: 3]
        return (rank[other] ?? 0) > (rank[self] ?? 0) ? other : self
    }
}

/// The outcome of one iterative stage.
public struct IterationResult: Sendable {
    public var solution: [Double]
    public var iterations: Int
    public var status: IterationStatus
    /// κ of the preconditioned operator from the CG coefficients' Lanczos tridiagonal, if known.
    public var conditionEstimate: Double? = nil

    /// M·solution from a fresh application of the operator to the returned solution (a pass over
    /// A, not a recurrence), when the solve ended on one (CG's converged true-residual check);
    /// the verification of a one-pass certificate may use it instead of repeating the pass.
    public var finalProduct: [Double]? = nil
    /// For a least-squares solve: Aᵀ(b − A·solution) and ‖b − A·solution‖² from one fresh fused
    /// pass at the returned solution, when the solve ended on one (the corrected semi-normal steps).
    public var finalResidualGradient: (gradient: [Double], squaredNorm: Double)? = nil

    public init(solution: [Double], iterations: Int, status: IterationStatus, conditionEstimate: Double? = nil,
                finalProduct: [Double]? = nil) {
        self.solution = solution
        self.iterations = iterations
        self.status = status
        self.conditionEstimate = conditionEstimate
        self.finalProduct = finalProduct
    }
}
