import TesseraCore
import TesseraKernels
import TesseraRuntime
import TesseraTiles

/// Options of an attention solve, min ‖(exp(AAᵀ) + λI)x − b‖.
public struct AttentionOptions: Sendable {
    public enum Method: String, Sendable, CaseIterable {
        /// `direct` when K fits comfortably in the memory budget and n is moderate, else `pcg`.
        case auto
        /// PCG with exact K products and a randomly pivoted Cholesky preconditioner of rank k,
        /// applied with shift μ = λ + trace(K − FFᵀ)/n through the Woodbury identity.
        case pcg
        /// K + λI formed tile by tile and factored by LAPACK Cholesky (n² memory, n³/3 flops).
        case direct
        /// The paper's method: Taylor features Φ (`TaylorFeatures`) as the preconditioner
        /// P = ΦΦᵀ + μI (Woodbury), and preconditioned Richardson with exact K products, its step
        /// 2/(λmin + λmax) from 10 CG steps' Ritz values.
        case paper
        /// Solves the surrogate (ΦΦᵀ + μI)x = b only, for study; the report shows the true residual.
        case surrogate
    }
    /// The low-rank factor behind `pcg`'s preconditioner.
    public enum LowRank: String, Sendable, CaseIterable {
        /// Block randomly pivoted Cholesky (`RandomlyPivotedCholesky`): n·k·(d + k) flops.
        case rpcholesky
        /// Randomized Nyström with a Gaussian test matrix (`RandomizedNystrom`): 2n²(d + k) flops.
        case nystrom
    }
    public var method: Method = .auto
    /// `pcg`'s low-rank factor (default randomly pivoted Cholesky).
    public var lowRank: LowRank = .rpcholesky
    public var ridge = 0.0
    /// Target relative residual ‖(K + λI)x − b‖/‖b‖.
    public var tolerance = 1e-10
    public var maxIterations = 500
    /// Preconditioner rank (nil: `defaultRank(n:d:storesKernel:)`).
    public var rank: Int?

    /// Enough columns to capture K's Taylor layers of degree ≤ 2 (1 + d + d(d+1)/2 directions,
    /// whose eigenvalues sit far above the rest) plus 256, at least 500, at most min(n/2, 4000).
    /// When K is stored a product is cheap (one pass over n²/2 numbers, ≈ 8n² flop-equivalents
    /// at this machine class's ratio of GEMM rate to memory bandwidth), so the factor's ≈ 4nk²
    /// flops are capped at about half the cost of 100 products: k ≤ √(100·n), at least 500.
    /// Measured at n = 20,000, d = 64 (2 cores): rank 1,000 / 1,600 / 2,400 took 12.1 / 11.0 /
    /// 13.2 s in all. The rounds also stop early once trace(K − FFᵀ) ≤ λ/10 (see `plan`).
    public static func defaultRank(n: Int, d: Int, storesKernel: Bool = false) -> Int {
        let layers = 1 + d + d * (d + 1) / 2 + 256
        let k = max(1, min(max(n / 2, 1), 4_000, max(500, layers)))
        guard storesKernel else { return k }
        return max(1, min(k, max(500, Int((100 * Double(n)).squareRoot()))))
    }
    /// Bytes the solver may allocate (nil: 60% of available memory); a plan over it is refused.
    public var memoryBudget: UInt64?
    /// false: `pcg` never stores K, every product runs on the fly (for comparisons, or to keep
    /// memory for other work); true (default): K's upper triangle is stored when it fits half
    /// the memory budget.
    public var mayStoreKernel = true
    public var seed: UInt64 = 0

    public init() {}
}

/// A finished attention solve.
public struct AttentionSolution: Sendable {
    public let x: [Double]
    public let method: AttentionOptions.Method
    public let reason: String
    public let iterations: Int
    public let status: IterationStatus
    /// ‖(K + λI)x − b‖/‖b‖ from a fresh product with the exact K.
    public let relativeResidual: Double
    public let converged: Bool
    public let rank: Int?
    public let shift: Double?
    /// What the preconditioner's low-rank factor is, in words (nil for `direct`).
    public let lowRankKind: String?
    public let seconds: [String: Double]
    public let notes: [String]
    public let n: Int
    public let d: Int
    public let ridge: Double
    public let tolerance: Double

