import TesseraCore
import TesseraKernels
import TesseraSketch
import TesseraTiles

/// What `TallPlanner` decided for one gram/lstsq request: the method and why, the sketch, and
/// the memory the solve needs (already checked against the budget).
public struct TallPlan: Sendable {
    public let problem: Problem
    public let kind: TallProblem
    public let power: Int
    public let rows: Int
    public let cols: Int
    public let method: SolveMethod
    public let reason: String
    public let sketch: SketchDistribution
    public let options: SolveOptions
    public let tolerance: Double
    public let requiredBytes: UInt64
    /// `.mixed`: `pcg` is preconditioned by the float32 Gram's Cholesky factor (`Precision`).
    public var precision: Precision = .double

    /// The same plan with another method and precision (the planner's fallbacks).
    func with(method: SolveMethod, precision: Precision) -> TallPlan {
        var copy = TallPlan(problem: problem, kind: kind, power: power, rows: rows, cols: cols, method: method, reason: reason,
                            sketch: sketch, options: options, tolerance: tolerance, requiredBytes: requiredBytes)
        copy.precision = precision
        return copy
    }
}

/// Plans a gram/lstsq solve: validates the request once (problem, options, shape, memory) and
/// chooses a method from a cost model; then builds the factor, and owns the fallback from a
/// Cholesky of AᵀA that is unreliable to randomized Cholesky-QR.
///
/// Cost model: the tiled SYRK route (`cholesky`) costs n·d² flops at BLAS-3 speed plus the
/// verification passes; the sketch-and-precondition route (`pcg`) costs a sketch, its QR and
/// one pass over A (8nd bytes, memory-bound) per iteration, ~`iterationsPerStage` per stage,
/// j stages (plus two least-squares stages for lstsq). The rates are deliberately simple machine
/// constants (docs/BENCHMARKS.md says how they were measured); the reason string
/// prints both estimates and the choice.
public struct TallPlanner: Sendable {
    /// Sustained DGEMM/SYRK rate per worker (flop/s) and memory bandwidth (byte/s) assumed.
    public var flopsPerWorker: Double = 45e9
    public var bytesPerSecond: Double = 25e9
    /// Single-threaded LAPACK rate for the small dense factorizations (QR of SA).
    public var lapackFlops: Double = 20e9
    /// Passes a preconditioned Krylov stage typically needs at sketch factor 4 to reach 1e-12.
    public var iterationsPerStage: Double = 40
    /// Above this estimated κ(A) (its square reaches 10¹² and the 1-norm estimate may be a few
    /// times high) a Gram-Cholesky factor is replaced by randomized Cholesky-QR, which also tells
    /// true rank deficiency apart.
    public static let choleskyConditionLimit = 1e6

    public init() {}

    /// Validates and plans. Throws `.invalidArgument` (power, options, method for the family),
    /// `.invalidInput` (shape) or `.resourceLimit` (over the memory budget).
    public func plan(_ problem: Problem, rows n: Int, cols d: Int, workers: Int, options: SolveOptions) throws(TesseraError) -> TallPlan {
        try plan(problem, shape: [n, d], workers: workers, options: options)
    }

    /// The same for A's shape as a file or caller gives it (`source` names A in messages;
    /// `matrixInPlace`: A will be a view, not a copy, so its memory is not counted).
    public func plan(_ problem: Problem, shape: [Int], source: String = "A", matrixInPlace: Bool = false, workers: Int,
                     options: SolveOptions) throws(TesseraError) -> TallPlan {
        guard let kind = problem.tallKind, let j = problem.power else {
            throw .invalidArgument("\(problem.name) is not a gram/lstsq problem")
        }
        try problem.validate()
        try options.validate(for: problem)
        try problem.checkMatrixShape(shape, source: source)
        let n = shape[0], d = shape[1]
        let required = MemoryEstimate.tallSolve(rows: n, cols: d, sketchRows: options.sketchRows(cols: d, rows: n),
                                                matrixInPlace: matrixInPlace)
        try MemoryBudget.resolve(options.memoryBudget).require(required, for: "a solve with A of \(n) × \(d)",
                                                               advice: "raise --memory-budget or solve a smaller problem")
        let sketch = try SketchDistribution(kind: options.sketch, rows: options.sketchRows(cols: d, rows: n), seed: options.seed)
        let (method, precision, reason) = choose(kind, power: j, rows: n, cols: d, workers: workers, options: options)
        var plan = TallPlan(problem: problem, kind: kind, power: j, rows: n, cols: d, method: method, reason: reason, sketch: sketch,
                            options: options, tolerance: options.tolerance(for: problem), requiredBytes: required)
        plan.precision = precision
        return plan
    }

