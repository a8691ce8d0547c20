import TesseraCore
import TesseraTiles

/// The planner's rank decision: whether a tall solve takes the rank-revealing route
/// (`TruncatedSVDFactor`) for the minimum-norm solution. It looks only at the d × d factor the
/// plan already built (no extra pass over a full-rank A): the route is taken when that factor
/// was refused as rank deficient (or its Cholesky failed), or when its κ(A) estimate is within a
/// factor 4 of 1/rcond. The route then decides the rank exactly from A's singular values. Throws
/// `.resourceLimit` when the route's extra memory (`MemoryEstimate.rankRevealing`) would exceed
/// the budget.
extension TallPlanner {
    /// What `TallSolver` is built from: the factor, the method, notes, and the rank-revealing
    /// factor when A took that route. With `RankDeficientPolicy.refuse` this is `factor(...)`
    /// unchanged (a rank-deficient A throws `.rankDeficient`).
    func factorOrRankRevealing(_ plan: TallPlan, matrix: TiledMatrix, engine: Engine) throws(TesseraError)
        -> (factor: TriangularFactor, method: SolveMethod, notes: [String], minNorm: TruncatedSVDFactor?) {
        let rcond = plan.options.rcond(rows: plan.rows, cols: plan.cols)
        let why: String
        do throws(TesseraError) {
            let made = try factor(plan, matrix: matrix, engine: engine)
            guard plan.options.rankDeficient == .minNorm, made.factor.conditionEstimate * 4 * rcond >= 1 else {
                return (made.factor, made.method, made.notes, nil)
            }
            why = "κ(A) ≈ \(Format.sci(made.factor.conditionEstimate)) from the \(made.factor.origin.rawValue) factor is near 1/rcond"
        } catch {
            guard plan.options.rankDeficient == .minNorm else { throw error }
            switch error {
            case .rankDeficient(let message), .numerical(let message): why = message
            default: throw error
            }
        }
        let extra = MemoryEstimate.rankRevealing(cols: plan.cols, householderBytes: matrix.householderBytes)
        try MemoryBudget.resolve(plan.options.memoryBudget).require(
            ByteCount.sum(plan.requiredBytes, extra), for: "the minimum-norm route for a rank-deficient A of \(plan.rows) × \(plan.cols)",
            advice: "raise --memory-budget, or pass --rank-deficient refuse")
        let svd = try TruncatedSVDFactor.make(matrix, rcond: rcond, engine: engine)
        var notes: [String] = []
        if svd.rank < plan.cols {
            notes.append("A is numerically rank deficient: rank \(svd.rank) of \(plan.cols) (σ ≤ rcond·σ₁ = \(Format.sci(rcond * svd.largest)) dropped); x is the minimum-norm solution, by the rank-revealing route (Householder QR of A by tiles, SVD of R), not by \(plan.method.rawValue)'s own iteration")
        } else {
            notes.append("the \(plan.method.rawValue) factor looked rank deficient (\(why)), but the SVD of A's R keeps all \(plan.cols) singular values; solved by the rank-revealing route")
        }
        return (.rankRevealing(svd), plan.method, notes, svd)
    }
}
