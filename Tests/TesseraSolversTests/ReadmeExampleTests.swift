import XCTest
import Tessera

/// The Swift example of docs/SWIFT_API.md, verbatim, so it cannot rot.
final class ReadmeExampleTests: XCTestCase {
    func testReadmeLibraryExampleRuns() throws {
        let engine = try Engine()                                   // this machine, one worker per core
        let layout = try TileLayout(rows: 100_000, cols: 64, tileRows: 4096)
        let rng = Philox4x32(seed: 1)                               // counter-based: same bits anywhere
let a = try TiledMatrix(layout: layout, engine: engine) { i, j in rng.normal(index: UInt64(i * 64 + j), stream: 0) }
        let g = try a.gram(engine: engine)                          // AᵀA, d×d column-major
        let w = try a.gramMultiply([Double](repeating: 1, count: 64), engine: engine)  // AᵀA·1

        let solver = try TallSolver(matrix: a, engine: engine, problem: .gram(power: 1))  // factor once
        let x = try solver.solve(w)                                 // any number of right-hand sides
        // The example's answers are known: w = AᵀA·1 = G·1, and AᵀA x = w has x = 1.
        XCTAssertEqual(g.count, 64 * 64)
        for i in 0..<64 {
            let row = (0..<64).reduce(0.0) { $0 + g[i + $1 * 64] }
            XCTAssertEqual(row, w[i], accuracy: 1e-12 * abs(w[i]) + 1e-9, "(G·1)[\(i)]")
        }
        XCTAssertTrue(x.report.converged, x.report.text)
        XCTAssertLessThanOrEqual(x.x.map { abs($0 - 1) }.max() ?? .infinity, 1e-12, x.report.text)
    }
}
