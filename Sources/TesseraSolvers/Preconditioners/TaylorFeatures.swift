#if canImport(Glibc)
import Glibc
#endif
import TesseraCore
import TesseraKernels
import TesseraSketch
import TesseraTiles

/// The paper's polynomial-kernel features for K = exp(AAᵀ) = Σ_ℓ (AAᵀ)^{∘ℓ}/ℓ! = ΦΦᵀ, where
/// Φ = [A^{⊗0}, A^{⊗1}, A^{⊗2}/√2!, …]: attention is the gram problem (j = 1) of the tall Φᵀ.
/// - **Exact layers** (degrees 0…q_e, the largest q_e whose Σ_{ℓ≤q_e} C(d+ℓ−1, ℓ) columns fit the
///   budget, at least degree 1): the symmetric form of A^{⊗ℓ}/√ℓ!, one column per monomial
///   a^α (|α| = ℓ) scaled by 1/√α!, since Σ_{|α|=ℓ} a^α b^α/α! = ⟨a, b⟩^ℓ/ℓ!. Degree 2 has
///   d(d+1)/2 columns (aᵢ²/√2 and aᵢaⱼ). Each column is the product of one of the previous degree
///   with a column of A: n flops per column.
/// - **Sketched layers** (degrees q_e+1…q, only when `sketched` is true and budget is left): PolySketch
///   (`TesseraSketch`) of A^{⊗ℓ}, scaled by 1/√ℓ!, the leftover budget split ∝ r^ℓ/ℓ! (r = max‖aᵢ‖²),
///   at least 8 columns each; q is the smallest degree whose relative Taylor tail Σ_{ℓ>q} r^ℓ/ℓ!/e^r
///   is below 10⁻⁸.
/// K − ΦΦᵀ with exact layers only is Σ_{ℓ>q_e}(AAᵀ)^{∘ℓ}/ℓ!, positive semidefinite, with the known
/// diagonal Σ_{ℓ>q_e}‖aᵢ‖^{2ℓ}/ℓ! = exp(‖aᵢ‖²) − rowsum(Φ²): the diagonal shift of the
/// preconditioner (`residualDiagonal`). Cost n·m flops (exact) plus the PolySketch cost; memory n·m.
/// Throws `.outOfMemory` from allocation and what `PolySketch` throws.
public struct TaylorFeatures: Sendable {
    /// Φ, n × m, column-major (leading dimension n); used in place as the preconditioner's factor.
    public let featureBlock: ColumnBlock
    /// Φ as an array (a copy).
    public var features: [Double] { featureBlock.columns(0..<count) }
    public let order: Int
    public let count: Int
    /// The highest degree with features (exact or sketched).
    public let degree: Int
    /// The highest degree whose layer is exact.
    public let exactDegree: Int
    /// Features per degree (index ℓ).
    public let perDegree: [Int]

    /// C(d + ℓ − 1, ℓ), the number of degree-ℓ monomials in d variables (saturating).
    public static func exactColumns(degree l: Int, cols d: Int) -> Int {
        var c = 1.0
        for i in 0..<l { c = c * Double(d + i) / Double(i + 1) }
        return c < 1e15 ? Int(c.rounded()) : Int.max / 4
    }

    /// Columns of the exact layers through degree q: Σ_{ℓ≤q} C(d+ℓ−1, ℓ).
    public static func exactColumns(through q: Int, cols d: Int) -> Int {
        (0...max(0, q)).reduce(0) { min(Int.max / 4, $0 + exactColumns(degree: $1, cols: d)) }
    }

    /// The highest degree whose exact layers fit `budget` columns (at least 1).
    public static func exactDegree(budget: Int, cols d: Int) -> Int {
        var q = 1
        while q < 12 && exactColumns(through: q + 1, cols: d) <= budget { q += 1 }
        return q
    }

