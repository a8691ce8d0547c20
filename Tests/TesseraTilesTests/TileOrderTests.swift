import XCTest
import Tessera
import TesseraTestSupport

/// Tiles in both storage orders — Tessera's own column-major tiles, a row-major view of a C-order
/// buffer, a column-major view of a Fortran-order buffer (leading dimension n) — give the same
/// results for every tiled operation (within 1e-13; the SRHT sketch bit for bit), the same bits
/// on 1 and 2 workers within one order, and find NaN/Inf in the first pass that reads them.
final class TileOrderTests: XCTestCase {
    let n = 5_003, d = 41

    /// (owned, C-order view, Fortran-order view) of the same matrix, and the dense column-major copy.
    private func threeForms(engine: Engine, tileRows: Int = 700, scale: Double = 1) throws -> [TiledMatrix] {
        let value = Reference.randomMatrix(rows: n, cols: d, seed: 21)
        let layout = try TileLayout(rows: n, cols: d, tileRows: tileRows)
        let owned = try TiledMatrix(layout: layout, engine: engine) { scale * value($0, $1) }
        let (rowView, colView) = try StorageForms.views(of: owned, engine: engine)
        XCTAssertEqual(rowView.tiles[0].tile.order, .rowMajor)
        XCTAssertEqual(colView.tiles[0].tile.order, .columnMajor)
        XCTAssertEqual(colView.tiles[1].tile.ld, n)
        XCTAssertTrue(rowView.isView && colView.isView && !owned.isView)
        return [owned, rowView, colView]
    }

    private func assertClose(_ x: [Double], _ y: [Double], _ what: String, tolerance: Double = 1e-13) {
        XCTAssertEqual(x.count, y.count, what)
        XCTAssertLessThanOrEqual(Reference.maxRelativeDifference(x, y), tolerance, what)
    }

    func testEveryTiledOperationAgreesAcrossStorageOrders() throws {
        let engine = try Engine(threads: 2)
        let forms = try threeForms(engine: engine)
        let y = Reference.randomVector(count: d, seed: 3), u = Reference.randomVector(count: n, seed: 4)
        let block = Reference.randomVector(count: 3 * d, seed: 5), wide = Reference.randomVector(count: 12 * d, seed: 6)
        let rhs = try SharedBlock(Reference.randomVector(count: 2 * n, seed: 7), engine: engine)
        let reference = forms[0]
        let triangle: [Double] = (0..<(d * d)).map { k in k % d > k / d ? 0 : (k % d == k / d ? 2 : 0.01) }
        for (index, a) in forms.enumerated().dropFirst() {
            let label = index == 1 ? "row-major view" : "column-major view"
            assertClose(try a.gram(engine: engine), try reference.gram(engine: engine), "gram, \(label)")
            assertClose(try a.gram(engine: engine, chains: 16), try reference.gram(engine: engine, chains: 16), "gram with panels, \(label)")
            assertClose(try a.gram(engine: engine, rightInverse: triangle), try reference.gram(engine: engine, rightInverse: triangle),
                        "gram of A·T⁻¹, \(label)")
            assertClose(try a.gramMultiply(y, engine: engine), try reference.gramMultiply(y, engine: engine), "AᵀA·y, \(label)")
            assertClose(try a.gramMultiply(block: block, columns: 3, engine: engine),
                        try reference.gramMultiply(block: block, columns: 3, engine: engine), "AᵀA·Y, \(label)")
            assertClose(try a.gramMultiply(block: wide, columns: 12, engine: engine),
                        try reference.gramMultiply(block: wide, columns: 12, engine: engine), "AᵀA·Y wide, \(label)")
            assertClose(try a.multiply(y, engine: engine).toArray(), try reference.multiply(y, engine: engine).toArray(), "Ax, \(label)")
            let tu = try TiledVector(u, layout: a.layout, engine: engine)
            assertClose(try a.transposeMultiply(tu, engine: engine), try reference.transposeMultiply(tu, engine: engine), "Aᵀu, \(label)")
            let g1 = try a.residualGradient(block: Array(block[0..<(2 * d)]), rhs: rhs, columns: 2, engine: engine)
            let g0 = try reference.residualGradient(block: Array(block[0..<(2 * d)]), rhs: rhs, columns: 2, engine: engine)
            assertClose(g1.gradient, g0.gradient, "Aᵀ(B − AY), \(label)")
            assertClose(g1.squaredNorms, g0.squaredNorms, "‖B − AY‖², \(label)")
            for kind in [SketchKind.gaussian, .srht, .countsketch, .sparseSign] {
                let sketch = try SketchDistribution(kind: kind, rows: 4 * d, seed: 9).sample(inputRows: n)
                let sa = try sketch.apply(to: a, engine: engine), s0 = try sketch.apply(to: reference, engine: engine)
                if kind == .srht {
                    XCTAssertEqual(sa.map(\.bitPattern), s0.map(\.bitPattern), "SRHT bits, \(label)")
                } else {
                    assertClose(sa, s0, "\(kind) sketch, \(label)")
                }
            }
        }
    }

