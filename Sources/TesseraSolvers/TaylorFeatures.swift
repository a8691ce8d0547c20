import TesseraCore
import TesseraKernels
import TesseraTiles

/// The paper's polynomial-kernel features for K = exp(AAᵀ) = Σ_ℓ (AAᵀ)^{∘ℓ}/ℓ!:
/// Φ = [1, A, Z₂/√2!, …, Z_q/√q!] ∈ ℝ^{n×m}, with degrees 0 and 1 exact and degree ℓ ≥ 2
/// sketched without forming A^{⊗ℓ}: z_ℓ(a) = m_ℓ^{−1/2}·∏_{t=1..ℓ} (G_{ℓ,t}·a) for independent
/// Gaussian G_{ℓ,t} ∈ ℝ^{m_ℓ×d} (a Gaussian product sketch of the tensor power: unbiased,
/// E[z_ℓ(a)·z_ℓ(b)] = ⟨a, b⟩^ℓ; the cheaper relative of TensorSRHT). q is the smallest degree
/// whose Taylor tail n·Σ_{ℓ>q} r^ℓ/ℓ! (r = max‖aᵢ‖²) is below 10⁻⁸·n, and the feature budget is
/// split over degrees ∝ r^ℓ/ℓ!. Cost n·Σ_ℓ ℓ·m_ℓ·d flops; memory n·m. Entries from Philox.
public struct TaylorFeatures: Sendable {
    /// Φ, n × m, column-major.
    public let features: [Double]
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
        var phi = [Double](repeating: 0, count: n * m)
        for i in 0..<n { phi[i] = 1 }
        for j in 0..<d { for i in 0..<n { phi[i + (1 + j) * n] = a[i + j * n] } }
        var column = 1 + d
        let rng = Philox4x32(seed: seed)
        for l in 2..<per.count where per[l] > 0 {
            let ml = per[l]
            var product = [Double](repeating: 1, count: n * ml)
            var projected = [Double](repeating: 0, count: n * ml)
            for t in 0..<l {
                let g = (0..<(d * ml)).map { rng.normal(index: UInt64($0), stream: UInt64(1_000 * l + t)) }   // d × m_ℓ
                BLAS.gemm(.none, .none, m: n, n: ml, k: d, alpha: 1, a: a, lda: n, b: g, ldb: d, beta: 0, c: &projected, ldc: n)
                for k in 0..<(n * ml) { product[k] *= projected[k] }
            }
            let scale = 1 / (Double(ml) * Self.factorial(l)).squareRoot()
            for k in 0..<(n * ml) { phi[column * n + k] = product[k] * scale }
            column += ml
        }
        features = phi
        order = n
        count = m
        degree = q
        perDegree = per
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
    public func lowRank(diagonal: [Double]) -> RandomlyPivotedCholesky {
        var norms = [Double](repeating: 0, count: order)
        for c in 0..<count { for i in 0..<order { let v = features[i + c * order]; norms[i] += v * v } }
        let residual = zip(diagonal, norms).reduce(0.0) { $0 + max(0, $1.0 - $1.1) }
        return RandomlyPivotedCholesky(factor: features, rank: count, order: order, residualTrace: residual)
    }
}

#if canImport(Glibc)
import Glibc
#endif