    public init(matrix: TiledMatrix, budget: Int, sketched: Bool = false, seed: UInt64, engine: Engine) throws(TesseraError) {
        let n = matrix.rows, d = matrix.cols
        let r = try matrix.maxRowNormSquared(engine: engine)
        let qe = Self.exactDegree(budget: budget, cols: d)
        var per = (0...qe).map { Self.exactColumns(degree: $0, cols: d) }
        let exact = per.reduce(0, +)
        var q = qe
        if sketched {
            var top = qe
            while top < 40 && Self.tail(after: top, r: r) > 1e-8 { top += 1 }
            let spare = budget - exact
            if top > qe && spare >= 8 {
                let weights = ((qe + 1)...top).map { pow(r, Double($0)) / Self.factorial($0) }
                let total = weights.reduce(0, +)
                for w in weights {
                    let share = total > 0 ? Int(Double(spare) * w / total) : 0
                    per.append(share >= 8 ? share : 0)
                }
                while per.count > qe + 1 && per.last == 0 { per.removeLast() }
                q = per.count - 1
            }
        }
        let m = per.reduce(0, +)
        let a = matrix.toColumnMajorArray()
        let block = try ColumnBlock(rows: n, cols: max(1, m), engine: engine)
        block.fill(columns: 0..<1, with: 1)
        block.setColumns(1..<(1 + d), from: a)
        // Exact layers: each degree-ℓ column extends a degree-(ℓ − 1) one by an index j ≥ its last
        // index; `last` and `multiplicity` describe the previous degree's columns in order.
        var last = Array(0..<d), multiplicity = [Int](repeating: 1, count: d)
        var previousStart = 1, column = 1 + d
        if qe >= 2 {
            for _ in 2...qe {
                var nextLast: [Int] = [], nextMultiplicity: [Int] = []
                for (offset, i) in last.enumerated() {
                    for j in i..<d {
                        let count = j == i ? multiplicity[offset] + 1 : 1
                        block.setColumn(column, toProductOf: previousStart + offset, and: a, column: j, scale: 1 / Double(count).squareRoot())
                        nextLast.append(j)
                        nextMultiplicity.append(count)
                        column += 1
                    }
                }
                previousStart = column - nextLast.count
                last = nextLast
                multiplicity = nextMultiplicity
            }
        }
        // Sketched layers.
        if per.count > qe + 1 {
            for l in (qe + 1)..<per.count where per[l] > 0 {
                let sketch = try PolySketch(degree: l, inputWidth: d, outputs: per[l], seed: seed)
                let z = try sketch.apply(a, rows: n)
                let scale = 1 / Self.factorial(l).squareRoot()
                block.setColumns(column..<(column + per[l]), from: z.map { $0 * scale })
                column += per[l]
            }
        }
        featureBlock = block
        order = n
        count = m
        degree = q
        exactDegree = qe
        perDegree = per
    }

    /// n-free Taylor tail e^r − Σ_{ℓ≤q} r^ℓ/ℓ! (relative to the diagonal of K).
    static func tail(after q: Int, r: Double) -> Double {
        var term = 1.0, sum = 1.0
        for l in 1...max(1, q) { term *= r / Double(l); sum += term }
        return max(0, VectorExp.exp(r) - sum) / VectorExp.exp(r)
    }

    public static func factorial(_ l: Int) -> Double { (1...max(1, l)).reduce(1.0) { $0 * Double($1) } }

    /// diag(K) − rowsum(Φ²), clamped at 0: the residual kernel's diagonal (exact when all layers
    /// are exact, an estimate with sketched layers).
    public func residualDiagonal(_ diagonal: [Double]) -> [Double] {
        let norms = featureBlock.squaredRowNorms(columns: 0..<count)
        return zip(diagonal, norms).map { max(0, $0 - $1) }
    }

    /// As a low-rank factor for the Woodbury preconditioner (K ≈ ΦΦᵀ), with the residual trace
    /// trace(K) − ‖Φ‖²_F (clamped at 0 row by row).
    public func lowRank(diagonal: [Double]) -> LowRankFactor {
        let residual = residualDiagonal(diagonal).reduce(0, +)
        return LowRankFactor(block: featureBlock, rank: count, order: order, residualTrace: residual)
    }
}
