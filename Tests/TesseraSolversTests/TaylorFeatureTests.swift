import XCTest
import Tessera
import TesseraTestSupport
#if canImport(Glibc)
import Glibc
#endif

final class TaylorFeatureTests: XCTestCase {
    /// E[z_ℓ(a)·z_ℓ(b)] = ⟨a, b⟩^ℓ: averaged over 300 seeds, within 5 standard errors, ℓ = 2, 3.
    func testPolynomialSketchIsUnbiased() throws {
        let engine = try Engine(threads: 2)
        let rowA = [0.5, -0.3, 0.2, 0.6], rowB = [0.4, 0.1, -0.5, 0.5]
        let inner = zip(rowA, rowB).map { $0 * $1 }.reduce(0, +)
        let a = try TiledMatrix(layout: TileLayout(rows: 2, cols: 4, tileRows: 2), engine: engine) { r, c in r == 0 ? rowA[c] : rowB[c] }
        var samples: [[Double]] = [[], [], [], []]
        for seed in 0..<300 {
            let f = try TaylorFeatures(matrix: a, budget: 60, seed: UInt64(seed), engine: engine)
            var offset = 1 + 4
            for l in 2..<min(4, f.perDegree.count) {
                var dot = 0.0
                for c in offset..<(offset + f.perDegree[l]) { dot += f.features[0 + c * 2] * f.features[1 + c * 2] }
                samples[l].append(dot * TaylorFeatures.factorial(l))
                offset += f.perDegree[l]
            }
        }
        for l in 2...3 {
            let s = samples[l], mean = s.reduce(0, +) / Double(s.count)
            let sd = (s.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(s.count - 1)).squareRoot()
            XCTAssertEqual(mean, pow(inner, Double(l)), accuracy: 5 * sd / Double(s.count).squareRoot() + 1e-12, "degree \(l)")
        }
    }

    /// With enough features, ΦΦᵀ + λI is a spectral approximation of K + λI on small n: the
    /// eigenvalues of (K + λI)^{-1/2}(ΦΦᵀ + λI)(K + λI)^{-1/2} lie in [0.5, 1.5].
    func testFeaturesGiveASpectralApproximationOnSmallN() throws {
        let engine = try Engine(threads: 2)
        let n = 80, d = 3, lambda = 0.1
        let g = Philox4x32(seed: 3)
        let a = try TiledMatrix(layout: TileLayout(rows: n, cols: d, tileRows: 40), engine: engine) { r, c in
            0.6 * g.normal(index: UInt64(r * d + c), stream: 0) / 3.0.squareRoot()
        }
        let f = try TaylorFeatures(matrix: a, budget: 4_000, seed: 1, engine: engine)
        let kernel = try KernelOperator(matrix: a, engine: engine, ridge: lambda)
        var k = try kernel.columns(Array(0..<n))
        for i in 0..<n { k[i + i * n] += lambda }
        var p = [Double](repeating: 0, count: n * n)
        BLAS.gemm(.none, .transpose, m: n, n: n, k: f.count, alpha: 1, a: f.features, lda: n, b: f.features, ldb: n, beta: 0, c: &p, ldc: n)
        for i in 0..<n { p[i + i * n] += lambda }
        try LAPACK.potrf(upper: true, n: n, a: &k, lda: n)           // K + λI = UᵀU
        for j in 0..<n { for i in (j + 1)..<n { k[i + j * n] = 0 } }
        BLAS.trsm(left: true, .upper, .transpose, m: n, n: n, alpha: 1, t: k, ldt: n, b: &p, ldb: n)  // U⁻ᵀP
        BLAS.trsm(left: false, .upper, .none, m: n, n: n, alpha: 1, t: k, ldt: n, b: &p, ldb: n)     // U⁻ᵀPU⁻¹
        let eig = SymmetricEigenvalues.jacobi(p, order: n)
        XCTAssertGreaterThanOrEqual(eig.min() ?? 0, 0.5, "\(eig.min() ?? 0)")
        XCTAssertLessThanOrEqual(eig.max() ?? 9, 1.5, "\(eig.max() ?? 0)")
    }

    /// The paper's method reaches 1e-10 on a well-posed problem; the surrogate alone does not.
    func testPaperMethodConvergesAndSurrogateShowsItsTrueResidual() throws {
        let engine = try Engine(threads: 2)
        let n = 800, d = 4
        let g = Philox4x32(seed: 6)
        let a = try TiledMatrix(layout: TileLayout(rows: n, cols: d, tileRows: 200), engine: engine,
                                value: Reference.rowsOfNorm(1, cols: d, seed: 6))
        let b = (0..<n).map { g.normal(index: UInt64($0), stream: 1) }
        var options = SolveOptions()
        options.rank = 600
        options.method = .paper
        let paper = try AttentionSolver(matrix: a, engine: engine, problem: .attention(ridge: 0.1), options: options).solve(b)
        XCTAssertLessThanOrEqual(paper.report.relativeResidual, 1e-10, paper.report.text)
        options.method = .surrogate
        let surrogate = try AttentionSolver(matrix: a, engine: engine, problem: .attention(ridge: 0.1), options: options).solve(b)
        XCTAssertGreaterThan(surrogate.report.relativeResidual, 1e-6, surrogate.report.text)
        XCTAssertFalse(surrogate.report.converged)
    }
}