    public var text: String {
        var lines = ["problem      attention, n = \(n), d = \(d), ridge λ = \(Format.sci(ridge))",
                     "method       \(method.rawValue) (\(reason))"]
        if let rank, let shift {
            lines.append("precondition \(lowRankKind ?? "low-rank factor") rank \(rank), shift μ = \(Format.sci(shift))")
        }
        lines.append("iterations   \(iterations) → \(status.rawValue)")
        lines.append("accuracy     relative residual \(Format.sci(relativeResidual)) (tolerance \(Format.sci(tolerance)): \(converged ? "met" : "NOT met"))")
        let phases = ["factor", "iterate", "verify"].compactMap { k in seconds[k].map { "\(k) \(Format.fixed($0, 3)) s" } }
        lines.append("time         " + phases.joined(separator: ", "))
        let steps = seconds.keys.filter { $0.hasPrefix("factor.") }.sorted()
            .map { "\($0.dropFirst("factor.".count)) \(Format.fixed(seconds[$0] ?? 0, 3)) s" }
        if !steps.isEmpty { lines.append("factor steps " + steps.joined(separator: ", ")) }
        for note in notes { lines.append("note         \(note)") }
        return lines.joined(separator: "\n")
    }

    public var json: String {
        func num(_ v: Double?) -> String { guard let v, v.isFinite else { return "null" }; return "\(v)" }
        let notesJSON = notes.map { "\"" + Format.escape($0) + "\"" }.joined(separator: ", ")
        return """
        {
          "problem": "attention", "method": "\(method.rawValue)", "reason": "\(Format.escape(reason))",
          "rows": \(n), "cols": \(d), "ridge": \(num(ridge)), "iterations": \(iterations), "status": "\(status.rawValue)",
          "relative_residual": \(num(relativeResidual)), "tolerance": \(num(tolerance)), "converged": \(converged),
          "rank": \(rank.map(String.init) ?? "null"), "shift": \(num(shift)), "low_rank": \(lowRankKind.map { "\"\($0)\"" } ?? "null"),
          "seconds": {\(seconds.keys.sorted().map { "\"\($0)\": \(num(seconds[$0]))" }.joined(separator: ", "))},
          "notes": [\(notesJSON)]
        }

        """
    }
}

/// Solves (exp(AAᵀ) + λI)x = b (prepare once: the preconditioner or the Cholesky factor is kept
/// and reused for every right-hand side).
public final class AttentionSolver: Sendable {
    public let kernel: KernelOperator
    /// Whether K's upper triangle is stored (`pcg` when it fits half the memory budget).
    public let storesKernel: Bool
    public let options: AttentionOptions
    public let method: AttentionOptions.Method
    public let reason: String
    let preconditioner: WoodburyPreconditioner?
    let lowRank: (rank: Int, shift: Double, kind: String)?
    let cholesky: SharedBlock?
    let factorSeconds: Double
    /// The factor phase split into its steps (storing K, low-rank factor, Woodbury core, …).
    let factorPhases: [String: Double]

