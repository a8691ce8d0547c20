#if canImport(Glibc)
import Glibc
#endif
import TesseraCore

/// The adaptive rank of pcg's randomly pivoted Cholesky preconditioner when K's products run on
/// the fly (n²·d flops each): rounds go on while the products a round is predicted to save cost
/// more than the round itself, up to the cap the planner set (memory, 4,000).
///
/// Model. With P = FFᵀ + μI, μ = λ + t/n (t = trace(K − FFᵀ), the residual's mean eigenvalue
/// added to the ridge), CG's bound gives about I(t) = ½·√(1 + t/(n·λ))·ln(2/tol) products.
/// A round of b columns at rank k costs n·b·(2d + e₆₄) for its kernel columns (e₆₄ float64
/// flop-equivalents per float64 exp) plus 2·n·b·k + n·b² for the update and triangular solve; a
/// product costs n²·d + (n²/2)·e₆₄ in float64, n²·d/2 + (n²/2)·e₃₂ with float32 panels (twice
/// the GEMM rate, e₃₂ per float32 exp). The rounds stop when the last `window` rounds together
/// saved (by I) fewer products than their cost, or once the rank reaches `minimumRank` and the
/// trace has stopped falling at all. Cost: O(1) per round; nothing here throws.
public struct RankGrowth: Sendable, Equatable {
    /// The rank reached and trace(K − FFᵀ) there.
    public struct Step: Sendable, Equatable {
        public var rank: Int
        public var trace: Double
        public init(rank: Int, trace: Double) {
            self.rank = rank
            self.trace = trace
        }
    }

    /// Float64 flop-equivalents per float64 exp and per float32 exp: the DGEMM rate over each exp
    /// rate, measured per core on the 2-core AVX-512 machine (55.4 GFLOP/s, 0.74 and 4.75 G exp/s;
    /// `Benchmarks/attention_scale.py` prints them).
    public static let exp64Cost = 75.0, exp32Cost = 11.7
    /// Rounds weighed together (one round's trace fall is noisy: its pivots are random).
    public static let window = 3

    public let order: Int
    public let cols: Int
    public let ridge: Double
    public let tolerance: Double
    /// Whether the products run with float32 panels.
    public let mixed: Bool
    /// No stop below this rank (the planner's 500, its floor for any default rank).
    public let minimumRank: Int

    public init(order: Int, cols: Int, ridge: Double, tolerance: Double, mixed: Bool, minimumRank: Int) {
        self.order = order
        self.cols = cols
        self.ridge = ridge
        self.tolerance = tolerance
        self.mixed = mixed
        self.minimumRank = minimumRank
    }

    /// I(t): the products CG is predicted to need with residual trace t (∞ at λ = 0 with t > 0:
    /// without a ridge every bit of trace counts).
    public func predictedProducts(trace t: Double) -> Double {
        let n = Double(order)
        let spread = ridge > 0 ? 1 + max(t, 0) / (n * ridge) : (t > 0 ? .infinity : 1)
        return 0.5 * spread.squareRoot() * log(2 / max(tolerance, 1e-300))
    }

    /// One kernel product, in float64 flop-equivalents.
    public var productCost: Double {
        let n = Double(order), d = Double(cols)
        return mixed ? n * n * d / 2 + n * n / 2 * Self.exp32Cost : n * n * d + n * n / 2 * Self.exp64Cost
    }

    /// Growing the factor from rank k by b columns, in float64 flop-equivalents.
    public func roundCost(rank k: Int, columns b: Int) -> Double {
        let n = Double(order), d = Double(cols), bb = Double(b)
        return n * bb * (2 * d + Self.exp64Cost) + 2 * n * bb * Double(k) + n * bb * bb
    }

    /// nil while the rounds should go on, else why they stop (for the report).
    public func stopReason(_ history: [Step]) -> String? {
        guard let last = history.last, last.rank >= minimumRank, history.count > Self.window else { return nil }
        let first = history[history.count - 1 - Self.window]
        if !(last.trace < first.trace) { return "the residual trace stopped falling" }
        let saved = (predictedProducts(trace: first.trace) - predictedProducts(trace: last.trace)) * productCost
        var cost = 0.0
        for i in (history.count - Self.window)..<history.count {
            cost += roundCost(rank: history[i - 1].rank, columns: history[i].rank - history[i - 1].rank)
        }
        guard saved < cost else { return nil }
        return "rank growth stopped paying: the last \(Self.window) rounds cut the predicted products by "
            + "\(Format.fixed(saved / productCost, 2)) for the cost of \(Format.fixed(cost / productCost, 2))"
    }
}
