import XCTest
import Tessera
import TesseraTestSupport

/// The paper's attention method on realistic cases (issue 16): with the closed-form Taylor layers
/// and the residual kernel's diagonal as shift it converges to 10⁻¹⁰ where it used to stop at the
/// cap (d = 32, norm 1, λ = 10⁻³), on the hard kind (d = 48, rows of norm 1.1), and at
/// λ = 0 with a well-posed K; a singular K at λ = 0 (duplicated rows) ends unconverged with a
/// ridge hint. Residuals are checked against an independent dense oracle (libm's exp).
final class PaperAttentionRealisticTests: XCTestCase {
    func solve(_ a: TiledMatrix, _ b: [Double], ridge: Double, method: SolveMethod = .paper, cap: Int = 500, engine: Engine) throws -> Solution {
        var options = SolveOptions()
        options.method = method
        options.tolerance = 1e-10
        options.maxIterations = cap
        return try AttentionSolver(matrix: a, engine: engine, problem: .attention(ridge: ridge), options: options)
            .solve(RightHandSides(vector: b, problem: .attention(ridge: ridge), rows: a.rows, cols: a.cols))[0]
    }

    func oracle(_ a: TiledMatrix, _ b: [Double], ridge: Double, _ x: [Double]) -> Double {
        DenseKernel.product(a.toColumnMajorArray(), rows: a.rows, cols: a.cols, ridge: ridge, x: x).plus(-1, b).norm2 / b.norm2
    }

    func problem(rows n: Int, cols d: Int, norm: Double, seed: UInt64, engine: Engine) throws -> (TiledMatrix, [Double]) {
        let g = Philox4x32(seed: seed)
        let a = try TiledMatrix(layout: TileLayout(rows: n, cols: d, tileRows: 300), engine: engine,
                                value: Reference.rowsOfNorm(norm, cols: d, seed: seed))
        return (a, (0..<n).map { g.normal(index: UInt64($0), stream: 1) })
    }

    /// d = 32, norm 1, λ = 10⁻³ (the case that ended at the cap): converges within 60 iterations.
    func testPaperMethodAtD32Converges() throws {
        let engine = try Engine(threads: 2)
        let (a, b) = try problem(rows: 1_200, cols: 32, norm: 1, seed: 31, engine: engine)
        let paper = try solve(a, b, ridge: 1e-3, cap: 60, engine: engine)
        XCTAssertTrue(paper.report.converged, paper.report.text)
        XCTAssertEqual(paper.report.status, .converged)
        XCTAssertLessThanOrEqual(oracle(a, b, ridge: 1e-3, paper.x), 1e-10 * 1.01, paper.report.text)
        XCTAssertNotNil(paper.report.iteration)
    }

    /// The hard kind: d = 48, rows of norm 1.1, λ = 10⁻³ (low-rank mode; at n = 1,000 the
    /// default budget keeps degrees 0 and 1, as degree 2's 1,176 columns exceed n/2: κ ≈ 12 and
    /// 128 Richardson steps measured at n = 1,500).
    func testPaperMethodOnTheHardCaseD48Norm11() throws {
        let engine = try Engine(threads: 2)
        let (a, b) = try problem(rows: 1_000, cols: 48, norm: 1.1, seed: 48, engine: engine)
        let paper = try solve(a, b, ridge: 1e-3, engine: engine)
        XCTAssertTrue(paper.report.converged, paper.report.text)
        XCTAssertLessThanOrEqual(paper.report.iterations.reduce(0, +), 200, paper.report.text)
        XCTAssertLessThanOrEqual(oracle(a, b, ridge: 1e-3, paper.x), 1e-10 * 1.01, paper.report.text)
        XCTAssertTrue(paper.report.lowRank?.kind.contains("low-rank") ?? false, paper.report.text)
    }

    /// The faithful mode (--rank = n: exact layers, then PolySketch to m = n columns, the n × n
    /// factor of ΦΦᵀ + D) on n = 300, d = 6, norm 1.2, λ = 10⁻⁴: converges, and says so.
    func testFaithfulModeConverges() throws {
        let engine = try Engine(threads: 2)
        let (a, b) = try problem(rows: 300, cols: 6, norm: 1.2, seed: 66, engine: engine)
        var options = SolveOptions()
        options.method = .paper
        options.rank = 300
        let solver = try AttentionSolver(matrix: a, engine: engine, problem: .attention(ridge: 1e-4), options: options)
        XCTAssertTrue(solver.plan.faithful)
        let paper = try solver.solve(b)
        XCTAssertTrue(paper.report.converged, paper.report.text)
        XCTAssertTrue(paper.report.reason.contains("faithful mode"), paper.report.reason)
        XCTAssertTrue(paper.report.lowRank?.kind.contains("faithful n × n factor") ?? false, paper.report.text)
        XCTAssertLessThanOrEqual(oracle(a, b, ridge: 1e-4, paper.x), 1e-10 * 1.01, paper.report.text)
        options.rank = 100
        XCTAssertFalse(try AttentionSolver(matrix: a, engine: engine, problem: .attention(ridge: 1e-4), options: options).plan.faithful)
    }

    /// λ = 0 with a well-posed K (b = K·x_true, d = 8, norm 0.8): converges.
    func testPaperMethodAtZeroRidgeWithWellPosedK() throws {
        let engine = try Engine(threads: 2)
        let (a, v) = try problem(rows: 600, cols: 8, norm: 0.8, seed: 80, engine: engine)
        let b = DenseKernel.product(a.toColumnMajorArray(), rows: 600, cols: 8, ridge: 0, x: v)
        let paper = try solve(a, b, ridge: 0, engine: engine)
        XCTAssertTrue(paper.report.converged, paper.report.text)
        XCTAssertLessThanOrEqual(oracle(a, b, ridge: 0, paper.x), 1e-10 * 1.01, paper.report.text)
    }

    /// Duplicated rows with λ = 0: K is singular and b (generic) is not in its range: not
    /// converged, the best x kept (residual ≤ 1), and a note that suggests a ridge.
    func testSingularKAtZeroRidgeEndsUnconvergedWithARidgeHint() throws {
        let engine = try Engine(threads: 2)
        let n = 400, d = 6
        let rows = Reference.rowsOfNorm(0.8, cols: d, seed: 5)
        let a = try TiledMatrix(layout: TileLayout(rows: n, cols: d, tileRows: 100), engine: engine) { r, c in rows(r % (n / 2), c) }
        let g = Philox4x32(seed: 5)
        let b = (0..<n).map { g.normal(index: UInt64($0), stream: 1) }
        let paper = try solve(a, b, ridge: 0, cap: 100, engine: engine)
        XCTAssertFalse(paper.report.converged, paper.report.text)
        XCTAssertLessThanOrEqual(paper.report.relativeResidual, 1, paper.report.text)
        XCTAssertTrue(paper.report.notes.contains { $0.contains("--ridge") }, paper.report.text)
    }
}