    public init(matrix: TiledMatrix, engine: Engine, options: AttentionOptions = AttentionOptions()) throws(TesseraError) {
        guard options.tolerance > 0, options.tolerance < 1 else {
            throw .invalidArgument("--tolerance must lie strictly between 0 and 1 (got \(options.tolerance))")
        }
        guard options.maxIterations >= 1 else { throw .invalidArgument("--max-iterations must be at least 1") }
        let plan = try Self.plan(rows: matrix.rows, cols: matrix.cols, options: options)
        let onTheFly = try KernelOperator(matrix: matrix, engine: engine, ridge: options.ridge)
        self.options = options
        let n = matrix.rows
        let method = plan.method
        let reason = plan.reason
        self.method = method
        let t0 = MonotonicClock.nanoseconds()
        var phases: [String: Double] = [:]
        var mark = t0
        func lap(_ name: String) {
            let now = MonotonicClock.nanoseconds()
            phases[name] = Double(now - mark) / 1e9
            mark = now
        }
        let store = plan.storesKernel
        storesKernel = store
        kernel = store ? try onTheFly.storing() : onTheFly
        if store { lap("factor.store-kernel") }
        var fullReason = reason
        switch method {
        case .direct:
            cholesky = try Self.denseCholesky(onTheFly, engine: engine)
            preconditioner = nil
            lowRank = nil
            lap("factor.cholesky")
        case .paper, .surrogate:
            let taylor = try TaylorFeatures(matrix: matrix, budget: options.rank ?? AttentionOptions.defaultRank(n: n, d: matrix.cols),
                                            seed: options.seed, engine: engine)
            let lr = taylor.lowRank(diagonal: onTheFly.diagonal())
            lap("factor.features")
            let shift = max(options.ridge + lr.residualTrace / Double(n), 1e-12 * Double(n))
            preconditioner = try WoodburyPreconditioner(lowRank: lr, shift: shift, engine: engine)
            lap("factor.woodbury")
            lowRank = (lr.rank, shift, "Taylor features (TensorSRHT)")
            cholesky = nil
            fullReason += "; Taylor features to degree \(taylor.degree), \(taylor.count) columns \(taylor.perDegree)"
        case .pcg, .auto:
            let rpc = options.lowRank == .nystrom
                ? try RandomizedNystrom.factor(kernel: onTheFly, rank: plan.rank, seed: options.seed)
                : try RandomlyPivotedCholesky.factor(kernel: onTheFly, rank: plan.rank, seed: options.seed, enoughTrace: options.ridge / 10)
            lap("factor.low-rank")
            let shift = options.ridge + rpc.residualTrace / Double(n)
            preconditioner = try WoodburyPreconditioner(lowRank: rpc, shift: max(shift, 1e-300), engine: engine)
            lap("factor.woodbury")
            lowRank = (rpc.rank, shift, options.lowRank == .nystrom ? "randomized Nyström" : "randomly pivoted Cholesky")
            cholesky = nil
        }
        factorPhases = phases
        self.reason = fullReason
        factorSeconds = Double(MonotonicClock.nanoseconds() - t0) / 1e9
    }

    /// What `init` will do for an n×d matrix under `options`, and the memory it needs —
    /// checked against the budget here, before any work starts.
    public struct Plan: Sendable {
        public let method: AttentionOptions.Method
        public let reason: String
        /// PCG keeps K's upper triangle in memory (`StoredKernel`) when it fits half the budget:
        /// each product becomes one memory-bound pass over n²/2 numbers instead of n²d flops and
        /// n²/2 exps.
        public let storesKernel: Bool
        /// The preconditioner's rank (`pcg`) or feature budget (`paper`, `surrogate`); 0 for `direct`.
        public let rank: Int
        /// Tessera's allocations: A's tiles, vectors, and the factor, features or stored K.
        public let requiredBytes: UInt64
        public let budget: MemoryBudget
    }

    public static func plan(rows n: Int, cols d: Int, options: AttentionOptions) throws(TesseraError) -> Plan {
        guard n >= 1, d >= 1 else { throw .invalidInput("A has shape (\(n), \(d)); the attention problem needs n ≥ 1 rows and d ≥ 1 columns") }
        if let r = options.rank, r < 1 { throw .invalidArgument("--rank must be at least 1 (got \(r))") }
        if let r = options.rank, r > n { throw .invalidArgument("--rank \(r) exceeds n = \(n), the order of K; use at most \(n)") }
        let budget = MemoryBudget.resolve(options.memoryBudget)
        let dense = MemoryBudget.doubles(n, n)
        let stored = StoredKernel.bytes(order: n)
        let base = MemoryBudget.sum(MemoryBudget.doubles(n, d), MemoryBudget.doubles(16, n))
        var method = options.method
        var reason = "chosen with --method"
        if method == .auto {
            if n <= 4_000 && dense <= budget.bytes / 2 {
                method = .direct
                reason = "n = \(n) ≤ 4000: dense Cholesky (\(MemoryBudget.format(dense))) beats iterating with n²d-flop products"
            } else if n <= 4_000 {
                method = .pcg
                reason = "n = \(n) ≤ 4000 but K (\(MemoryBudget.format(dense))) exceeds half the memory budget: PCG with exact kernel products and a rank-k preconditioner"
            } else {
                method = .pcg
                reason = "n = \(n) > 4000: PCG with exact kernel products and a rank-k preconditioner"
            }
        }
        let rank = options.rank ?? AttentionOptions.defaultRank(n: n, d: d)
        var store = false
        let required: UInt64
        switch method {
        case .direct:
            required = MemoryBudget.sum(base, dense)
            try budget.require(required, for: "the direct method (K, \(n) × \(n))", advice: "use --method pcg or raise --memory-budget")
        case .pcg, .auto:
            // F (n×k, and its copy while it grows), the K-column and update blocks (n × 100 each), the Woodbury core.
            let factor = MemoryBudget.sum(MemoryBudget.doubles(2, n, rank), MemoryBudget.doubles(4, n, 100), MemoryBudget.doubles(3, rank, rank))
            required = MemoryBudget.sum(base, factor)
            try budget.require(required, for: "pcg with a rank-\(rank) preconditioner", advice: "lower --rank or raise --memory-budget")
            store = options.mayStoreKernel && stored <= budget.bytes / 2 && MemoryBudget.sum(required, stored) <= budget.bytes
            reason += store ? "; K's upper triangle stored (\(MemoryBudget.format(stored)) fits half the budget)" : "; K products on the fly"
        case .paper, .surrogate:
            let features = MemoryBudget.sum(MemoryBudget.doubles(4, n, rank), MemoryBudget.doubles(3, rank, rank))
            required = MemoryBudget.sum(base, features)
            try budget.require(required, for: "the \(method.rawValue) method with \(rank) Taylor features", advice: "lower --rank or raise --memory-budget")
        }
        let finalRank = method == .direct ? 0 : options.rank ?? AttentionOptions.defaultRank(n: n, d: d, storesKernel: store)
        if method == .pcg && options.rank == nil {
            reason += "; rank \(finalRank) by default (" + (finalRank < rank ? "capped at √(100·n): products of a stored K are cheap" : "K's Taylor layers of degree ≤ 2, plus 256") + ")"
        }
        return Plan(method: method, reason: reason, storesKernel: store, rank: finalRank,
                    requiredBytes: MemoryBudget.sum(required, store ? stored : 0), budget: budget)
    }

