import TesseraCore
import TesseraKernels
import TesseraSketch
import TesseraTiles

/// A triangular factor R of A (RᵀR ≈ AᵀA) and how it was made: from a sketch (QR of SA, the
/// sketch plus 2sd² flops), by randomized Cholesky-QR (plus 2nd²) or by Cholesky of AᵀA (nd²).
/// The constructors throw `invalidInput`/`numerical` for a numerically rank-deficient R (naming
/// the estimated rank), `invalidArgument` for a sketch with fewer than d rows.
public struct TriangularFactor: Sendable {
    public enum Origin: String, Sendable {
        /// R of QR(SA): AR⁻¹ has condition ≈ (1+ε)/(1−ε).
        case sketch
        /// Exact R of A by randomized Cholesky-QR.
        case randomizedCholeskyQR = "randomized-cholesky-qr"
        /// R = chol(AᵀA).
        case gramCholesky = "gram-cholesky"
        /// R = chol(G₃₂), G₃₂ ≈ AᵀA formed in float32 (`Precision.mixed`): a preconditioner.
        case float32Gram = "float32-gram-cholesky"
        /// R of a Householder QR of A by tiles, then its SVD: the rank-revealing route of a
        /// rank-deficient A (`TruncatedSVDFactor`).
        case householderSVD = "householder-qr-svd"
    }

    public let r: UpperTriangular
    public let origin: Origin
    /// The sketch behind it, when there is one.
    public let sketch: SketchOperator?
    /// QR of SA (reflectors and τ), kept for the sketch-and-solve start x₀ = R⁻¹·(QᵀSb)[0..<d].
    let sketchQR: (factors: [Double], tau: [Double])?
    /// Estimated κ₂(R) ≈ κ₂(A), by Lanczos on RᵀR and its inverse (`ConditionEstimate`).
    public let conditionEstimate: Double
    public let seconds: (sketch: Double, factor: Double)
    /// R's dominant right singular vector from the same Lanczos run, when it was computed.
    var dominantVector: [Double]? = nil

    /// Refuses a numerically rank-deficient R with a message naming the estimated rank.
    static func checkRank(_ r: UpperTriangular, what: String, asInputError: Bool = true, engine: Engine) throws(TesseraError) -> ConditionEstimate {
        let rcond = try r.reciprocalCondition()
        let d = r.order
        if !(rcond > Double(d) * 1e-15) {
            let rank = r.estimatedRank(relativeTolerance: 1e-13)
            let condition = rcond > 0 ? Format.sci(1 / rcond) : "∞"
            // The message names the cause: dependent columns when the rank guess finds them, else
            // a full-rank A too ill-conditioned for float64 (no column to remove).
            let message = rank < d
                ? "A is numerically rank deficient: estimated rank \(rank) of \(d) columns (cond(R) ≈ \(condition) from \(what)); remove or combine dependent columns"
                : "A is too ill-conditioned for a full-rank solve in float64: every column counts, but cond(R) ≈ \(condition) (from \(what)) is beyond 1/(d·1e-15) = \(Format.sci(1 / (Double(d) * 1e-15))); allow the minimum-norm solution, which drops σ ≤ rcond·σ₁ (--rank-deficient min-norm, the default)"
            throw asInputError ? .rankDeficient(message) : .numerical(message)
        }
        return try ConditionEstimate.of(r, engine: engine)
    }

    /// R from Householder QR of SA, for the sketch `distribution` (s ≥ d rows).
    public static func sketched(_ a: TiledMatrix, distribution: SketchDistribution, engine: Engine) throws(TesseraError) -> TriangularFactor {
        let d = a.cols, s = distribution.rows
        guard s >= d else { throw .invalidArgument("the sketch needs at least d = \(d) rows (got \(s)); raise --sketch-size-factor") }
        SolveMonitor.enter(.sketch)
        var clock = Stopwatch()
        let op = try distribution.sample(inputRows: a.rows)
        var sa = try op.apply(to: a, engine: engine)
        let sketchSeconds = clock.lap()
        SolveMonitor.enter(.factor)
        let tau = try LAPACK.qrFactor(&sa, rows: s, cols: d)
        let r = UpperTriangular(upperOf: sa, order: d, ld: s)
        let cond = try checkRank(r, what: "QR of the \(s)×\(d) sketch SA", engine: engine)
        return TriangularFactor(r: r, origin: .sketch, sketch: op, sketchQR: (sa, tau), conditionEstimate: cond.condition,
                                seconds: (sketchSeconds, clock.lap()), dominantVector: cond.vector)
    }

