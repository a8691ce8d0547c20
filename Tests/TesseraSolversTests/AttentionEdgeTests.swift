import XCTest
import Tessera
import TesseraTestSupport

/// Preconditioner edges of attention `pcg`: a low-rank factor that captures K whole (rank = n,
/// and n = 1 with the default rank) leaves no residual trace, so with λ = 0 the Woodbury shift
/// would be 0 and P⁻¹ undefined; the shift floor keeps them solvable like rank n − 1 is.
final class AttentionEdgeTests: XCTestCase {
    func testAFactorOfFullRankAndASingleRowSolveWithoutARidge() throws {
        let engine = try Engine(threads: 2)
        let n = 120, d = 4
        let a = try TiledMatrix(layout: try TileLayout(rows: n, cols: d, tileRows: 64), engine: engine,
                                value: Reference.rowsOfNorm(1, cols: d, seed: 41))
        let b = Reference.randomVector(count: n, seed: 42)
        var residuals: [Double] = []
        for rank in [n - 1, n] {
            var options = SolveOptions()
            options.method = .pcg
            options.rank = rank
            let s = try AttentionSolver(matrix: a, engine: engine, problem: .attention(ridge: 0), options: options).solve(b)
            XCTAssertGreaterThan(s.report.iterations.reduce(0, +), 0, "rank \(rank): it iterated")
            let dense = Reference.dense(rows: n, cols: d) { a[$0, $1] }
            let residual = DenseKernel.product(dense, rows: n, cols: d, ridge: 0, x: s.x).plus(-1, b).norm2 / b.norm2
            XCTAssertLessThan(residual, 1e-7, "rank \(rank): the dense residual")
            residuals.append(residual)
        }
        // K with λ = 0 is near singular here; rank n reaches what rank n − 1 reaches.
        XCTAssertLessThan(residuals[1], 10 * residuals[0] + 1e-12)
        let one = try TiledMatrix(layout: try TileLayout(rows: 1, cols: d, tileRows: 1), engine: engine) { _, j in 0.3 * Double(j + 1) }
        for method in [SolveMethod.pcg, .direct, .paper] {
            var options = SolveOptions()
            options.method = method
            let s = try AttentionSolver(matrix: one, engine: engine, problem: .attention(ridge: 0), options: options).solve([2])
            var squaredNorm = 0.0
            for j in 0..<d { squaredNorm += 0.09 * Double((j + 1) * (j + 1)) }
            let k = exp(squaredNorm)
            XCTAssertTrue(s.report.converged, "n = 1, \(method): \(s.report.text)")
            XCTAssertEqual(s.x[0], 2 / k, accuracy: 1e-9 * (2 / k), "n = 1, \(method)")
        }
    }
}
