import XCTest
import Tessera
import TesseraTestSupport

/// The float32 Gram (`gramInSinglePrecision`): within its stated entrywise bound of AᵀA, and —
/// as the float64 Gram — the same bits in every storage order, tile height and worker count.
final class SingleGramTests: XCTestCase {
    func testSingleGramIsWithinItsBoundAndHasTheSameBitsEverywhere() throws {
        // d = 160 makes the canonical blocks 256 rows, and 150 blocks in 64 groups make groups of
        // 2–3 blocks: float32 chunks then gather several blocks (and end with a partial one).
        let n = 38_403, d = 160
        let two = try Engine(threads: 2), one = try Engine(threads: 1)
        let value = Reference.randomMatrix(rows: n, cols: d, seed: 71)
        let owned = try TiledMatrix(layout: try TileLayout(rows: n, cols: d, tileRows: 1_000), engine: two, value: value)
        XCTAssertEqual(owned.layout.reductionBlockRows, 256)
        XCTAssertLessThan(owned.gramGroups.count, 151)
        let exact = try owned.gram(engine: two)
        let single = try owned.gramInSinglePrecision(engine: two, chains: 4)
        // |G₃₂ − AᵀA| ≤ (2 + r)·u₃₂·|A|ᵀ|A| entrywise, r the float32 chunk height.
        let absolute = try TiledMatrix(layout: try TileLayout(rows: n, cols: d, tileRows: 1_000), engine: two) { abs(value($0, $1)) }
            .gram(engine: two)
        let r = Double(TiledMatrix.singleChunkRows), u32 = 0x1p-24
        var worst = 0.0
        for j in 0..<d {
            for i in 0...j {
                let error = abs(single[i + j * d] - exact[i + j * d])
                worst = max(worst, error / ((2 + r) * u32 * absolute[i + j * d]))
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

    /// The float32 rounding is the non-finite scan: a NaN (and a later ±Inf) is reported at its
    /// first position whatever the storage order, with several column panels per group (only
    /// the last panel reads every column), and a clean matrix afterwards still gives the bits of
    /// a fresh one.
    func testRoundingFindsTheFirstNonFiniteValueInEveryStorageOrder() throws {
        let n = 9_000, d = 160
        let engine = try Engine(threads: 2)
        let value = Reference.randomMatrix(rows: n, cols: d, seed: 73)
        let poisoned = try TiledMatrix(layout: try TileLayout(rows: n, cols: d, tileRows: 1_000), engine: engine) { i, j in
            (i, j) == (6_001, 5) ? .nan : (i, j) == (8_500, 150) ? -.infinity : value(i, j)
        }
        let (rowView, colView) = try StorageForms.views(of: poisoned, engine: engine)
        for a in [poisoned, rowView, colView] {
            XCTAssertThrowsTesseraError(try a.gramInSinglePrecision(engine: engine, chains: 4), "row 6001, column 5")
            XCTAssertThrowsTesseraError(try a.gram(engine: engine), "row 6001, column 5")
        }
        let clean = try TiledMatrix(layout: try TileLayout(rows: n, cols: d, tileRows: 1_000), engine: engine, value: value)
        let first = try clean.gramInSinglePrecision(engine: engine, chains: 4)
        XCTAssertEqual(try clean.gramInSinglePrecision(engine: engine, chains: 4), first, "again, tiles now known finite")
        XCTAssertEqual(try clean.gramInSinglePrecision(engine: engine, chains: 1), try TiledMatrix(
            layout: try TileLayout(rows: n, cols: d, tileRows: 1_000), engine: engine, value: value).gramInSinglePrecision(engine: engine, chains: 1))
    }
}
