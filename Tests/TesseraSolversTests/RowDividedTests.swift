import XCTest
import Tessera
import TesseraTestSupport

/// The attention solver's row-divided pieces in a single process: the Woodbury preconditioner
/// applied by tiles (`applyRows`) and the kernel operator on rows give what the whole forms give.
final class RowDividedTests: XCTestCase {
    func testWoodburyByTilesMatchesTheWholeApplication() throws {
        let engine = try Engine(threads: 2)
        let a = try TiledMatrix(layout: TileLayout(rows: 700, cols: 5, tileRows: 93), engine: engine,
                                value: Reference.rowsOfNorm(1, cols: 5, seed: 3))
        let kernel = try KernelOperator(matrix: a, engine: engine, ridge: 1e-3)
        let partition = kernel.partition
        let v = (0..<700).map { sin(Double($0) * 0.37) + 0.1 }
        for shifted in [false, true] {
            let factor = try RandomlyPivotedCholesky.factor(kernel: kernel, rank: 60, blockSize: 20, seed: 4)
            let woodbury = shifted
                ? try WoodburyPreconditioner(lowRank: factor, diagonalShift: (0..<700).map { 0.01 + Double($0 % 7) * 1e-3 }, engine: engine)
                : try WoodburyPreconditioner(lowRank: factor, shift: 0.02, engine: engine)
            let whole = try woodbury.apply(v)
            let rows = try WoodburyRowsPreconditioner(woodbury, partition: partition).apply(v)
            XCTAssertEqual(rows.count, whole.count)
            let scale = whole.map(abs).max() ?? 1
            for i in 0..<700 { XCTAssertEqual(rows[i], whole[i], accuracy: 1e-10 * scale, "row \(i), diagonal shift \(shifted)") }
        }
        XCTAssertEqual(try KernelRowsOperator(kernel).apply(v), try kernel.apply(v))
        XCTAssertThrowsError(try WoodburyRowsPreconditioner(try WoodburyPreconditioner(
            lowRank: RandomlyPivotedCholesky.factor(kernel: kernel, rank: 10, seed: 1), shift: 1, engine: engine), partition: partition).apply([1]))
    }
}