    /// K + λI formed tile by tile (one GEMM + exp per tile) into one n×n block, then factored
    /// by `TiledCholesky` on the task graph (same bits for any number of workers).
    static func denseCholesky(_ kernel: KernelOperator, engine: Engine) throws(TesseraError) -> SharedBlock {
        let n = kernel.order
        let k = try SharedBlock(rows: n, cols: n, engine: engine)
        try kernel.fillColumns(Array(0..<n), into: k)
        for i in 0..<n { k.pointer[i + i * n] += kernel.ridge }
        do {
            try TiledCholesky.factor(k, order: n, engine: engine)
        } catch {
            guard case .numerical = error else { throw error }
            throw .numerical("K + λI is not numerically positive definite (λ = \(kernel.ridge)); add a ridge, e.g. --ridge 1e-6, or use --method pcg")
        }
        return k
    }

    public func solve(_ b: [Double]) throws(TesseraError) -> AttentionSolution {
        let n = kernel.order
        guard b.count == n else { throw .invalidInput("b has \(b.count) entries; the attention problem needs n = \(n)") }
        if let i = b.firstIndex(where: { !$0.isFinite }) {
            throw .invalidInput("b holds a non-finite value at index \(i); remove or replace NaN/Inf entries")
        }
        var notes: [String] = []
        let t0 = MonotonicClock.nanoseconds()
        var result: IterationResult
        if let chol = cholesky {
            var x = b
            x.withUnsafeMutableBufferPointer { xb in
                BLAS.trsv(.upper, .transpose, n: n, t: chol.pointer, ldt: n, x: xb.baseAddress!)
                BLAS.trsv(.upper, .none, n: n, t: chol.pointer, ldt: n, x: xb.baseAddress!)
            }
            result = IterationResult(solution: x, iterations: 0, status: .converged)
        } else if method == .surrogate, let preconditioner {
            result = IterationResult(solution: try preconditioner.apply(b), iterations: 0, status: .converged)
            notes.append("surrogate: x solves (ΦΦᵀ + μI)x = b only; the residual below is against the true K")
        } else if method == .paper, let preconditioner {
            result = try KernelCG.richardson(kernel: kernel, b: b, preconditioner: preconditioner, tolerance: options.tolerance,
                                             maxIterations: options.maxIterations)
        } else {
            result = try KernelCG.solve(kernel: kernel, b: b, preconditioner: preconditioner, tolerance: options.tolerance,
                                        maxIterations: options.maxIterations)
        }
        let t1 = MonotonicClock.nanoseconds()
        let residual = try kernel.apply(result.solution).plus(-1, b).norm2 / max(b.norm2, .leastNormalMagnitude)
        let t2 = MonotonicClock.nanoseconds()
        let converged = residual <= options.tolerance
        if !converged, let why = result.status.explanation { notes.append(why) }
        if !converged {
            notes.append(options.ridge == 0
                ? "K is very ill-conditioned without a ridge; the best iterate was kept. Try --ridge 1e-6 (or larger)"
                : "the tolerance was not reached; the best iterate was kept. Try a larger --rank or --max-iterations")
        }
        return AttentionSolution(x: result.solution, method: method, reason: reason, iterations: result.iterations,
                                 status: result.status, relativeResidual: residual, converged: converged,
                                 rank: lowRank?.rank, shift: lowRank?.shift, lowRankKind: lowRank?.kind,
                                 seconds: factorPhases.merging(["factor": factorSeconds, "iterate": Double(t1 - t0) / 1e9, "verify": Double(t2 - t1) / 1e9]) { $1 },
                                 notes: notes, n: n, d: kernel.matrix.cols, ridge: options.ridge, tolerance: options.tolerance)
    }
}

