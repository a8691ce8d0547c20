import TesseraCore
import TesseraTiles

/// What `AttentionPlanner` decided for one attention request, before any work starts.
public struct AttentionPlan: Sendable {
    public let problem: Problem
    public let ridge: Double
    public let rows: Int
    public let cols: Int
    public let method: SolveMethod
    public let reason: String
    /// `pcg` keeps K's upper triangle in memory (`StoredKernel`) when it fits half the budget:
    /// each product becomes one memory-bound pass over n²/2 numbers instead of n²d flops and
    /// n²/2 exps.
    public let storesKernel: Bool
    /// `pcg`'s kernel products: `.mixed` runs iterative refinement with float32-panel products
    /// inside (planned when K is not stored; the solver falls back to `.double` when A's rows are
    /// too long for float32 panels, `AttentionSolver.mixedRefusal`); `.double` otherwise.
    public let precision: Precision
    /// The preconditioner's rank (`pcg`) or feature budget (`paper`, `surrogate`); 0 for `direct`.
    public let rank: Int
    /// `paper`/`surrogate` in the faithful mode: m ≥ n features and the n × n factor of ΦΦᵀ + D
    /// (`FaithfulPreconditioner`); false for the low-rank mode (Woodbury) and the other methods.
    public let faithful: Bool
    public let options: SolveOptions
    public let tolerance: Double
    /// Tessera's allocations: A's tiles, vectors, and the factor, features or stored K.
    public let requiredBytes: UInt64
    public let budget: MemoryBudget

    /// pcg's adaptive rank (`RankGrowth`): with products on the fly, randomly pivoted Cholesky and
    /// the rank left to the planner, the rounds stop below `rank` once they stop paying for the
    /// products they save; nil otherwise (`rank` is then the rank built).
    public var rankGrowth: RankGrowth? {
        guard method == .pcg, !storesKernel, options.rank == nil, options.lowRank != .nystrom else { return nil }
        return RankGrowth(order: rows, cols: cols, ridge: ridge, tolerance: tolerance, mixed: precision == .mixed,
                          minimumRank: min(rank, 500))
    }
}

/// Plans an attention solve: validates the request once (λ, options, shape, rank, memory) and
/// chooses the method: `direct` (dense Cholesky) when n ≤ 4,000 and K fits half the budget,
/// else `pcg` with a rank-k preconditioner, K's upper triangle stored when it fits. Throws
/// `.invalidArgument`, `.invalidInput` or `.resourceLimit`.
public enum AttentionPlanner {
    /// Enough columns to capture K's Taylor layers of degree ≤ 2 (1 + d + d(d+1)/2 directions,
    /// whose eigenvalues sit far above the rest) plus 256, at least 500, at most min(n/2, 4000).
    /// With products on the fly (n²d flops each) the cap itself, min(n/2, 4000): the rounds then
    /// stop where they stop paying for the products they save (`RankGrowth`, from the Taylor
    /// layers' rank on; measured at d = 64, tolerance 1e-8, mixed precision: n = 60,000 took 129
    /// iterations and 293 s at rank 2,401, 55 iterations and 143 s at rank 4,000; n = 20,000
    /// 16–19 s for any rank from 2,401 to 4,000).
    /// When K is stored a product is cheap (one pass over n²/2 numbers, ≈ 8n² flop-equivalents at
    /// this machine class's ratio of GEMM rate to memory bandwidth), so the factor's ≈ 4nk² flops
    /// are capped at about half the cost of 100 products: k ≤ √(100·n), at least 500 (the
    /// docs/BENCHMARKS.md has the measurements behind this). The rounds also stop early
    /// once trace(K − FFᵀ) ≤ λ/10.
    public static func defaultRank(n: Int, d: Int, storesKernel: Bool = false) -> Int {
        let k = layerRank(n: n, d: d)
        guard storesKernel else { return max(k, min(max(n / 2, 1), 4_000)) }
        return max(1, min(k, max(500, Int((100 * Double(n)).squareRoot()))))
    }

    /// The layers' part of `defaultRank`: 1 + d + d(d+1)/2 + 256 within [500, min(n/2, 4000)].
    static func layerRank(n: Int, d: Int) -> Int {
        max(1, min(max(n / 2, 1), 4_000, max(500, 1 + d + d * (d + 1) / 2 + 256)))
    }

