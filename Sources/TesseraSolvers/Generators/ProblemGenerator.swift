#if canImport(Glibc)
import Glibc
#endif
import TesseraCore
import TesseraKernels
import TesseraTiles

/// A test problem with a known solution, A held as a tiled matrix (`ProblemGenerator.make`).
public struct GeneratedProblem: Sendable {
    public let problem: TallProblem
    public let matrix: TiledMatrix
    public let rhs: [Double]
    public let solution: [Double]
    public let singularValues: [Double]
    public let power: Int
}

/// What `ProblemGenerator.generate` returns: everything but A, which went to the sink.
public struct GeneratedAnswer: Sendable {
    public let problem: TallProblem
    public let rhs: [Double]
    public let solution: [Double]
    public let singularValues: [Double]
    public let power: Int
}

/// Builds A = UΣVᵀ ∈ ℝ^{n×d} with prescribed singular values σᵢ = κ^{−i/(d−1)} (1 down to 1/κ), so
/// the solution is known:
/// - gram: b = (AᵀA)^j x* = VΣ^{2j}Vᵀx*;
/// - lstsq: b = A(AᵀA)^j x* + r⊥ with r⊥ ⊥ range(A) (‖r⊥‖ = ½‖A(AᵀA)^j x*‖), so x* is the minimizer
///   and the optimal residual is not zero.
///
/// A = G·W with G ∈ ℝ^{n×d} Gaussian (a `GeneratedMatrix`: Philox normals, never stored) and
/// W = R_G⁻¹·Σ·Vᵀ, where R_G is the Cholesky factor of GᵀG (`gaussianFactor`), so U = G·R_G⁻¹ has
/// orthonormal columns; V is Q of a Gaussian d×d. Pass 1 over G's blocks forms GᵀG (and Gᵀ·noise
/// for lstsq), an ill-conditioned draw (n close to d) adds a refinement pass, and the last pass
/// forms each block of A = G·W and hands it to a `RowBlockSink` (a tiled matrix in `make`, a
/// file in the CLI) together with what b needs (G·R_G⁻¹·c for lstsq). Everything is from Philox
/// and every reduction runs over canonical blocks, so a seed gives the same bits on any thread
/// count. Cost: 2–3 passes of n·d normals, n·d²(+1 pass) for the Gram, 2n·d² for A.
/// Memory: O(b·d per worker + d² + n), plus the sink's (n·d for a tiled matrix).
/// Throws `invalidArgument` for n < d, d < 1, κ < 1 or a bad power, and `numerical` in the
/// (astronomically unlikely) case that the Gaussian draw is numerically singular.
public enum ProblemGenerator {
    /// κ₂(R_G) above which the factor is refined by a second Gram pass (Cholesky-QR2): the first
    /// pass leaves U = G·R_G⁻¹ orthonormal to about κ₂(G)²·ε.
    public static let refinementCondition = 8.0

    /// The generated problem with A filled into a tiled matrix of `tileRows` rows per tile.
    public static func make(_ problem: TallProblem, rows n: Int, cols d: Int, condition kappa: Double, power j: Int,
                            seed: UInt64, engine: Engine, tileRows: Int? = nil) throws(TesseraError) -> GeneratedProblem {
        try validate(problem, rows: n, cols: d, condition: kappa, power: j)
        let layout = try TileLayout(rows: n, cols: d, tileRows: tileRows ?? engine.recommendedTileRows(rows: n, cols: d).tileRows)
        let a = try TiledMatrix(layout: layout, engine: engine, zeroed: false)
        let answer = try generate(problem, rows: n, cols: d, condition: kappa, power: j, seed: seed, engine: engine, into: a)
        return GeneratedProblem(problem: problem, matrix: a, rhs: answer.rhs, solution: answer.solution,
                                singularValues: answer.singularValues, power: j)
    }

    /// The checks of `make` and `generate`, before any work.
    public static func validate(_ problem: TallProblem, rows n: Int, cols d: Int, condition kappa: Double, power j: Int) throws(TesseraError) {
        guard n >= d, d >= 1 else { throw .invalidArgument("--rows must be at least --cols (got \(n) × \(d))") }
        guard kappa >= 1, kappa.isFinite else { throw .invalidArgument("--condition must be ≥ 1 (got \(kappa))") }
        try Problem.tall(problem, power: j).validate()
    }