/// Preconditioned CG on K + λI with exact kernel products, stopping on the recurrence's relative
/// residual (checked afterwards against a fresh product); keeps the best iterate; detects
/// breakdown (non-positive curvature, NaN) and stagnation.
public enum KernelCG {
    public static func solve(kernel: KernelOperator, b: [Double], preconditioner: WoodburyPreconditioner?, tolerance: Double,
                      maxIterations: Int) throws(TesseraError) -> IterationResult {
        try iterate(b: b, tolerance: tolerance, maxIterations: maxIterations,
                    apply: { (p) throws(TesseraError) in try kernel.apply(p) },
                    precondition: { (r) throws(TesseraError) in try preconditioner?.apply(r) ?? r })
    }

    /// Preconditioned CG on any operator that should be symmetric positive definite, with a
    /// preconditioner that should be too. Exit states: `converged` (recurrence residual ≤
    /// tolerance/2, confirmed by a fresh product), `iterationCap`, `stagnated` (no new best
    /// residual in 50 steps, or restarts from the true residual stop gaining), `breakdown`
    /// (curvature pᵀAp ≤ 0, rᵀP⁻¹r ≤ 0 — an indefinite preconditioner — or a NaN/Inf anywhere).
    /// Every exit but `converged` returns the best iterate seen.
    public static func iterate(b: [Double], tolerance: Double, maxIterations: Int,
                               apply: ([Double]) throws(TesseraError) -> [Double],
                               precondition: ([Double]) throws(TesseraError) -> [Double]) throws(TesseraError) -> IterationResult {
        let bNorm = b.norm2
        guard bNorm.isFinite else { return IterationResult(solution: [Double](repeating: 0, count: b.count), iterations: 0, status: .breakdown) }
        guard bNorm > 0 else { return IterationResult(solution: b, iterations: 0, status: .converged) }
        var x = [Double](repeating: 0, count: b.count)
        var r = b
        var z = try precondition(r)
        var p = z, rz = r.dot(z)
        var best = x, bestNorm = bNorm, sinceBest = 0
        var bestTrue = bNorm, replacements = 0
        guard rz > 0, rz.isFinite else { return IterationResult(solution: best, iterations: 0, status: .breakdown) }
        for k in 1...max(1, maxIterations) {
            try Interruption.check()
            let q = try apply(p)
            let curvature = p.dot(q)
            guard curvature > 0, curvature.isFinite else { return IterationResult(solution: best, iterations: k, status: .breakdown) }
            let alpha = rz / curvature
            x = x.plus(alpha, p)
            r = r.plus(-alpha, q)
            let norm = r.norm2
            guard norm.isFinite else { return IterationResult(solution: best, iterations: k, status: .breakdown) }
            if norm < bestNorm { best = x; bestNorm = norm; sinceBest = 0 } else { sinceBest += 1 }
            if sinceBest >= 50 { return IterationResult(solution: best, iterations: k, status: .stagnated) }
            if norm <= 0.5 * tolerance * bNorm {
                // The recurrence drifts from the true residual when products are inexact: confirm
                // with one fresh product, and restart from the true residual (at most 3 times)
                // while that still gains a factor 2; otherwise the residual has stagnated.
                let trueResidual = b.plus(-1, try apply(x))
                let trueNorm = trueResidual.norm2
                guard trueNorm.isFinite else { return IterationResult(solution: best, iterations: k, status: .breakdown) }
                if trueNorm <= tolerance * bNorm { return IterationResult(solution: x, iterations: k, status: .converged) }
                if trueNorm < bestTrue { best = x; bestNorm = trueNorm }
                guard replacements < 3, trueNorm < 0.5 * bestTrue else {
                    return IterationResult(solution: best, iterations: k, status: .stagnated)
                }
                bestTrue = min(bestTrue, trueNorm)
                replacements += 1
                r = trueResidual
                z = try precondition(r)
                rz = r.dot(z)
                guard rz > 0, rz.isFinite else { return IterationResult(solution: best, iterations: k, status: .breakdown) }
                p = z
                continue
            }
            z = try precondition(r)
            let rzNew = r.dot(z)
            guard rzNew > 0, rzNew.isFinite else { return IterationResult(solution: best, iterations: k, status: .breakdown) }
            p = z.plus(rzNew / rz, p)
            rz = rzNew
        }
        return IterationResult(solution: best, iterations: maxIterations, status: .iterationCap)
    }

