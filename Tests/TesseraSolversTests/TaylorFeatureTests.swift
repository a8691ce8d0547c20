import XCTest
import Tessera
import TesseraTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The closed-form Taylor features and the reduction of attention to a gram problem:
/// exp(AAᵀ) = ΦΦᵀ with Φ = [A^{⊗0}, A^{⊗1}, A^{⊗2}/√2!, …], so (exp(AAᵀ))x = b is the gram
/// problem (j = 1) of the tall matrix Φᵀ.
final class TaylorFeatureTests: XCTestCase {
    static func matrix(rows n: Int, cols d: Int, norm: Double, seed: UInt64, engine: Engine) throws -> TiledMatrix {
        try TiledMatrix(layout: TileLayout(rows: n, cols: d, tileRows: max(1, n / 2)), engine: engine,
                        value: Reference.rowsOfNorm(norm, cols: d, seed: seed))
    }

    /// The explicit tensor features a^{⊗ℓ}/√ℓ! (d^ℓ columns) of one row.
    static func explicitTensor(_ a: [Double], degree l: Int) -> [Double] {
        var t = [1.0]
        for _ in 0..<l { t = t.flatMap { v in a.map { v * $0 } } }
        let scale = 1 / TaylorFeatures.factorial(l).squareRoot()
        return t.map { $0 * scale }
    }

    /// Each exact layer's Gram equals that of the explicit tensor features A^{⊗ℓ}/√ℓ! (ℓ ≤ 4,
    /// d = 3), with C(d+ℓ−1, ℓ) columns instead of d^ℓ; the residual diagonal is
    /// Σ_{ℓ>q}‖aᵢ‖^{2ℓ}/ℓ!.
    func testExactLayersMatchExplicitTensorFeatures() throws {
        let engine = try Engine(threads: 2)
        let n = 7, d = 3
        let a = try Self.matrix(rows: n, cols: d, norm: 0.9, seed: 4, engine: engine)
        let budget = TaylorFeatures.exactColumns(through: 4, cols: d)
        XCTAssertEqual(budget, 1 + 3 + 6 + 10 + 15)
        let f = try TaylorFeatures(matrix: a, budget: budget, seed: 0, engine: engine)
        XCTAssertEqual(f.exactDegree, 4)
        XCTAssertEqual(f.perDegree, [1, 3, 6, 10, 15])
        let values = a.toColumnMajorArray(), phi = f.features
        let rows = (0..<n).map { i in (0..<d).map { values[i + $0 * n] } }
        var offset = 0
        for l in 0...4 {
            let explicit = rows.map { Self.explicitTensor($0, degree: l) }
            for i in 0..<n { for j in 0..<n {
                let e = zip(explicit[i], explicit[j]).map { $0 * $1 }.reduce(0, +)
                let s = (offset..<(offset + f.perDegree[l])).map { phi[i + $0 * n] * phi[j + $0 * n] }.reduce(0, +)
                XCTAssertEqual(s, e, accuracy: 1e-14, "degree \(l), (\(i), \(j))")
            } }
            offset += f.perDegree[l]
        }
        let diagonal = rows.map { exp($0.map { $0 * $0 }.reduce(0, +)) }
        let residual = f.residualDiagonal(diagonal)
        for i in 0..<n {
            let r = rows[i].map { $0 * $0 }.reduce(0, +)
            let tail = (5...30).map { pow(r, Double($0)) / TaylorFeatures.factorial($0) }.reduce(0, +)
            XCTAssertEqual(residual[i], tail, accuracy: 1e-14)
        }
    }

