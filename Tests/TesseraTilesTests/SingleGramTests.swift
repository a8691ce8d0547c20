import XCTest
import Tessera
import TesseraTestSupport

/// The float32 Gram (`gramInSinglePrecision`): within its stated entrywise bound of AᵀA, and —
/// as the float64 Gram — the same bits in every storage order, tile height and worker count.
final class SingleGramTests: XCTestCase {
    func testSingleGramIsWithinItsBoundAndHasTheSameBitsEverywhere() throws {
        let n = 6_003, d = 300
        let two = try Engine(threads: 2), one = try Engine(threads: 1)
        let value = Reference.randomMatrix(rows: n, cols: d, seed: 71)
        let owned = try TiledMatrix(layout: try TileLayout(rows: n, cols: d, tileRows: 1_000), engine: two, value: value)
        let exact = try owned.gram(engine: two)
        let single = try owned.gramInSinglePrecision(engine: two, chains: 4)
        // |G₃₂ − AᵀA| ≤ (2 + r)·u₃₂·|A|ᵀ|A| entrywise, r the canonical block height.
        let dense = owned.toColumnMajorArray()
        let r = Double(owned.layout.reductionBlockRows), u32 = 0x1p-24
        var worst = 0.0
        for j in 0..<d {
            for i in 0...j {
                var absolute = 0.0
                for k in 0..<n { absolute += abs(dense[k + i * n] * dense[k + j * n]) }
                let error = abs(single[i + j * d] - exact[i + j * d])
                worst = max(worst, error / ((2 + r) * u32 * absolute))
                XCTAssertEqual(single[i + j * d], single[j + i * d], "symmetric")
            }
        }
        XCTAssertLessThanOrEqual(worst, 1, "the entrywise bound")
        XCTAssertGreaterThan(Reference.maxRelativeDifference(single, exact), 1e-12, "it really is float32 arithmetic")
        let (rowView, colView) = try StorageForms.views(of: owned, engine: two)
        let retiled = try TiledMatrix(layout: try TileLayout(rows: n, cols: d, tileRows: 700), engine: one, value: value)
        for (label, a, engine) in [("row-major view", rowView, two), ("column-major view", colView, two), ("1 worker, tile height 700", retiled, one)] {
            XCTAssertEqual(try a.gramInSinglePrecision(engine: engine, chains: 4), single, label)
        }
    }
}