    /// Passes a CG/LSQR stage needs with the float32 Gram preconditioner (spectrum in 1 ± δκ²).
    public var mixedIterationsPerStage: Double = 4
    /// Above this κ(A) estimated from the float32 factor, δκ² approaches 1 and the planner's own
    /// choice of mixed precision falls back to float64.
    public static let mixedConditionLimit = 1e3

    /// κ₂(R·D⁻¹), D = diag of R's column norms (= A's): the condition that float32's relative
    /// rounding meets, blind to the column scaling R absorbs exactly. O(d²) per power step.
    static func equilibratedCondition(_ r: UpperTriangular, engine: Engine) throws(TesseraError) -> Double {
        let d = r.order
        var v = r.values
        for j in 0..<d {
            var norm = 0.0
            for i in 0...j { norm += v[i + j * d] * v[i + j * d] }
            norm = norm.squareRoot()
            guard norm > 0 else { return .infinity }
            for i in 0...j { v[i + j * d] /= norm }
        }
        return try ConditionEstimate.of(UpperTriangular(values: v, order: d), engine: engine).condition
    }

    /// The method and the Gram's precision, and why: `chooseMethod`, then — when neither is
    /// fixed by the options — the mixed-precision route where it is predicted ≥ 1.25× faster
    /// than the cheaper float64 route (large d, where the n·d² Gram dominates).
    public func choose(_ kind: TallProblem, power j: Int, rows n: Int, cols d: Int, workers: Int,
                       options: SolveOptions) -> (method: SolveMethod, precision: Precision, reason: String) {
        if options.precision == .mixed {
            return (.pcg, .mixed, options.method == nil ? "chosen with --precision mixed" : "chosen with --method pcg --precision mixed")
        }
        let (method, reason) = chooseMethod(kind, power: j, rows: n, cols: d, workers: workers, options: options)
        guard options.method == nil, options.precision == nil else { return (method, .double, reason) }
        let (pass, factor, lsStages, verification, cholesky) = choleskyCost(kind, power: j, rows: n, cols: d, workers: workers)
        let mixed = factor / 2 + pass * (mixedIterationsPerStage * (Double(j) + 2 * lsStages) + verification)
        guard method == .cholesky, 1.25 * mixed < cholesky else { return (method, .double, reason) }
        return (.pcg, .mixed, "d is large: a float32 Gram (SSYRK, twice DGEMM's rate) preconditions float64 CG in a few passes (predicted: mixed \(Format.duration(mixed)), cholesky route \(Format.duration(cholesky)))")
    }

    /// The cost model alone (no validation): the method `options` asks for, else the cheaper
    /// predicted route, and why.
    public func chooseMethod(_ kind: TallProblem, power j: Int, rows n: Int, cols d: Int, workers: Int,
                             options: SolveOptions) -> (method: SolveMethod, reason: String) {
        if let method = options.method { return (method, "chosen with --method") }
        let (pass, _, lsStages, verification, cholesky) = choleskyCost(kind, power: j, rows: n, cols: d, workers: workers)
        let s = options.sketchSizeFactor * Double(d)
        let sketchQR = 2 * s * Double(d) * Double(d) / lapackFlops
        let iterative = sketchQR + pass * (2 + iterationsPerStage * (Double(j) + 2 * lsStages) + verification)
        let text = "predicted: cholesky route \(Format.duration(cholesky)), sketch+pcg route \(Format.duration(iterative))"
        if cholesky <= iterative {
            return (.cholesky, "n·d² SYRK is cheaper than ~\(Int(iterationsPerStage)) passes per stage over A (\(text))")
        }
        return (.pcg, "d is large: passes over A are cheaper than the n·d² Gram (\(text))")
    }

