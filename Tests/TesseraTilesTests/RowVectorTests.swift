import XCTest
import Tessera
import TesseraTestSupport

/// n-vectors held by rows (`TiledMatrix+RowVectors.swift`): the grouped norm lstsq uses for b,
/// residuals and LSQR's u, on which distributed solves keep their bits.
final class RowVectorTests: XCTestCase {
    func testRowNormMatchesTheNormAndIgnoresTheTilingAndTheThreadCount() throws {
        let n = 20_011, d = 7
        let value = Reference.randomMatrix(rows: n, cols: d, seed: 3)
        let one = try Engine(threads: 1), two = try Engine(threads: 2)
        let a = try TiledMatrix(layout: TileLayout(rows: n, cols: d, tileRows: 1_000), engine: two, value: value)
        let b = try TiledMatrix(layout: TileLayout(rows: n, cols: d, tileRows: 333), engine: one, value: value)
        let v = Reference.randomVector(count: n, seed: 9)
        let norm = try a.rowVectorNorm(v, engine: two)
        XCTAssertEqual(norm, v.norm2, accuracy: 1e-14 * v.norm2)
        XCTAssertEqual(norm.bitPattern, try b.rowVectorNorm(v, engine: one).bitPattern, "bits depend on the tiling or threads")
        // A single engine holds every row.
        XCTAssertEqual(a.heldRows(engine: two), 0..<n)
        XCTAssertEqual(a.restrictToHeldRows(v, engine: two), v)
    }

    func testRowNormNeitherOverflowsNorUnderflowsAndReportsNaN() throws {
        let n = 5_000, d = 3
        let engine = try Engine(threads: 2)
        let a = try TiledMatrix(layout: TileLayout(rows: n, cols: d, tileRows: 512), engine: engine,
                                value: Reference.randomMatrix(rows: n, cols: d, seed: 4))
        let v = Reference.randomVector(count: n, seed: 5)
        let norm = try a.rowVectorNorm(v, engine: engine)
        for scale in [0x1p1000, 0x1p-1000] {
            let scaled = try a.rowVectorNorm(v.map { $0 * scale }, engine: engine)
            XCTAssertEqual(scaled / scale, norm, accuracy: 1e-13 * norm, "scale \(scale)")
        }
        XCTAssertEqual(try a.rowVectorNorm([Double](repeating: 0, count: n), engine: engine), 0)
        // Only subnormal entries (1/max would overflow): exact powers of two, exact norm.
        var tiny = [Double](repeating: 0, count: n)
        tiny[7] = 0x1p-1070
        tiny[4_000] = 0x1p-1070
        XCTAssertEqual(try a.rowVectorNorm(tiny, engine: engine), (0x1p-1070 as Double) * 2.0.squareRoot(), accuracy: 0x1p-1074)
        var bad = v
        bad[4_321] = .nan
        XCTAssertTrue(try a.rowVectorNorm(bad, engine: engine).isNaN)
        XCTAssertThrowsError(try a.rowVectorNorm([1, 2, 3], engine: engine))
    }
}
