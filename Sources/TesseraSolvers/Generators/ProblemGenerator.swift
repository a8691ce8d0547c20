#if canImport(Glibc)
import Glibc
#endif
import TesseraCore
import TesseraKernels
import TesseraSketch
import TesseraTiles

/// A test problem with a known solution.
public struct GeneratedProblem: Sendable {
    public let problem: TallProblem
    public let matrix: TiledMatrix
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
/// U = G·R_G⁻¹ for a Gaussian G (R_G by randomized Cholesky-QR, tile by tile), V from QR of a
/// Gaussian d×d; everything from Philox, so a seed gives the same problem on any machine.
public enum ProblemGenerator {
    /// A ∈ ℝ^{n×d} whose rows have norm `rowNorm` in Philox-random directions: entry (r, c) is
    /// rowNorm·g(r·d + c)/‖g(r·d ..< r·d + d)‖ for the normal stream `stream` of `seed` (each row's
    /// length drawn once). The attention test problems of the CLI, the demo and the benchmarks.
    public static func attentionMatrix(rows n: Int, cols d: Int, rowNorm: Double = 1, seed: UInt64, stream: UInt64,
                                       engine: Engine, tileRows: Int? = nil) throws(TesseraError) -> TiledMatrix {
        guard rowNorm > 0, rowNorm.isFinite else { throw .invalidArgument("--row-norm must be positive (got \(rowNorm))") }
        let rng = Philox4x32(seed: seed)
        let layout = try TileLayout(rows: n, cols: d, tileRows: tileRows ?? engine.recommendedTileRows(rows: n, cols: d).tileRows)
        let lengths = (0..<n).map { r in
            (0..<d).reduce(0.0) { s, k in let v = rng.normal(index: UInt64(r * d + k), stream: stream); return s + v * v }.squareRoot()
        }
        return try TiledMatrix(layout: layout, engine: engine) { r, c in
            rowNorm * rng.normal(index: UInt64(r * d + c), stream: stream) / lengths[r]
        }
    }

    public static func make(_ problem: TallProblem, rows n: Int, cols d: Int, condition kappa: Double, power j: Int,
                            seed: UInt64, engine: Engine, tileRows: Int? = nil) throws(TesseraError) -> GeneratedProblem {
        guard n >= d, d >= 1 else { throw .invalidArgument("--rows must be at least --cols (got \(n) × \(d))") }
        guard kappa >= 1, kappa.isFinite else { throw .invalidArgument("--condition must be ≥ 1 (got \(kappa))") }
        try Problem.tall(problem, power: j).validate()
        let rng = Philox4x32(seed: seed)
        let layout = try TileLayout(rows: n, cols: d, tileRows: tileRows ?? engine.recommendedTileRows(rows: n, cols: d).tileRows)
        let g = try TiledMatrix(layout: layout, engine: engine) { r, c in rng.normal(index: UInt64(r * d + c), stream: PhiloxStream.generatorGaussian) }
        let rg = try TriangularFactor.randomizedCholeskyQR(g, distribution: SketchDistribution(kind: .sparseSign, rows: min(n, 4 * d + 8), seed: seed), engine: engine).r
        let v = try randomOrthogonal(d, rng: rng)
        let sigma = (0..<d).map { d == 1 ? 1.0 : pow(kappa, -Double($0) / Double(d - 1)) }
        // W = R_G⁻¹·Σ·Vᵀ, so A = G·W = U·Σ·Vᵀ.
        var w = [Double](repeating: 0, count: d * d)
        for c in 0..<d { for r in 0..<d { w[r + c * d] = sigma[r] * v[c + r * d] } }
        for c in 0..<d {
            var column = Array(w[(c * d)..<((c + 1) * d)])
            rg.solve(&column)
            for r in 0..<d { w[r + c * d] = column[r] } }
        let a = try TiledMatrix(layout: layout, engine: engine)
        try g.multiplyRight(by: w, into: a, engine: engine)
        let x = (0..<d).map { rng.normal(index: UInt64($0), stream: PhiloxStream.generatorSolution) }
        let vtx = (0..<d).map { i in (0..<d).reduce(0.0) { $0 + v[$1 + i * d] * x[$1] } }   // Vᵀx
        func vTimes(_ y: [Double]) -> [Double] { (0..<d).map { r in (0..<d).reduce(0.0) { $0 + v[r + $1 * d] * y[$1] } } }
        switch problem {
        case .gram:
            let b = vTimes((0..<d).map { pow(sigma[$0], 2 * Double(j)) * vtx[$0] })
            return GeneratedProblem(problem: .gram, matrix: a, rhs: b, solution: x, singularValues: sigma, power: j)
        case .lstsq:
            var coefficients = (0..<d).map { pow(sigma[$0], 2 * Double(j) + 1) * vtx[$0] }   // U·this = A(AᵀA)^j x
            rg.solve(&coefficients)
            let signal = try g.multiply(coefficients, engine: engine).toArray()
            let noise = (0..<n).map { rng.normal(index: UInt64($0), stream: PhiloxStream.generatorNoise) }
            var ut = try g.transposeMultiply(TiledVector(noise, layout: layout, engine: engine), engine: engine)
            rg.solveTransposed(&ut)
            rg.solve(&ut)
            let projection = try g.multiply(ut, engine: engine).toArray()
            let perpendicular = noise.plus(-1, projection)
            let scale = 0.5 * signal.norm2 / max(perpendicular.norm2, .leastNormalMagnitude)
            let b = signal.plus(scale, perpendicular)
            return GeneratedProblem(problem: .lstsq, matrix: a, rhs: b, solution: x, singularValues: sigma, power: j)
        }
    }

    /// A d×d orthogonal matrix: Q of a Gaussian matrix (column-major).
    static func randomOrthogonal(_ d: Int, rng: Philox4x32) throws(TesseraError) -> [Double] {
        let gaussian = (0..<(d * d)).map { rng.normal(index: UInt64($0), stream: PhiloxStream.generatorOrthogonal) }
        return try LAPACK.orthogonalQ(gaussian, order: d)
    }
}