    /// The `paper`/`surrogate` feature budget: the exact Taylor layers of the highest degree whose
    /// cumulative column count Σ_{ℓ≤q} C(d+ℓ−1, ℓ) is at most min(n/2, 4000), and at most
    /// 2·√(100·n) when K is stored (at least degrees 0 and 1: 1 + d columns). A layer left out
    /// has about n·w_ℓ/C_ℓ per eigenvalue against a shift of at least w_ℓ (w_ℓ its weight
    /// ‖a‖^{2ℓ}/ℓ!), so leaving out one of C_ℓ > n/2 columns costs κ ≲ 3, while keeping it costs
    /// n·k² flops; with K stored a product is cheap, so the factor is capped like pcg's rank (twice
    /// it: the closed-form features need no kernel columns). Measured (Benchmarks/paper_attention.py):
    /// at n = 4,000, d = 64 the 2,145 columns of degree ≤ 2 took 2.1 s against pcg's 0.6 s.
    public static func defaultFeatureBudget(n: Int, d: Int, storesKernel: Bool = false) -> Int {
        var cap = max(1, min(n / 2, 4_000))
        if storesKernel { cap = min(cap, 2 * Int((100 * Double(n)).squareRoot())) }
        return TaylorFeatures.exactColumns(through: TaylorFeatures.exactDegree(budget: cap, cols: d), cols: d)
    }

    public static func plan(_ problem: Problem, rows n: Int, cols d: Int, options: SolveOptions) throws(TesseraError) -> AttentionPlan {
        try plan(problem, shape: [n, d], options: options)
    }