    /// The cost model's shared terms, in seconds: one pass over A (8nd bytes), the n·d² Gram in
    /// float64 on `workers`, lstsq's extra stage (1 or 0), the verification passes, and the whole
    /// Gram-Cholesky route.
    func choleskyCost(_ kind: TallProblem, power j: Int, rows n: Int, cols d: Int, workers: Int)
        -> (pass: Double, factor: Double, lsStages: Double, verification: Double, cholesky: Double) {
        let nd = Double(n) * Double(d)
        let pass = 8 * nd / bytesPerSecond
        let factor = nd * Double(d) / (flopsPerWorker * Double(max(workers, 1)))
        let lsStages = kind == .lstsq ? 1.0 : 0.0
        let verification = Double(j) + (kind == .lstsq ? Double(j) + 2 : 0)
        return (pass, factor, lsStages, verification, factor + pass * (verification + lsStages * 8))
    }

    /// The factor the plan calls for, and the method that finally made it: a Gram-Cholesky
    /// factor that is not positive definite or has κ(A) above `choleskyConditionLimit` is
    /// replaced by randomized Cholesky-QR (`direct`), with a note. Throws what the factorization
    /// throws (`.invalidInput` for a rank-deficient A).
    func factor(_ plan: TallPlan, matrix: TiledMatrix, engine: Engine) throws(TesseraError)
        -> (factor: TriangularFactor, method: SolveMethod, notes: [String]) {
        switch plan.method {
        case .pcg where plan.precision == .mixed:
            let forced = plan.options.precision == .mixed
            var note: String
            do throws(TesseraError) {
                let made = try TriangularFactor.float32Gram(matrix, engine: engine)
                // float32 rounding is relative per entry, so what limits the preconditioner is
                // κ of A with its columns equilibrated (a column scaling the factor absorbs).
                let condition = try Self.equilibratedCondition(made.r, engine: engine)
                if condition <= Self.mixedConditionLimit { return (made, .pcg, []) }
                note = "κ(A·D⁻¹) ≈ \(Format.sci(condition)) (columns equilibrated) from the float32 Gram factor is beyond \(Format.sci(Self.mixedConditionLimit)), where a float32 Gram preconditions poorly"
                if forced { return (made, .pcg, [note + "; kept (--precision mixed): CG may need many passes"]) }
            } catch {
                guard case .numerical = error else { throw error }
                note = "the float32 Gram matrix is not numerically positive definite (κ(A) too large for float32)"
            }
            let fallback = try factor(plan.with(method: .cholesky, precision: .double), matrix: matrix, engine: engine)
            return (fallback.factor, fallback.method, [note + "; used the float64 route"] + fallback.notes)
        case .paper, .pcg:
            return (try .sketched(matrix, distribution: plan.sketch, engine: engine), plan.method, [])
        case .direct, .surrogate:
            return (try .randomizedCholeskyQR(matrix, distribution: plan.sketch, engine: engine), .direct, [])
        case .cholesky:
            var made: TriangularFactor?
            do throws(TesseraError) {
                made = try TriangularFactor.gramCholesky(matrix, engine: engine)
            } catch {
                guard case .numerical = error else { throw error }   // AᵀA not numerically positive definite
            }
            if let made, made.conditionEstimate <= Self.choleskyConditionLimit { return (made, .cholesky, []) }
            let note = "Cholesky of AᵀA is unreliable here (κ(A) ≳ \(Format.sci(Self.choleskyConditionLimit)) or not positive definite); used randomized Cholesky-QR"
            return (try .randomizedCholeskyQR(matrix, distribution: plan.sketch, engine: engine), .direct, [note])
        }
    }
}
