import XCTest
import Tessera
import TesseraTestSupport

/// A solve on A used in place — a row-major view of a C-order buffer or a column-major view of a
/// Fortran-order one — gives the x of Tessera's own tiles for every tall problem and method: to
/// rounding (1e-13) for exact factors, whose sums run in another order, and within the tolerance
/// for iterations; the same bits on 1 and 2 workers within one order; likewise attention.
final class StorageOrderSolveTests: XCTestCase {
    private func relativeDifference(_ x: [Double], _ y: [Double]) -> Double {
        let diff = zip(x, y).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
        return diff / max(y.map { $0 * $0 }.reduce(0, +).squareRoot(), .leastNormalMagnitude)
    }

    func testTallSolvesAgreeAcrossStorageOrdersAndKeepTheirBitsAcrossThreads() throws {
        let two = try Engine(threads: 2), one = try Engine(threads: 1)
        for problem in [TallProblem.gram, .lstsq] {
            let j = 1
            let p = try ProblemGenerator.make(problem, rows: 6_000, cols: 24, condition: 10, power: j, seed: 3, engine: two, tileRows: 700)
            let (rowView, colView) = try StorageForms.views(of: p.matrix, engine: two)
            for method in [SolveMethod.cholesky, .direct, .pcg, .paper] {
                var options = SolveOptions()
                options.method = method
                func solve(_ a: TiledMatrix, _ engine: Engine) throws -> [Double] {
                    try TallSolver(matrix: a, engine: engine, problem: .tall(problem, power: j), options: options).solve(p.rhs).x
                }
                let owned = try solve(p.matrix, two)
                for (view, label) in [(rowView, "row-major"), (colView, "column-major")] {
                    let x = try solve(view, two)
                    // Exact factors agree to rounding; iterations stop anywhere below their tolerance.
                    let bound = method == .cholesky || method == .direct ? 1e-13 : 1e-10
                    XCTAssertLessThanOrEqual(relativeDifference(x, owned), bound, "\(problem) \(method) \(label)")
                    XCTAssertEqual(x.map(\.bitPattern), try solve(view, one).map(\.bitPattern), "\(problem) \(method) \(label): 1 vs 2 workers")
                }
                XCTAssertLessThanOrEqual(relativeDifference(owned, p.solution), 1e-9, "\(problem) \(method) against x_true")
            }
        }
    }

    func testAttentionSolvesAgreeAcrossStorageOrders() throws {
        let engine = try Engine(threads: 2)
        let a = try ProblemGenerator.attentionMatrix(rows: 900, cols: 6, rowNorm: 1, seed: 2, stream: PhiloxStream.attentionMatrix,
                                                     engine: engine, tileRows: 256)
        let (rowView, colView) = try StorageForms.views(of: a, engine: engine)
        let b = (0..<900).map { Double(($0 * 37) % 11) - 5 }
        for method in [SolveMethod.direct, .pcg] {
            var options = SolveOptions()
            options.method = method
            func solve(_ m: TiledMatrix) throws -> [Double] {
                try AttentionSolver(matrix: m, engine: engine, problem: .attention(ridge: 1e-2), options: options)
                    .solve(RightHandSides(vector: b, problem: .attention(ridge: 1e-2), rows: 900, cols: 6))[0].x
            }
            let owned = try solve(a)
            XCTAssertLessThanOrEqual(relativeDifference(try solve(rowView), owned), 1e-9, "\(method) row-major")
            XCTAssertLessThanOrEqual(relativeDifference(try solve(colView), owned), 1e-9, "\(method) column-major")
        }
    }
}
