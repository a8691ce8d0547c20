import XCTest
import Tessera
import TesseraTestSupport

/// A solve on A used in place — a row-major view of a C-order buffer or a column-major view of a
/// Fortran-order one — gives the x of Tessera's own tiles for every tall problem and method
/// within 10·κ_op·ε for exact factors and within the tolerance for iterations (which stop anywhere
/// below it); within one storage order x has the same bits on 1 and 2 workers and for any tile
/// height (every sum over rows runs over fixed canonical blocks); likewise attention.
final class StorageOrderSolveTests: XCTestCase {
    private func relativeDifference(_ x: [Double], _ y: [Double]) -> Double {
        let diff = zip(x, y).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
        return diff / max(y.map { $0 * $0 }.reduce(0, +).squareRoot(), .leastNormalMagnitude)
    }

    func testTallSolvesAgreeAcrossStorageOrdersAndKeepTheirBitsAcrossThreadsAndTileHeights() throws {
        let two = try Engine(threads: 2), one = try Engine(threads: 1)
        for problem in [TallProblem.gram, .lstsq] {
            let j = 1
            let p = try ProblemGenerator.make(problem, rows: 6_000, cols: 24, condition: 10, power: j, seed: 3, engine: two, tileRows: 700)
            let dense = p.matrix.toColumnMajorArray()
            // Each storage form at tile heights 700 (canonical blocks of 2,048 rows span tiles) and 3,000.
            var forms: [[TiledMatrix]] = []
            for height in [700, 3_000] {
                let owned = try TiledMatrix(layout: TileLayout(rows: 6_000, cols: 24, tileRows: height), engine: two) { dense[$0 + $1 * 6_000] }
                let (rowView, colView) = try StorageForms.views(of: owned, engine: two)
                forms.append([owned, rowView, colView])
            }
            let labels = ["owned", "row-major", "column-major"]
            for method in [SolveMethod.cholesky, .direct, .pcg, .paper] {
                var options = SolveOptions()
                options.method = method
                func solve(_ a: TiledMatrix, _ engine: Engine) throws -> [Double] {
                    try TallSolver(matrix: a, engine: engine, problem: .tall(problem, power: j), options: options).solve(p.rhs).x
                }
                let xs = try forms[0].map { try solve($0, two) }
                for k in 0..<3 {
                    let what = "\(problem) \(method) \(labels[k])"
                    // Exact factors agree to rounding, amplified by the operator's condition number
                    // (κ^(2j) for gram, κ^(2j+1) for lstsq: 100 and 1,000 here; the BLAS kernels of
                    // the two storage orders round differently, by how much depends on the CPU);
                    // iterations stop anywhere below their tolerance.
                    let operatorCondition = pow(10.0, Double(problem == .gram ? 2 * j : 2 * j + 1))
                    let bound = method == .cholesky || method == .direct ? 10 * operatorCondition * Double.ulpOfOne : 1e-10
                    XCTAssertLessThanOrEqual(relativeDifference(xs[k], xs[0]), bound, what)
                    XCTAssertEqual(xs[k].map(\.bitPattern), try solve(forms[0][k], one).map(\.bitPattern), "\(what): 1 vs 2 workers")
                    XCTAssertEqual(xs[k].map(\.bitPattern), try solve(forms[1][k], two).map(\.bitPattern), "\(what): tile height 700 vs 3,000")
                }
                XCTAssertLessThanOrEqual(relativeDifference(xs[0], p.solution), 1e-9, "\(problem) \(method) against x_true")
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
