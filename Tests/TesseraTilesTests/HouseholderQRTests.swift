import XCTest
import Tessera
import TesseraTestSupport

/// `TiledMatrix.householderR`: RᵀR = AᵀA (against a Gram matrix summed with plain loops), for
/// tiles shorter than d, many groups combined by the tree, both storage orders, a rank-deficient
/// A; and the same bits on 1 and 2 workers.
final class HouseholderQRTests: XCTestCase {
    func check(rows n: Int, cols d: Int, tileRows: Int, zeroColumn: Int? = nil) throws {
        let engine = try Engine(threads: 2), one = try Engine(threads: 1)
        let value = Reference.randomMatrix(rows: n, cols: d, seed: 61)
        let a = try TiledMatrix(layout: TileLayout(rows: n, cols: d, tileRows: tileRows), engine: engine) { r, c in
            c == zeroColumn ? 0 : value(r, c)
        }
        let dense = a.toColumnMajorArray()
        var gram = [Double](repeating: 0, count: d * d), scale = 0.0
        for i in 0..<d { for j in 0..<d {
            for k in 0..<n { gram[i + j * d] += dense[k + i * n] * dense[k + j * n] }
            scale = max(scale, abs(gram[i + j * d]))
        } }
        let views = try StorageForms.views(of: a, engine: engine)
        for (name, m) in [("owned", a), ("row-major view", views.rowMajor), ("column-major view", views.columnMajor)] {
            let r = try m.householderR(engine: engine)
            for j in 0..<d { for i in (j + 1)..<d { XCTAssertEqual(r[i + j * d], 0, "\(name): below the diagonal") } }
            var worst = 0.0
            for i in 0..<d { for j in 0..<d {
                var s = 0.0
                for k in 0..<d { s += r[k + i * d] * r[k + j * d] }
                worst = max(worst, abs(s - gram[i + j * d]))
            } }
            XCTAssertLessThanOrEqual(worst / scale, 1e-13, "\(name) n=\(n) d=\(d) tile rows \(tileRows): ‖RᵀR − AᵀA‖/‖AᵀA‖")
            XCTAssertEqual(r, try m.householderR(engine: one), "\(name): the same bits on 1 and 2 workers")
        }
    }

    func testManyGroupsAndShortTiles() throws { try check(rows: 1_000, cols: 12, tileRows: 10) }
    func testOneTileInChunks() throws { try check(rows: 1_300, cols: 20, tileRows: 1_300) }   // chunks of 512, 512, 276 rows
    func testRankDeficient() throws { try check(rows: 700, cols: 9, tileRows: 64, zeroColumn: 4) }
}