    /// Exact R of A by randomized Cholesky-QR: R_s from QR(SA), G = (AR_s⁻¹)ᵀ(AR_s⁻¹) in one tiled
    /// pass (AR_s⁻¹ is well conditioned, so its Gram is safe), chol(G) = R_BᵀR_B, R = R_B·R_s.
    /// Cost: the sketch + 2nd² flops.
    public static func randomizedCholeskyQR(_ a: TiledMatrix, distribution: SketchDistribution, engine: Engine) throws(TesseraError) -> TriangularFactor {
        let sketch = try sketched(a, distribution: distribution, engine: engine)
        var clock = Stopwatch()
        let d = a.cols
        var g = try a.gram(engine: engine, rightInverse: sketch.r.values)
        try LAPACK.choleskyUpper(&g, order: d)
        let rb = UpperTriangular(upperOf: g, order: d, ld: d)
        let r = rb.times(sketch.r)
        let cond = try checkRank(r, what: "randomized Cholesky-QR", engine: engine)
        return TriangularFactor(r: r, origin: .randomizedCholeskyQR, sketch: sketch.sketch, sketchQR: nil,
                                conditionEstimate: cond.condition, seconds: (sketch.seconds.sketch, sketch.seconds.factor + clock.lap()),
                                dominantVector: cond.vector)
    }

    /// R = chol(AᵀA) from the tiled Gram matrix: n·d² flops. Fails (as `numerical`) when AᵀA is
    /// not numerically positive definite, i.e. κ(A) ≳ 10⁸; callers then use randomized Cholesky-QR.
    public static func gramCholesky(_ a: TiledMatrix, engine: Engine) throws(TesseraError) -> TriangularFactor {
        try choleskyOfGram(a, origin: .gramCholesky, what: "Cholesky of AᵀA", engine: engine) { () throws(TesseraError) in try a.gram(engine: engine) }
    }

    /// R = chol(G₃₂) with G₃₂ ≈ AᵀA from float32 products (`TiledMatrix.gramInSinglePrecision`):
    /// RᵀR = AᵀA + E with ‖E‖ ≲ δ‖A‖², δ ≈ r·u₃₂ (r ≤ 2,048 the block height, u₃₂ = 6e-8), so
    /// the eigenvalues of R⁻ᵀAᵀAR⁻¹ lie in 1 ± δκ(A)²: a preconditioner that brings CG to the
    /// float64 tolerance in a few passes while κ(A) ≲ 10³, and useless far beyond. Cost n·d²
    /// float32 flops (half the time of the float64 Gram) and d³/3. Throws `numerical` when G₃₂ is
    /// not numerically positive definite.
    public static func float32Gram(_ a: TiledMatrix, engine: Engine) throws(TesseraError) -> TriangularFactor {
        try choleskyOfGram(a, origin: .float32Gram, what: "Cholesky of the float32 Gram matrix", engine: engine) { () throws(TesseraError) in
            try a.gramInSinglePrecision(engine: engine)
        }
    }

    /// R = chol(G) for the d × d Gram matrix `gram()` forms (timed as the factor phase), with its
    /// rank check; `what` names the factorization in a failure's message.
    private static func choleskyOfGram(_ a: TiledMatrix, origin: Origin, what: String, engine: Engine,
                                       gram: () throws(TesseraError) -> [Double]) throws(TesseraError) -> TriangularFactor {
        SolveMonitor.enter(.factor)
        var clock = Stopwatch()
        let d = a.cols
        var g = try gram()
        try LAPACK.choleskyUpper(&g, order: d)
        let r = UpperTriangular(upperOf: g, order: d, ld: d)
        let cond = try checkRank(r, what: what, asInputError: false, engine: engine)
        return TriangularFactor(r: r, origin: origin, sketch: nil, sketchQR: nil, conditionEstimate: cond.condition,
                                seconds: (0, clock.lap()), dominantVector: cond.vector)
    }

    /// The triangular face of a rank-revealing factor (exact R; κ of the kept part as the
    /// condition estimate), so reports and verification treat it like any exact factor.
    static func rankRevealing(_ svd: TruncatedSVDFactor) -> TriangularFactor {
        TriangularFactor(r: svd.r, origin: .householderSVD, sketch: nil, sketchQR: nil, conditionEstimate: svd.rank > 0 ? svd.keptCondition : .nan,
                         seconds: (0, svd.seconds))
    }

    /// The sketch-and-solve point argmin ‖SAy − Sb‖ = R⁻¹·(QᵀSb)[0..<d], or zero without a sketch.
    func sketchAndSolve(_ b: [Double]) throws(TesseraError) -> [Double] {
        let d = r.order
        guard let sketch, let qr = sketchQR else { return [Double](repeating: 0, count: d) }
        var sb = try sketch.apply(toVector: b)
        try LAPACK.applyQTransposed(factors: qr.factors, tau: qr.tau, rows: sb.count, reflectors: d, to: &sb)
        var y = Array(sb.prefix(d))
        r.solve(&y)
        return y
    }
}
