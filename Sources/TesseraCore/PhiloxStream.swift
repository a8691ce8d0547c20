/// The Philox stream ids Tessera draws from, in one place so that no two uses share numbers.
///
/// A `Philox4x32` value is a pure function of (seed, stream, index); two uses of the same seed
/// get independent numbers exactly when their streams differ. The layout (inclusive ranges):
///
/// | stream                        | use                                                          |
/// |-------------------------------|--------------------------------------------------------------|
/// | 0                             | the CLI demo's matrix                                        |
/// | 2, 3                          | SRHT input signs, count-sketch buckets                       |
/// | 10, 11, 12, 13                | problem generator: Gaussian G, solution x, noise, orthogonal |
/// | 20, 21                        | attention test matrix, its known solution                    |
/// | 77                            | Lanczos start vector                                         |
/// | 1_000·ℓ + t, 2 ≤ ℓ ≤ 40, t < ℓ | Taylor features of degree ℓ, factor t                       |
/// | 2³² + 1_000·ℓ + t             | column indices of Taylor factor (ℓ, t)                       |
/// | 4·2³² + draw                  | sparse-sign sketch: rows of a column, rejection draw `draw`  |
/// | 5·2³² + g                     | sparse-sign sketch: signs of nonzeros 128·g ..< 128·(g+1)    |
/// | 6·2³² + k                     | SRHT output sign of sampled row k                            |
/// | 7·2³²                         | Nyström test matrix                                          |
/// | 8·2³² + k, k < 2³²            | Gaussian sketch row k                                        |
/// | 2⁴⁰ + draw                    | SRHT sampled rows                                            |
/// | 2⁴¹ + r                       | randomly pivoted Cholesky, pivot draws of round r            |
///
/// No two ranges overlap, so two uses of one seed in one solve (a Gaussian sketch and the
/// Lanczos start vector of the paper's method, say) never share numbers. Three ids moved when
/// this table was made, changing those draws' bits once: the Gaussian sketch rows (they were
/// 0 ..< s, overlapping every small id), the Nyström test matrix (7_000, inside Taylor's
/// range) and the pivot draws (1_000 + r, likewise). Every function is O(1) and throws nothing.
public enum PhiloxStream {
    /// The CLI demo's random matrix.
    public static let demoMatrix: UInt64 = 0
    /// Row k of a Gaussian sketch (k < the sketch's row count).
    public static func gaussianSketchRow(_ k: Int) -> UInt64 { (8 << 32) + UInt64(k) }
    /// Random signs of the sparse-sign sketch and the SRHT.
    public static let sketchSigns: UInt64 = 2
    /// Buckets of the count sketch.
    public static let countSketchBuckets: UInt64 = 3
    /// Sparse-sign sketch: the rows of a column's nonzeros, rejection draw `draw` (< 2³²).
    public static func sparseSignRows(draw: UInt64) -> UInt64 { (4 << 32) &+ draw }
    /// Sparse-sign sketch: the signs of a column's nonzeros 128·group ..< 128·(group + 1).
    public static func sparseSignSigns(group: Int) -> UInt64 { (5 << 32) &+ UInt64(group) }
    /// SRHT: the output sign of sampled row k (k < the sketch's row count).
    public static func srhtOutputSign(row k: Int) -> UInt64 { (6 << 32) + UInt64(k) }
    /// First stream of the SRHT's sampled rows (stream = this + draw).
    public static let sampledRowsBase: UInt64 = 1 << 40
    /// The SRHT's `draw`-th batch of sampled rows.
    public static func sampledRows(draw: UInt64) -> UInt64 { sampledRowsBase &+ draw }
    /// Problem generator: the Gaussian matrix G.
    public static let generatorGaussian: UInt64 = 10
    /// Problem generator: the known solution x.
    public static let generatorSolution: UInt64 = 11
    /// Problem generator: the noise.
    public static let generatorNoise: UInt64 = 12
    /// Problem generator: the random orthogonal factor.
    public static let generatorOrthogonal: UInt64 = 13
    /// The attention test matrix (rows of a given norm in random directions).
    public static let attentionMatrix: UInt64 = 20
    /// The attention problem's known solution.
    public static let attentionSolution: UInt64 = 21
    /// Lanczos start vector.
    public static let lanczosStart: UInt64 = 77
    /// The Nyström test matrix.
    public static let nystromTestMatrix: UInt64 = 7 << 32
    /// Taylor features of degree `degree` (1 ≤ degree ≤ 6), factor `factor` (< 1_000).
    public static func taylorFactor(degree: Int, factor: Int) -> UInt64 { UInt64(1_000 * degree + factor) }
    /// Column indices of Taylor factor (degree, factor).
    public static func taylorColumns(degree: Int, factor: Int) -> UInt64 { taylorFactor(degree: degree, factor: factor) + (1 << 32) }
    /// PolySketch node `node` of level `level` for degree `degree` (< 2¹⁶ nodes, < 256 levels,
    /// degree < 2¹⁶); a node uses this stream and the next three.
    public static func polySketch(degree: Int, level: Int, node: Int) -> UInt64 {
        (5 << 44) + (UInt64(degree & 0xFFFF) << 26) + (UInt64(level & 0xFF) << 18) + (UInt64(node & 0xFFFF) << 2)
    }
    /// First stream of randomly pivoted Cholesky's pivot draws (stream = this + round).
    public static let pivotDrawsBase: UInt64 = 1 << 41
    /// Randomly pivoted Cholesky's pivot draws in round `round`.
    public static func pivotDraws(round: Int) -> UInt64 { pivotDrawsBase + UInt64(round) }
}
