#if canImport(Glibc)
import Glibc
#endif
import TesseraCore
import TesseraKernels
import TesseraTiles

/// The paper's polynomial-kernel features for K = exp(AAᵀ) = Σ_ℓ (AAᵀ)^{∘ℓ}/ℓ!:
/// Φ = [1, A, Z₂/√2!, …, Z_q/√q!] ∈ ℝ^{n×m}, with degrees 0 and 1 exact and degree ℓ ≥ 2
/// sketched by TensorSRHT without forming A^{⊗ℓ}: for each factor t = 1..ℓ, Y_{ℓ,t} = A·D_{ℓ,t}·H
/// (random signs D on A's columns zero-padded to p = 2^⌈log₂d⌉, H the ±1 Walsh–Hadamard matrix),
/// and feature k of degree ℓ is z_{ℓ,k}(a) = m_ℓ^{−1/2}·∏_t (Y_{ℓ,t})[a, s_{ℓ,t,k}] for column
/// indices s drawn uniformly from 0..<p. Unbiased: E_D[(HDa)_s·(HDb)_s] = ⟨a, b⟩ for every s, and
/// the ℓ factors are independent, so E[z_ℓ(a)·z_ℓ(b)] = ⟨a, b⟩^ℓ. q is the smallest degree whose
/// Taylor tail n·Σ_{ℓ>q} r^ℓ/ℓ! (r = max‖aᵢ‖²) is below 10⁻⁸·n, and the feature budget is split
/// over degrees ∝ r^ℓ/ℓ!. Cost n·(Σ_ℓ ℓ·p·log₂p + Σ_ℓ ℓ·m_ℓ) flops (no GEMM); memory n·m plus
/// n·p per factor. Signs and indices come from Philox keyed by (seed, degree, factor, index).
public struct TaylorFeatures: Sendable {
    /// Φ, n × m, column-major (leading dimension n); used in place as the preconditioner's factor.
    public let featureBlock: ColumnBlock
    /// Φ as an array (a copy).
    public var features: [Double] { featureBlock.columns(0..<count) }
    public let order: Int
    public let count: Int
    /// Truncation degree q.
    public let degree: Int
    /// Features per degree (index ℓ).
    public let perDegree: [Int]

    public init(matrix: TiledMatrix, budget: Int, seed: UInt64, engine: Engine) throws(TesseraError) {
        let n = matrix.rows, d = matrix.cols
        let r = try matrix.maxRowNormSquared(engine: engine)
        var q = 1
        while q < 40 && Self.tail(after: q, r: r) > 1e-8 { q += 1 }
        let weights = (0...q).map { l in l < 2 ? 0 : pow(r, Double(l)) / Self.factorial(l) }
        let spare = max(0, budget - 1 - d), totalWeight = weights.reduce(0, +)
        var per = [1, d] + (2...max(2, q)).map { l in l <= q && totalWeight > 0 ? max(8, Int(Double(spare) * weights[l] / totalWeight)) : 0 }
        if q < 2 { per = [1, d] }
        let m = per.reduce(0, +)
        let a = matrix.toColumnMajorArray()
        let block = try ColumnBlock(rows: n, cols: max(1, m), engine: engine)
        block.fill(columns: 0..<1, with: 1)
        block.setColumns(1..<(1 + d), from: a)
        var column = 1 + d
        let rng = Philox4x32(seed: seed)
        let p = Self.paddedWidth(d)
        for l in 2..<per.count where per[l] > 0 {
            let ml = per[l]
            let scale = 1 / (Double(ml) * Self.factorial(l)).squareRoot()
            block.fill(columns: column..<(column + ml), with: scale)
            for t in 0..<l {
                let stream = PhiloxStream.taylorFactor(degree: l, factor: t)
                let y = Self.signedHadamard(a, rows: n, cols: d, width: p, rng: rng, stream: stream)   // n × p
                for k in 0..<ml {
                    let s = min(p - 1, Int(rng.uniform(index: UInt64(k), stream: PhiloxStream.taylorColumns(degree: l, factor: t)) * Double(p)))
                    block.multiplyColumn(column + k, by: y, column: s)
                }
            }
            column += ml
        }
        featureBlock = block
        order = n
        count = m
        degree = q
        perDegree = per
    }

    /// The smallest power of two ≥ d.
    static func paddedWidth(_ d: Int) -> Int { var p = 1; while p < d { p *= 2 }; return p }

    /// Y = A·D·H (n × p, column-major) for A (n × d, column-major) zero-padded to p columns, D the
    /// Philox signs of `stream`, H the ±1 Walsh–Hadamard matrix: one transform per row.
    static func signedHadamard(_ a: [Double], rows n: Int, cols d: Int, width p: Int, rng: Philox4x32, stream: UInt64) -> [Double] {
        let signs = (0..<d).map { rng.sign(index: UInt64($0), stream: stream) }
        var y = [Double](repeating: 0, count: n * p)
        var row = [Double](repeating: 0, count: p)
        for i in 0..<n {
            for j in 0..<d { row[j] = a[i + j * n] * signs[j] }
            for j in d..<p { row[j] = 0 }
            WalshHadamard.transform(&row)
            for j in 0..<p { y[i + j * n] = row[j] }
        }
        return y
    }

    /// n-free Taylor tail e^r − Σ_{ℓ≤q} r^ℓ/ℓ! (relative to the diagonal of K).
    static func tail(after q: Int, r: Double) -> Double {
        var term = 1.0, sum = 1.0
        for l in 1...q { term *= r / Double(l); sum += term }
        return max(0, VectorExp.exp(r) - sum) / VectorExp.exp(r)
    }

    public static func factorial(_ l: Int) -> Double { (1...max(1, l)).reduce(1.0) { $0 * Double($1) } }

    /// As a low-rank factor for the Woodbury preconditioner (K ≈ ΦΦᵀ), with the residual trace
    /// trace(K) − ‖Φ‖²_F (clamped at 0) that sets the shift.
    public func lowRank(diagonal: [Double]) -> LowRankFactor {
        let norms = featureBlock.squaredRowNorms(columns: 0..<count)
        let residual = zip(diagonal, norms).reduce(0.0) { $0 + max(0, $1.0 - $1.1) }
        return LowRankFactor(block: featureBlock, rank: count, order: order, residualTrace: residual)
    }
}