    /// The same for A's shape as a file or caller gives it (`source` names A in messages).
    public static func plan(_ problem: Problem, shape: [Int], source: String = "A", options: SolveOptions) throws(TesseraError) -> AttentionPlan {
        guard let ridge = problem.ridge else { throw .invalidArgument("\(problem.name) is not an attention problem") }
        try problem.validate()
        try options.validate(for: problem)
        try problem.checkMatrixShape(shape, source: source)
        let n = shape[0], d = shape[1]
        if let r = options.rank, r > n { throw .invalidArgument("--rank \(r) exceeds n = \(n), the order of K; use at most \(n)") }
        let budget = MemoryBudget.resolve(options.memoryBudget)
        let dense = ByteCount.doubles(n, n)
        let stored = StoredKernel.bytes(order: n)
        var reason = "chosen with --method"
        let method: SolveMethod
        if let chosen = options.method {
            method = chosen
        } else if options.precision == .mixed {
            method = .pcg
            reason = "chosen with --precision mixed"
        } else if n <= 4_000 && dense <= budget.bytes / 2 {
            method = .direct
            reason = "n = \(n) ≤ 4000: dense Cholesky (\(Format.bytes(dense))) beats iterating with n²d-flop products"
        } else if n <= 4_000 {
            method = .pcg
            reason = "n = \(n) ≤ 4000 but K (\(Format.bytes(dense))) exceeds half the memory budget: PCG with exact kernel products and a rank-k preconditioner"
        } else {
            method = .pcg
            reason = "n = \(n) > 4000: PCG with exact kernel products and a rank-k preconditioner"
        }
        let paperLike = method == .paper || method == .surrogate
        // The faithful mode (m ≥ n features: exact layers, then PolySketch; an n × n factor) when
        // --rank asks for m ≥ n and n² doubles fit half the budget. It is not the default: at
        // n = 2,000, d = 48 it took 4.0 s to build against 0.3 s for pcg's whole factor step,
        // while the exact layers alone (low-rank mode) reach κ ≈ 3–16 in O(n·m²).
        let faithful = paperLike && (options.rank.map { $0 >= n } ?? false) && dense <= budget.bytes / 2
        let rank = options.rank ?? (paperLike ? defaultFeatureBudget(n: n, d: d) : defaultRank(n: n, d: d))
        var store = false
        var pcgRank = rank
        let required: UInt64
        switch method {
        case .direct, .cholesky:
            required = MemoryEstimate.attentionDirect(rows: n, cols: d)
            try budget.require(required, for: "the direct method (K, \(n) × \(n))", advice: "use --method pcg or raise --memory-budget")
        case .pcg:
            // K stored when it fits with the stored route's rank; otherwise products on the fly and
            // the larger default rank, lowered (not below 500) until the factor fits the budget.
            let storedRank = options.rank ?? defaultRank(n: n, d: d, storesKernel: true)
            let storedNeed = MemoryEstimate.attentionLowRank(rows: n, cols: d, rank: storedRank)
            store = options.precision != .mixed && options.mayStoreKernel && stored <= budget.bytes / 2
                && ByteCount.sum(storedNeed, stored) <= budget.bytes
            if store {
                pcgRank = storedRank
            } else if options.rank == nil {
                // A float32 copy of A (n·d·4 bytes) joins it when the products run in mixed precision.
                let singleCopy = options.precision == .double ? 0 : ByteCount.doubles(n, d) / 2
                while pcgRank > 500 && ByteCount.sum(MemoryEstimate.attentionLowRank(rows: n, cols: d, rank: pcgRank), singleCopy) > budget.bytes {
                    pcgRank = max(500, pcgRank * 9 / 10)
                }
            }
            required = MemoryEstimate.attentionLowRank(rows: n, cols: d, rank: pcgRank)
            try budget.require(required, for: "pcg with a rank-\(pcgRank) preconditioner", advice: "lower --rank or raise --memory-budget")
            reason += store ? "; K's upper triangle stored (\(Format.bytes(stored)) fits half the budget)" : "; K products on the fly"
        case .paper, .surrogate:
            required = ByteCount.sum(MemoryEstimate.attentionFeatures(rows: n, cols: d, features: rank), faithful ? ByteCount.doubles(2, n, n) : 0)
            try budget.require(required, for: "the \(method.rawValue) method with \(rank) Taylor features", advice: "lower --rank or raise --memory-budget")
            reason += faithful
                ? "; faithful mode: --rank \(rank) ≥ n features and the n × n factor of ΦΦᵀ + D (\(Format.bytes(dense)) within half the budget)"
                : "; low-rank mode: " + (options.rank.map { $0 >= n ? "the n × n factor (\(Format.bytes(dense))) exceeds half the budget" : "--rank \($0) < n" }
                                         ?? "the default (exact Taylor layers, Woodbury; --rank ≥ n asks for the faithful mode)")
            if method == .paper {
                store = options.mayStoreKernel && stored <= budget.bytes / 2 && ByteCount.sum(required, stored) <= budget.bytes
                reason += store ? "; K's upper triangle stored (\(Format.bytes(stored)) fits half the budget)" : "; K products on the fly"
            }
        }
        let finalRank = method == .direct ? 0 : paperLike ? options.rank ?? defaultFeatureBudget(n: n, d: d, storesKernel: store)
            : pcgRank
        if method == .pcg && options.rank == nil {
            let grows = !store && options.lowRank != .nystrom
            let why = store ? (finalRank < layerRank(n: n, d: d) ? "capped at √(100·n): products of a stored K are cheap" : "K's Taylor layers of degree ≤ 2, plus 256")
                : (finalRank < rank ? "min(n/2, 4000) lowered to fit the memory budget" : "min(n/2, 4000)")
                    + (grows ? "; grown while a round saves more products than it costs, as products on the fly are costly" : "")
            reason += "; rank \(grows ? "up to " : "")\(finalRank) by default (\(why))"
        }
        // Mixed precision where products are GEMM-and-exp bound (on the fly); a stored K's product
        // is a memory-bound pass that float32 panels would not shorten.
        let precision: Precision = method == .pcg && !store && options.precision != .double ? .mixed : .double
        if precision == .mixed {
            reason += options.precision == .mixed ? "; float32 panels (--precision mixed) inside float64 refinement"
                : "; float32 panels inside float64 refinement (products on the fly are GEMM-and-exp bound)"
        }
        return AttentionPlan(problem: problem, ridge: ridge, rows: n, cols: d, method: method, reason: reason, storesKernel: store,
                             precision: precision, rank: finalRank, faithful: faithful, options: options, tolerance: options.tolerance(for: problem),
                             requiredBytes: ByteCount.sum(required, store ? stored : 0, precision == .mixed ? ByteCount.doubles(n, d) / 2 : 0), budget: budget)
    }
}