    func testKernelProductsAgreeAcrossStorageOrders() throws {
        let engine = try Engine(threads: 2)
        let forms = try threeForms(engine: engine, tileRows: 1_300, scale: 0.15)
        let x = Reference.randomVector(count: n, seed: 12)
        let k0 = try forms[0].kernelMultiply(x, ridge: 0.1, engine: engine)
        let columns = [0, 17, 4_999]
        let c0 = try ColumnBlock(rows: n, cols: columns.count, engine: engine)
        try forms[0].kernelColumns(columns, into: c0, engine: engine)
        for a in forms.dropFirst() {
            try a.checkKernelOverflow(engine: engine)
            assertClose(try a.kernelMultiply(x, ridge: 0.1, engine: engine), k0, "(exp(AAᵀ) + λI)x, \(a.name)", tolerance: 1e-12)
            let c = try ColumnBlock(rows: n, cols: columns.count, engine: engine)
            try a.kernelColumns(columns, into: c, engine: engine)
            assertClose(c.toArray(), c0.toArray(), "K[:, S], \(a.name)", tolerance: 1e-12)
        }
    }

    /// A process's share of K[:, S] (share edges inside tiles of 1,300 rows; 100 columns, so
    /// OpenBLAS's blocked GEMM path, not its small-matrix one) has the bits of the whole columns
    /// in every tile that meets the share and leaves the other tiles untouched: what the
    /// distributed randomly pivoted Cholesky relies on.
    func testKernelColumnsOfSomeRowsHaveTheWholeColumnsBits() throws {
        let engine = try Engine(threads: 2)
        let columns = (0..<100).map { $0 * 50 + 3 }
        for a in try threeForms(engine: engine, tileRows: 1_300, scale: 0.15) {
            let whole = try ColumnBlock(rows: n, cols: columns.count, engine: engine)
            try a.kernelColumns(columns, into: whole, engine: engine)
            for share in [0..<2_048, 2_048..<4_096, 4_096..<n, 700..<701] {
                let part = try ColumnBlock(rows: n, cols: columns.count, engine: engine)
                try a.kernelColumns(columns, into: part, rows: share, engine: engine)
                for c in 0..<columns.count {
                    for i in 0..<n {
                        let tile = a.layout.rowRange(ofTile: i / 1_300)
                        let want = tile.overlaps(share) ? whole[i, c].bitPattern : 0
                        if part[i, c].bitPattern != want {
                            XCTFail("\(a.name): K[\(i), \(columns[c])] for rows \(share)"); return
                        }
                    }
                }
            }
        }
    }

    func testViewsHaveTheSameBitsOnOneAndTwoWorkers() throws {
        let two = try Engine(threads: 2), one = try Engine(threads: 1)
        let y = Reference.randomVector(count: d, seed: 3)
        for a in try threeForms(engine: two).dropFirst() {
            XCTAssertEqual(try a.gram(engine: two).map(\.bitPattern), try a.gram(engine: one).map(\.bitPattern), a.name)
            XCTAssertEqual(try a.gramMultiply(y, engine: two).map(\.bitPattern), try a.gramMultiply(y, engine: one).map(\.bitPattern), a.name)
            let sketch = try SketchDistribution(kind: .gaussian, rows: 3 * d, seed: 2).sample(inputRows: n)
            XCTAssertEqual(try sketch.apply(to: a, engine: two).map(\.bitPattern), try sketch.apply(to: a, engine: one).map(\.bitPattern), a.name)
        }
    }

