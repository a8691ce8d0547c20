import TesseraCore
import TesseraTiles

/// A prepared solver for one A and one problem: `TallSolver` (gram, lstsq) or `AttentionSolver`.
/// `solve` reuses what was prepared (factor, preconditioner) for every right-hand side; it
/// throws `.invalidArgument` for columns not of the problem's length and `.interrupted` when a
/// stop is requested.
public protocol PreparedSolver: Sendable {
    var problem: Problem { get }
    func solve(_ rhs: RightHandSides) throws(TesseraError) -> [Solution]
}

extension TallSolver: PreparedSolver {}
extension AttentionSolver: PreparedSolver {}

/// The one entry from a request to a solver, for every problem: `make` validates the request
/// once (problem, options, A's shape, the memory budget) and plans it, before A is loaded;
/// `prepare` builds the solver for the loaded A. Throws `.invalidArgument`, `.invalidInput` or
/// `.resourceLimit` (make), and what preparing throws (prepare).
public enum SolvePlan: Sendable {
    case tall(TallPlan)
    case attention(AttentionPlan)

    public static func make(_ problem: Problem, shape: [Int], source: String = "A", matrixInPlace: Bool = false, workers: Int,
                            options: SolveOptions) throws(TesseraError) -> SolvePlan {
        if problem.tallKind != nil {
            return .tall(try TallPlanner().plan(problem, shape: shape, source: source, matrixInPlace: matrixInPlace, workers: workers,
                                                options: options))
        }
        return .attention(try AttentionPlanner.plan(problem, shape: shape, source: source, options: options))
    }

    public var problem: Problem {
        switch self {
        case .tall(let p): return p.problem
        case .attention(let p): return p.problem
        }
    }

    public var rows: Int {
        switch self {
        case .tall(let p): return p.rows
        case .attention(let p): return p.rows
        }
    }

    public var cols: Int {
        switch self {
        case .tall(let p): return p.cols
        case .attention(let p): return p.cols
        }
    }

    /// The solver for `matrix` (of the planned shape).
    public func prepare(matrix: TiledMatrix, engine: Engine) throws(TesseraError) -> any PreparedSolver {
        switch self {
        case .tall(let p): return try TallSolver(matrix: matrix, engine: engine, plan: p)
        case .attention(let p): return try AttentionSolver(matrix: matrix, engine: engine, plan: p)
        }
    }
}
