import XCTest
import Tessera
import TesseraTestSupport
#if canImport(Glibc)
import Glibc
#endif

final class KernelTests: XCTestCase {
    func rowsOfNormAtMostOne(n: Int, d: Int, seed: UInt64) -> @Sendable (Int, Int) -> Double {
        let g = Philox4x32(seed: seed)
        return { r, c in
            var s = 0.0
            for k in 0..<d { let v = g.normal(index: UInt64(r * d + k), stream: 0); s += v * v }
            return g.normal(index: UInt64(r * d + c), stream: 0) / s.squareRoot() * g.uniform(index: UInt64(r), stream: 1)
        }
    }

    /// (exp(AAᵀ) + λI)·x by tile pairs equals the dense product with libm exp (random vector),
    /// with small tiles (one panel per pair) and with tiles larger than a panel (several panels,
    /// ragged at the edges).
    func testKernelMatvecEqualsDenseReference() throws {
        for tileRows in [170, 700] { try checkKernelMatvec(tileRows: tileRows) }
    }

    func checkKernelMatvec(tileRows: Int) throws {
        let n = 1_300, d = 8, lambda = 0.25
        let value = rowsOfNormAtMostOne(n: n, d: d, seed: 4)
        let engine = try Engine(threads: 2)
        let a = try TiledMatrix(layout: TileLayout(rows: n, cols: d, tileRows: tileRows), engine: engine, value: value)
        try a.checkKernelOverflow(engine: engine)
        let g = Philox4x32(seed: 9)
        let x = (0..<n).map { g.normal(index: UInt64($0), stream: 3) }
        let y = try a.kernelMultiply(x, ridge: lambda, engine: engine)
        let reference = DenseKernel.product(a.toColumnMajorArray(), rows: n, cols: d, ridge: lambda, x: x)
        let error = zip(y, reference).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(error / (reference.map(abs).max() ?? 1), 1e-13, "tile rows \(tileRows)")
    }

    func testKernelMatvecBitsIdenticalOnOneAndTwoThreads() throws {
        let n = 1_500, d = 5
        let value = rowsOfNormAtMostOne(n: n, d: d, seed: 6)
        let one = try Engine(threads: 1), two = try Engine(threads: 2)
        let layout = try TileLayout(rows: n, cols: d, tileRows: 600)
        let a1 = try TiledMatrix(layout: layout, engine: one, value: value)
        let a2 = try TiledMatrix(layout: layout, engine: two, value: value)
        let x = (0..<n).map { Double($0 % 13) - 6 }
        XCTAssertEqual(try a1.kernelMultiply(x, engine: one).map(\.bitPattern), try a2.kernelMultiply(x, engine: two).map(\.bitPattern))
    }

    func testKernelOverflowIsRefusedWithTheRowNorm() throws {
        let engine = try Engine(threads: 2)
        let a = try TiledMatrix(layout: TileLayout(rows: 50, cols: 4, tileRows: 16), engine: engine) { r, c in r == 37 && c == 2 ? 30 : 0.1 }
        XCTAssertThrowsError(try a.checkKernelOverflow(engine: engine)) { error in
            let message = (error as? TesseraError)?.message ?? ""
            XCTAssertTrue(message.contains("would overflow") && message.contains("30.0"), message)
        }
    }
}

final class RowNormTests: XCTestCase {
    /// max‖aᵢ‖² is a maximum over all tiles, not a sum of per-group maxima.
    func testMaxRowNormSquaredIsTheMaximum() throws {
        let engine = try Engine(threads: 2)
        let a = try TiledMatrix(layout: TileLayout(rows: 5_000, cols: 3, tileRows: 100), engine: engine) { r, c in
            r == 4_321 ? 2 : (c == 0 ? 1 : 0)
        }
        XCTAssertEqual(try a.maxRowNormSquared(engine: engine), 12)
    }
}