    /// The reduction: with layers to degree 10 (286 columns, tail < 10⁻¹⁵ at ‖aᵢ‖ = 0.4),
    /// ΦΦᵀ = exp(AAᵀ) entrywise, and the gram solver (j = 1) on the 286 × 8 matrix Φᵀ solves
    /// exp(AAᵀ)x = b: the same x as the attention solver's dense Cholesky (λ = 0).
    func testAttentionIsTheGramProblemOfPhiTransposed() throws {
        let engine = try Engine(threads: 2)
        let n = 8, d = 3
        let a = try Self.matrix(rows: n, cols: d, norm: 0.4, seed: 9, engine: engine)
        let f = try TaylorFeatures(matrix: a, budget: TaylorFeatures.exactColumns(through: 10, cols: d), seed: 0, engine: engine)
        XCTAssertEqual(f.count, 286)
        let phi = f.features, values = a.toColumnMajorArray()
        for i in 0..<n { for j in 0..<n {
            let k = exp((0..<d).map { values[i + $0 * n] * values[j + $0 * n] }.reduce(0, +))
            let s = (0..<f.count).map { phi[i + $0 * n] * phi[j + $0 * n] }.reduce(0, +)
            XCTAssertEqual(s, k, accuracy: 1e-14 * k)
        } }
        let phiT = try TiledMatrix(layout: TileLayout(rows: f.count, cols: n, tileRows: 100), engine: engine) { r, c in phi[c + r * n] }
        let g = Philox4x32(seed: 2)
        let b = (0..<n).map { g.normal(index: UInt64($0), stream: 1) }
        let viaGram = try TallSolver(matrix: phiT, engine: engine, problem: .gram(power: 1)).solve(b)
        var options = SolveOptions()
        options.method = .direct
        let direct = try AttentionSolver(matrix: a, engine: engine, problem: .attention(ridge: 0), options: options).solve(b)
        let scale = direct.x.map(abs).max() ?? 1
        for (u, v) in zip(viaGram.x, direct.x) { XCTAssertEqual(u, v, accuracy: 1e-7 * scale) }
    }

    /// A budget above the exact layers buys PolySketch features of the next degrees.
    func testBudgetAboveTheExactLayersIsSketched() throws {
        let engine = try Engine(threads: 2)
        let a = try Self.matrix(rows: 50, cols: 4, norm: 1.2, seed: 3, engine: engine)
        let f = try TaylorFeatures(matrix: a, budget: 15 + 16, sketched: true, seed: 1, engine: engine)
        XCTAssertEqual(f.exactDegree, 2)
        XCTAssertGreaterThan(f.degree, 2)
        XCTAssertEqual(f.perDegree.prefix(3), [1, 4, 10])
        XCTAssertLessThanOrEqual(f.count, 31)
        XCTAssertGreaterThan(f.count, 15)
        let exactOnly = try TaylorFeatures(matrix: a, budget: 15 + 16, sketched: false, seed: 1, engine: engine)
        XCTAssertEqual(exactOnly.count, 15)
    }

    /// The paper's method reaches 1e-10 on an easy problem (d = 4, λ = 0.1) with Richardson; the
    /// surrogate alone does not.
    func testPaperMethodConvergesAndSurrogateShowsItsTrueResidual() throws {
        let engine = try Engine(threads: 2)
        let n = 800, d = 4
        let g = Philox4x32(seed: 6)
        let a = try Self.matrix(rows: n, cols: d, norm: 1, seed: 6, engine: engine)
        let b = (0..<n).map { g.normal(index: UInt64($0), stream: 1) }
        var options = SolveOptions()
        options.method = .paper
        let paper = try AttentionSolver(matrix: a, engine: engine, problem: .attention(ridge: 0.1), options: options).solve(b)
        XCTAssertLessThanOrEqual(paper.report.relativeResidual, 1e-10, paper.report.text)
        XCTAssertTrue(paper.report.iteration?.hasPrefix("richardson (") ?? false, paper.report.text)
        options.method = .surrogate
        let surrogate = try AttentionSolver(matrix: a, engine: engine, problem: .attention(ridge: 0.1), options: options).solve(b)
        XCTAssertGreaterThan(surrogate.report.relativeResidual, 1e-6, surrogate.report.text)
        XCTAssertFalse(surrogate.report.converged)
    }
}