    /// Streams A into `sink` block by block and returns b, x* and σ.
    public static func generate(_ problem: TallProblem, rows n: Int, cols d: Int, condition kappa: Double, power j: Int,
                                seed: UInt64, engine: Engine, into sink: some RowBlockSink) throws(TesseraError) -> GeneratedAnswer {
        try validate(problem, rows: n, cols: d, condition: kappa, power: j)
        let rng = Philox4x32(seed: seed)
        let g = try GeneratedMatrix(rows: n, cols: d) { r, c in rng.normal(index: UInt64(r * d + c), stream: PhiloxStream.generatorGaussian) }
        let noise = problem == .lstsq ? (0..<n).map { rng.normal(index: UInt64($0), stream: PhiloxStream.generatorNoise) } : []
        let (rg, gtNoise) = try gaussianFactor(g, noise: noise, engine: engine)
        let v = try randomOrthogonal(d, rng: rng)
        let sigma = (0..<d).map { d == 1 ? 1.0 : pow(kappa, -Double($0) / Double(d - 1)) }
        // W = R_G⁻¹·Σ·Vᵀ, so A = G·W = U·Σ·Vᵀ.
        var w = [Double](repeating: 0, count: d * d)
        for c in 0..<d {
            var column = (0..<d).map { r in sigma[r] * v[c + r * d] }
            rg.solve(&column)
            for r in 0..<d { w[r + c * d] = column[r] }
        }
        let x = (0..<d).map { rng.normal(index: UInt64($0), stream: PhiloxStream.generatorSolution) }
        let vtx = (0..<d).map { i in (0..<d).reduce(0.0) { $0 + v[$1 + i * d] * x[$1] } }   // Vᵀx
        switch problem {
        case .gram:
            _ = try g.streamProduct(times: w, into: sink, engine: engine)
            let y = (0..<d).map { pow(sigma[$0], 2 * Double(j)) * vtx[$0] }
            let b = (0..<d).map { r in (0..<d).reduce(0.0) { $0 + v[r + $1 * d] * y[$1] } }   // V·Σ^{2j}·Vᵀx
            return GeneratedAnswer(problem: .gram, rhs: b, solution: x, singularValues: sigma, power: j)
        case .lstsq:
            var coefficients = (0..<d).map { pow(sigma[$0], 2 * Double(j) + 1) * vtx[$0] }   // G·this = A(AᵀA)^j x
            rg.solve(&coefficients)
            var ut = gtNoise                                   // G·this = G(GᵀG)⁻¹Gᵀ·noise
            rg.solveNormal(&ut)
            let p = try g.streamProduct(times: w, alsoTimes: coefficients + ut, columns: 2, into: sink, engine: engine)
            let b = rightHandSide(products: p, noise: noise)
            return GeneratedAnswer(problem: .lstsq, rhs: b, solution: x, singularValues: sigma, power: j)
        }
    }

    /// b = s + θ·(noise − π) for the signal s and projection π (rows of `products`, n × 2), with θ
    /// making ‖θ·(noise − π)‖ = ½‖s‖. Sequential sums: the same bits on any thread count.
    static func rightHandSide(products p: [Double], noise: [Double]) -> [Double] {
        var signal2 = 0.0, perpendicular2 = 0.0
        for (i, e) in noise.enumerated() {
            let s = p[2 * i], q = e - p[2 * i + 1]
            signal2 += s * s
            perpendicular2 += q * q
        }
        let scale = 0.5 * signal2.squareRoot() / max(perpendicular2.squareRoot(), .leastNormalMagnitude)
        return noise.enumerated().map { i, e in p[2 * i] + scale * (e - p[2 * i + 1]) }
    }

    /// R_G (R_GᵀR_G = GᵀG, upper triangular) and Gᵀ·noise (empty without noise): Cholesky of the
    /// Gram matrix of one pass, refined (R = R₂·R₁ with R₂ from the Gram of G·R₁⁻¹, a second
    /// pass) when κ₂(R₁) > `refinementCondition`.
    static func gaussianFactor(_ g: GeneratedMatrix, noise: [Double], engine: Engine) throws(TesseraError) -> (UpperTriangular, [Double]) {
        let d = g.cols
        let first = try g.gram(transposeTimes: noise, columns: noise.isEmpty ? 0 : 1, engine: engine)
        let r1 = try cholesky(first.gram, order: d)
        guard r1.condition2 > refinementCondition else { return (r1, first.transposeProduct) }
        let second = try g.gram(rightInverse: r1.values, engine: engine)
        return (try cholesky(second.gram, order: d).times(r1), first.transposeProduct)
    }

    static func cholesky(_ gram: [Double], order d: Int) throws(TesseraError) -> UpperTriangular {
        var a = gram
        do { try LAPACK.choleskyUpper(&a, order: d) } catch {
            throw .numerical("the generator's Gaussian matrix is numerically singular; choose another --seed or more --rows")
        }
        return UpperTriangular(values: a, order: d)
    }

    /// A d×d orthogonal matrix: Q of a Gaussian matrix (column-major).
    static func randomOrthogonal(_ d: Int, rng: Philox4x32) throws(TesseraError) -> [Double] {
        let gaussian = (0..<(d * d)).map { rng.normal(index: UInt64($0), stream: PhiloxStream.generatorOrthogonal) }
        return try LAPACK.orthogonalQ(gaussian, order: d)
    }
}