    /// Sketches and every product that sums over rows reduce over fixed row blocks, so within one
    /// storage order the tile height does not change a bit (a block that spans two tiles is
    /// copied in the tiles' own order): tile heights 700 (blocks span tiles), 2,048 and 4,096.
    func testBitsDoNotDependOnTheTileHeight() throws {
        let engine = try Engine(threads: 2)
        let heights = [700, 2_048, 4_096]
        let forms = try heights.map { try threeForms(engine: engine, tileRows: $0) }
        let y = (0..<d).map { Double(($0 * 7) % 5) - 2 }
        let u = (0..<n).map { Double(($0 * 13) % 9) - 4 }
        let yBlock = (0..<(3 * d)).map { Double(($0 * 11) % 7) - 3 }
        let rhs = try SharedBlock((0..<(2 * n)).map { Double(($0 * 5) % 3) - 1 }, engine: engine)
        var triangle = [Double](repeating: 0, count: d * d)
        for j in 0..<d { for i in 0...j { triangle[i + j * d] = i == j ? 2 + Double(j % 3) : 0.1 * Double((i + j) % 4) } }
        for form in 0..<3 {
            func bits(_ a: TiledMatrix) throws -> [[UInt64]] {
                var results: [[Double]] = []
                results.append(try a.gram(engine: engine))
                results.append(try a.gram(engine: engine, rightInverse: triangle))
                results.append(try a.multiply(y, engine: engine).toArray())
                results.append(try a.transposeMultiply(TiledVector(u, layout: a.layout, engine: engine), engine: engine))
                results.append(try a.gramMultiply(y, engine: engine))
                results.append(try a.gramMultiply(block: yBlock, columns: 3, engine: engine))
                let (gradient, squares) = try a.residualGradient(block: Array(yBlock[0..<(2 * d)]), rhs: rhs, columns: 2, engine: engine)
                results.append(gradient + squares)
                for kind in [SketchKind.gaussian, .srht, .countsketch, .sparseSign] {
                    let sketch = try SketchDistribution(kind: kind, rows: 2 * d, seed: 4).sample(inputRows: n)
                    results.append(try sketch.apply(to: a, engine: engine))
                }
                return results.map { $0.map(\.bitPattern) }
            }
            let first = try bits(forms[0][form])
            for h in 1..<heights.count {
                let other = try bits(forms[h][form])
                for k in first.indices { XCTAssertEqual(first[k], other[k], "form \(form), result \(k), tile height \(heights[h]) vs 700") }
            }
        }
    }

    /// Gram and the Gram of A·T⁻¹ pass the same numbers to BLAS in either order (a row-major block
    /// with the transpose flag), so owned tiles, row-major and column-major views give the same bits.
    func testGramHasTheSameBitsInEveryStorageOrder() throws {
        let engine = try Engine(threads: 2)
        let forms = try threeForms(engine: engine)
        var triangle = [Double](repeating: 0, count: d * d)
        for j in 0..<d { for i in 0...j { triangle[i + j * d] = i == j ? 2 + Double(j % 3) : 0.1 * Double((i + j) % 4) } }
        let plain = try forms.map { try $0.gram(engine: engine).map(\.bitPattern) }
        let solved = try forms.map { try $0.gram(engine: engine, rightInverse: triangle).map(\.bitPattern) }
        for k in 1..<3 {
            XCTAssertEqual(plain[k], plain[0], "AᵀA, form \(k)")
            XCTAssertEqual(solved[k], solved[0], "(AT⁻¹)ᵀ(AT⁻¹), form \(k)")
        }
    }

    /// A NaN in the last row and an Inf earlier: nothing is scanned when the view is made; the
    /// first pass throws with the first entry in the source's order, whichever tile a worker
    /// reached first, and so does every later pass.
    func testNonFiniteEntriesAreFoundByTheFirstPassInSourceOrder() throws {
        let engine = try Engine(threads: 2)
        var values = (0..<(n * d)).map { Double($0 % 13) - 6 }     // C order
        values[(n - 1) * d + 5] = .nan
        values[3_000 * d + 30] = .infinity
        values[3_001 * d + 2] = -.infinity
        let buffer = HostBuffer(values)
        let layout = try TileLayout(rows: n, cols: d, tileRows: 512)
        let a = try TiledMatrix(viewing: RawMatrix(base: buffer.pointer, kind: .float64, rows: n, cols: d, rowMajor: true, owner: buffer),
                                layout: layout, engine: engine, name: "A.npy")
        let expected = "A.npy holds a non-finite value at row 3000, column 30; remove or replace NaN/Inf entries"
        XCTAssertThrowsError(try a.gram(engine: engine)) { XCTAssertEqual(($0 as? TesseraError)?.message, expected) }
        XCTAssertThrowsError(try a.gramMultiply([Double](repeating: 1, count: d), engine: engine)) {
            XCTAssertEqual(($0 as? TesseraError)?.message, expected)
        }
        // Fortran order counts column by column: column 2 (row 3001) comes before column 5 and 30.
        var fortran = [Double](repeating: 0, count: n * d)
        for i in 0..<n { for j in 0..<d { fortran[i + j * n] = values[i * d + j] } }
        let fBuffer = HostBuffer(fortran)
        let f = try TiledMatrix(viewing: RawMatrix(base: fBuffer.pointer, kind: .float64, rows: n, cols: d, rowMajor: false, owner: fBuffer),
                                layout: layout, engine: engine, name: "F.npy")
        let sketch = try SketchDistribution(kind: .countsketch, rows: 80, seed: 1).sample(inputRows: n)
        XCTAssertThrowsError(try sketch.apply(to: f, engine: engine)) {
            XCTAssertEqual(($0 as? TesseraError)?.message, "F.npy holds a non-finite value at row 3001, column 2; remove or replace NaN/Inf entries")
        }
    }
}