    /// The paper's iteration: x ← x + ω·P⁻¹(b − (K + λI)x), ω = 2/(λmin + λmax) of P⁻¹(K + λI),
    /// the extremes from the Ritz values of 10 PCG steps (widened 5%); one product per step.
    static func richardson(kernel: KernelOperator, b: [Double], preconditioner: WoodburyPreconditioner, tolerance: Double,
                           maxIterations: Int) throws(TesseraError) -> IterationResult {
        let bNorm = b.norm2
        guard bNorm > 0 else { return IterationResult(solution: b, iterations: 0, status: .converged) }
        let (lo, hi) = try extremeEigenvalues(kernel: kernel, b: b, preconditioner: preconditioner, steps: 10)
        let omega = 2 / (0.95 * lo + 1.05 * hi)
        var x = [Double](repeating: 0, count: b.count), best = x, bestNorm = bNorm, sinceBest = 0
        var r = b
        for k in 1...maxIterations {
            try Interruption.check()
            x = x.plus(omega, try preconditioner.apply(r))
            r = b.plus(-1, try kernel.apply(x))
            let norm = r.norm2
            guard norm.isFinite else { return IterationResult(solution: best, iterations: k, status: .breakdown) }
            if norm < bestNorm { best = x; bestNorm = norm; sinceBest = 0 } else { sinceBest += 1 }
            if norm <= tolerance * bNorm { return IterationResult(solution: x, iterations: k, status: .converged) }
            if sinceBest >= 20 { return IterationResult(solution: best, iterations: k, status: .stagnated) }
        }
        return IterationResult(solution: best, iterations: maxIterations, status: .iterationCap)
    }

    /// Ritz values of P⁻¹(K + λI) from `steps` PCG iterations (the Lanczos tridiagonal of the
    /// CG coefficients: diagonal 1/αₖ + βₖ₋₁/αₖ₋₁, off-diagonal √βₖ/αₖ).
    static func extremeEigenvalues(kernel: KernelOperator, b: [Double], preconditioner: WoodburyPreconditioner,
                                   steps: Int) throws(TesseraError) -> (Double, Double) {
        var x = [Double](repeating: 0, count: b.count), r = b
        var z = try preconditioner.apply(r), p = z, rz = r.dot(z)
        var alphas: [Double] = [], betas: [Double] = []
        for _ in 0..<steps {
            try Interruption.check()
            let q = try kernel.apply(p)
            let curvature = p.dot(q)
            guard curvature > 0 else { break }
            let alpha = rz / curvature
            x = x.plus(alpha, p)
            r = r.plus(-alpha, q)
            z = try preconditioner.apply(r)
            let rzNew = r.dot(z)
            alphas.append(alpha)
            betas.append(rzNew / rz)
            p = z.plus(rzNew / rz, p)
            rz = rzNew
        }
        let k = alphas.count
        guard k > 0 else { return (1, 1) }
        var t = [Double](repeating: 0, count: k * k)
        for i in 0..<k {
            t[i + i * k] = 1 / alphas[i] + (i > 0 ? betas[i - 1] / alphas[i - 1] : 0)
            if i + 1 < k { let off = betas[i].squareRoot() / alphas[i]; t[i + (i + 1) * k] = off; t[i + 1 + i * k] = off }
        }
        let ritz = SymmetricEigenvalues.jacobi(t, order: k)
        return (max(ritz.min() ?? 1, .leastNormalMagnitude), ritz.max() ?? 1)
    }
}
