import XCTest
import Synchronization
import Tessera
import TesseraTestSupport

final class TiledProductTests: XCTestCase {
    func testTiledGramEqualsOneDsyrkAndHasSameBitsOnOneAndTwoThreads() throws {
        let n = 20_011, d = 37
        let value = Reference.randomMatrix(rows: n, cols: d, seed: 11)
        let two = try Engine(threads: 2), one = try Engine(threads: 1), serial = try Engine(serial: true)
        let layout = try TileLayout(rows: n, cols: d, tileRows: 1_000)
        let a2 = try TiledMatrix(layout: layout, engine: two, value: value)
        let g2 = try a2.gram(engine: two)
        let g1 = try a2.gram(engine: one)
        let gs = try a2.gram(engine: serial)
        XCTAssertEqual(g2.map(\.bitPattern), g1.map(\.bitPattern), "bits differ between 1 and 2 threads")
        XCTAssertEqual(g2.map(\.bitPattern), gs.map(\.bitPattern), "bits differ from the serial executor")

        let dense = Reference.dense(rows: n, cols: d, value)
        var reference = [Double](repeating: 0, count: d * d)
        BLAS.syrk(.upper, .transpose, n: d, k: n, alpha: 1, a: dense, lda: n, beta: 0, c: &reference, ldc: d)
        for j in 0..<d { for i in (j + 1)..<max(j + 1, d) { reference[i + j * d] = reference[j + i * d] } }
        XCTAssertLessThanOrEqual(Reference.maxRelativeDifference(g2, reference), 1e-13)
        // Symmetric result.
        for j in 0..<d { for i in 0..<d { XCTAssertEqual(g2[i + j * d], g2[j + i * d]) } }
    }

    /// Few row groups and several column panels (GEMM above each diagonal block, SYRK on it):
    /// against one DSYRK of the dense A, both triangles, same bits on 1 and 2 workers; the panels split the
    /// upper triangle's work evenly.
    func testGramWithColumnPanelsMatchesLoopsAndHasSameBits() throws {
        let n = 2_503, d = 600
        let value = Reference.randomMatrix(rows: n, cols: d, seed: 5)
        let two = try Engine(threads: 2), one = try Engine(threads: 1)
        let a = try TiledMatrix(layout: TileLayout(rows: n, cols: d, tileRows: 1_000), engine: two, value: value)
        // d = 600: canonical blocks of 256 rows, so 10 blocks in 10 groups; 32 chains ask for 4
        // panels, of which 600 / 192 allows 3.
        XCTAssertEqual(a.layout.reductionBlockRows, 256)
        XCTAssertEqual(a.gramGroups.count, 10)
        let bounds = a.gramPanelBounds(chains: 32)
        XCTAssertEqual(bounds.count - 1, 3, "\(bounds)")
        XCTAssertEqual(bounds.first, 0)
        XCTAssertEqual(bounds.last, d)
        for k in 1..<bounds.count {
            let share = Double(bounds[k] * bounds[k] - bounds[k - 1] * bounds[k - 1]) / Double(d * d)
            XCTAssertEqual(share, 1.0 / 3.0, accuracy: 0.05, "\(bounds)")
        }
        let g2 = try a.gram(engine: two, chains: 32), g1 = try a.gram(engine: one, chains: 32)
        XCTAssertEqual(g2.map(\.bitPattern), g1.map(\.bitPattern), "bits differ between 1 and 2 threads")
        // Reference: one DSYRK over the whole dense A.
        let dense = Reference.dense(rows: n, cols: d, value)
        var reference = [Double](repeating: 0, count: d * d)
        BLAS.syrk(.upper, .transpose, n: d, k: n, alpha: 1, a: dense, lda: n, beta: 0, c: &reference, ldc: d)
        for j in 0..<d { for i in (j + 1)..<d { reference[i + j * d] = reference[j + i * d] } }
        XCTAssertLessThanOrEqual(Reference.maxRelativeDifference(g2, reference), 1e-13)
    }

    func testGramWithManyGroupsAndUnevenLastTile() throws {
        let n = 5_003, d = 5
        let value = Reference.randomMatrix(rows: n, cols: d, seed: 3)
        let engine = try Engine(threads: 2)
        let a = try TiledMatrix(layout: TileLayout(rows: n, cols: d, tileRows: 37), engine: engine, value: value)
        // d = 5: blocks of 2,048 rows, three of them, the last spanning tiles of 37 rows.
        XCTAssertEqual(a.layout.reductionBlockRows, 2_048)
        XCTAssertEqual(a.gramGroups.count, 3)
        let g = try a.gram(engine: engine)
        var reference = [Double](repeating: 0, count: d * d)
        for i in 0..<d { for j in 0..<d { for r in 0..<n { reference[i + j * d] += value(r, i) * value(r, j) } } }
        XCTAssertLessThanOrEqual(Reference.maxRelativeDifference(g, reference), 1e-13)
    }

    /// G = Aᵀ(B − AY) and ‖B − AY‖² per column (the block least-squares pass) against plain
    /// loops, with an uneven last tile, for Y = 0 (G = AᵀB) too; same bits on 1 and 2 workers.
    func testBlockResidualGradientMatchesDenseReference() throws {
        let n = 2_003, d = 9, m = 3
        let value = Reference.randomMatrix(rows: n, cols: d, seed: 8)
        let two = try Engine(threads: 2), one = try Engine(threads: 1)
        let a = try TiledMatrix(layout: TileLayout(rows: n, cols: d, tileRows: 300), engine: two, value: value)
        let g = Philox4x32(seed: 5)
        let y = (0..<(d * m)).map { g.normal(index: UInt64($0), stream: 3) }
        let b = (0..<(n * m)).map { g.normal(index: UInt64($0), stream: 4) }
        let rhs = try SharedBlock(b, engine: two)
        for block in [Optional(y), nil] {
            var gradient = [Double](repeating: 0, count: d * m), squares = [Double](repeating: 0, count: m)
            for c in 0..<m {
                for r in 0..<n {
                    var residual = b[r + c * n]
                    if let block { for k in 0..<d { residual -= value(r, k) * block[k + c * d] } }
                    squares[c] += residual * residual
                    for k in 0..<d { gradient[k + c * d] += value(r, k) * residual }
                }
            }
            let got = try a.residualGradient(block: block, rhs: rhs, columns: m, engine: two)
            XCTAssertLessThanOrEqual(Reference.maxRelativeDifference(got.gradient, gradient), 1e-12)
            XCTAssertLessThanOrEqual(Reference.maxRelativeDifference(got.squaredNorms, squares), 1e-12)
            let onOne = try a.residualGradient(block: block, rhs: rhs, columns: m, engine: one)
            XCTAssertEqual(got.gradient.map(\.bitPattern), onOne.gradient.map(\.bitPattern))
            XCTAssertEqual(got.squaredNorms.map(\.bitPattern), onOne.squaredNorms.map(\.bitPattern))
        }
        XCTAssertThrowsTesseraError(try a.residualGradient(block: y, rhs: rhs, columns: m + 1, engine: two), "B must be n×m")
    }

    /// y = Ax, w = Aᵀu and w = AᵀA·y against plain loops, checked BLIS-style with random vectors.
    func testMatrixVectorPassesMatchDenseReference() throws {
        let n = 3_001, d = 17
        let value = Reference.randomMatrix(rows: n, cols: d, seed: 5)
        let engine = try Engine(threads: 2)
        let a = try TiledMatrix(layout: TileLayout(rows: n, cols: d, tileRows: 256), engine: engine, value: value)
        let g = Philox4x32(seed: 99)
        let x = (0..<d).map { g.normal(index: UInt64($0), stream: 1) }
        let u = (0..<n).map { g.normal(index: UInt64($0), stream: 2) }

        var ax = [Double](repeating: 0, count: n), atu = [Double](repeating: 0, count: d)
        for r in 0..<n { for c in 0..<d { ax[r] += value(r, c) * x[c]; atu[c] += value(r, c) * u[r] } }
        var ataX = [Double](repeating: 0, count: d)
        for r in 0..<n { for c in 0..<d { ataX[c] += value(r, c) * ax[r] } }

        XCTAssertLessThanOrEqual(Reference.maxRelativeDifference(try a.multiply(x, engine: engine).toArray(), ax), 1e-13)
        let ut = try TiledVector(u, layout: a.layout, engine: engine)
        XCTAssertLessThanOrEqual(Reference.maxRelativeDifference(try a.transposeMultiply(ut, engine: engine), atu), 1e-13)
        let fused = try a.gramMultiply(x, engine: engine)
        XCTAssertLessThanOrEqual(Reference.maxRelativeDifference(fused, ataX), 1e-13)
        let fusedOne = try a.gramMultiply(x, engine: Engine(threads: 1))
        XCTAssertEqual(fused.map(\.bitPattern), fusedOne.map(\.bitPattern))
        XCTAssertThrowsTesseraError(try a.multiply([1, 2], engine: engine), "x has length 2")
    }

    /// W = AᵀA·Y for a block: the fused panel kernel (d ≤ 256, m ≤ 8) gives each column the very
    /// bits of the one-vector pass, on 1 and 2 threads; the GEMM path (m = 9) agrees to rounding.
    func testBlockGramProductMatchesVectorPassesBitForBit() throws {
        let n = 3_001, d = 17
        let value = Reference.randomMatrix(rows: n, cols: d, seed: 6)
        let engine = try Engine(threads: 2)
        let a = try TiledMatrix(layout: TileLayout(rows: n, cols: d, tileRows: 1_000), engine: engine, value: value)
        let g = Philox4x32(seed: 98)
        let y = (0..<(d * 9)).map { g.normal(index: UInt64($0), stream: 1) }
        let columns = try (0..<9).map { k in try a.gramMultiply(Array(y[(k * d)..<((k + 1) * d)]), engine: engine) }
        let fused = try a.gramMultiply(block: Array(y[0..<(3 * d)]), columns: 3, engine: engine)
        XCTAssertEqual(fused.map(\.bitPattern), columns[0..<3].flatMap { $0 }.map(\.bitPattern))
        let fusedOne = try a.gramMultiply(block: Array(y[0..<(3 * d)]), columns: 3, engine: Engine(threads: 1))
        XCTAssertEqual(fused.map(\.bitPattern), fusedOne.map(\.bitPattern))
        let gemm = try a.gramMultiply(block: y, columns: 9, engine: engine)
        XCTAssertLessThanOrEqual(Reference.maxRelativeDifference(gemm, columns.flatMap { $0 }), 1e-13)
    }

    /// 400 concurrent tasks each call DGEMM on private operands; every product must be right.
    func testBLASFromManyTasksAtOnceGivesCorrectResults() throws {
        let engine = try Engine(threads: 4)
        let m = 33, k = 29, n = 31, count = 400
        let results = Locked([Double](repeating: .infinity, count: count))
        let graph = TaskGraph()
        for t in 0..<count {
            let h = DataHandle.make()
            graph.add(name: "gemm\(t)", writes: [h]) { _ in
                let ga = Reference.randomMatrix(rows: m, cols: k, seed: UInt64(t))
                let gb = Reference.randomMatrix(rows: k, cols: n, seed: UInt64(t + 10_000))
                let a = Reference.dense(rows: m, cols: k, ga), b = Reference.dense(rows: k, cols: n, gb)
                var c = [Double](repeating: 0, count: m * n)
                BLAS.gemm(.none, .none, m: m, n: n, k: k, alpha: 1, a: a, lda: m, b: b, ldb: k, beta: 0, c: &c, ldc: m)
                var reference = [Double](repeating: 0, count: m * n)
                for j in 0..<n { for i in 0..<m { for p in 0..<k { reference[i + j * m] += a[i + p * m] * b[p + j * k] } } }
                let error = Reference.maxRelativeDifference(c, reference)
                results.withLock { $0[t] = error }
            }
        }
        try engine.run(graph)
        XCTAssertLessThanOrEqual(results.withLock { $0.max() } ?? .infinity, 1e-14)
    }

    /// On a synthetic 2 × 2 NUMA machine each tile's memory is requested from the domain that
    /// owns it, and the tasks that touch it run on that domain.
    func testTileMemoryRequestedFromItsDomainOnSyntheticTopology() throws {
        let profile = try MachineProfile.synthetic("pack:2 numa:2 core:4 pu:1")
        let engine = try Engine(profile: profile)
        let layout = try TileLayout(rows: 1_000, cols: 3, tileRows: 100)
        let seen = Locked<[Int: Int]>([:])
        let a = try TiledMatrix(layout: layout, engine: engine) { r, _ in Double(r) }
        XCTAssertEqual(a.tiles.map(\.domain), [0, 0, 0, 1, 1, 2, 2, 2, 3, 3])
        XCTAssertEqual(a.tiles.map(\.domain), (0..<10).map { layout.domain(ofTile: $0, domainCount: 4) })
        let graph = TaskGraph()
        for (i, t) in a.tiles.enumerated() {
            graph.place(t.handle, domain: t.domain)
            graph.add(name: "touch", writes: [t.handle]) { c in seen.withLock { $0[i] = c.domain } }
        }
        try engine.run(graph)
        XCTAssertEqual((0..<10).map { seen.withLock { $0 }[$0] }, a.tiles.map(\.domain))
        XCTAssertEqual(a[999, 2], 999)
    }

    func testCopyInFromRowAndColumnMajorBuffers() throws {
        let engine = try Engine(threads: 2)
        let n = 7, d = 3
        let rowMajor = (0..<(n * d)).map(Double.init)
        let layout = try TileLayout(rows: n, cols: d, tileRows: 3)
        let a = try TiledMatrix(layout: layout, engine: engine)
        try rowMajor.withUnsafeBytes { XCTAssertNil(try a.copyIn(RawMatrix(base: $0.baseAddress!, kind: .float64, rows: n, cols: d, rowMajor: true), engine: engine)) }
        XCTAssertEqual(a[4, 2], Double(4 * d + 2))
        let colMajor = a.toColumnMajorArray()
        let b = try TiledMatrix(layout: layout, engine: engine)
        try colMajor.withUnsafeBytes { XCTAssertNil(try b.copyIn(RawMatrix(base: $0.baseAddress!, kind: .float64, rows: n, cols: d, rowMajor: false), engine: engine)) }
        XCTAssertEqual(b.toColumnMajorArray(), colMajor)
        try colMajor.withUnsafeBytes { raw in
            XCTAssertThrowsTesseraError(try a.copyIn(RawMatrix(base: raw.baseAddress!, kind: .float64, rows: 1, cols: 5, rowMajor: false), engine: engine), "the source matrix is 1×5")
        }
    }

    /// Every element kind, C and Fortran order, any tile height: the same column-major tiles as
    /// the float64 C-order copy, and the first NaN/Inf in the source's own order, in whatever tile.
    func testCopyInConvertsEveryKindAndFindsTheFirstNonFiniteEntryInFileOrder() throws {
        let engine = try Engine(threads: 2)
        let n = 37, d = 5
        let values = (0..<(n * d)).map { Double(($0 * 7) % 23) - 11 }           // exact in every kind below
        let transposed = (0..<(n * d)).map { k in values[(k % n) * d + k / n] }  // Fortran order
        for tileRows in [4, 16, 37] {
            let layout = try TileLayout(rows: n, cols: d, tileRows: tileRows)
            let reference = try TiledMatrix(layout: layout, engine: engine)
            try values.withUnsafeBytes { _ = try reference.copyIn(RawMatrix(base: $0.baseAddress!, kind: .float64, rows: n, cols: d, rowMajor: true), engine: engine) }
            for rowMajor in [true, false] {
                let source = rowMajor ? values : transposed
                func check<T>(_ converted: [T], _ kind: ElementKind) throws {
                    let m = try TiledMatrix(layout: layout, engine: engine, zeroed: false)
                    try converted.withUnsafeBytes { XCTAssertNil(try m.copyIn(RawMatrix(base: $0.baseAddress!, kind: kind, rows: n, cols: d, rowMajor: rowMajor), engine: engine)) }
                    XCTAssertEqual(m.toColumnMajorArray(), reference.toColumnMajorArray(), "\(kind) rowMajor=\(rowMajor) tiles of \(tileRows)")
                }
                try check(source.map { Float($0) }, .float32)
                try check(source.map { Int8($0) }, .int(bytes: 1))
                try check(source.map { Int32($0) }, .int(bytes: 4))
                try check(source.map { Int64($0) }, .int(bytes: 8))
                try check(source.map { Int16($0) }, .int(bytes: 2))
                // Two bad entries: (30, 1) comes first in C order, (35, 0) in Fortran order.
                var poisoned = source
                poisoned[rowMajor ? 30 * d + 1 : 30 + 1 * n] = .nan
                poisoned[rowMajor ? 35 * d + 0 : 35 + 0 * n] = -.infinity
                let m = try TiledMatrix(layout: layout, engine: engine, zeroed: false)
                let bad = try poisoned.withUnsafeBytes { try m.copyIn(RawMatrix(base: $0.baseAddress!, kind: .float64, rows: n, cols: d, rowMajor: rowMajor), engine: engine) }
                XCTAssertEqual(bad.map { [$0.row, $0.col] }, rowMajor ? [30, 1] : [35, 0], "tiles of \(tileRows)")
                let badFloat = try poisoned.map { Float($0) }.withUnsafeBytes { try m.copyIn(RawMatrix(base: $0.baseAddress!, kind: .float32, rows: n, cols: d, rowMajor: rowMajor), engine: engine) }
                XCTAssertEqual(badFloat.map { [$0.row, $0.col] }, rowMajor ? [30, 1] : [35, 0])
            }
        }
    }
}

final class TileLayoutTests: XCTestCase {
    func testLayoutValidatesShapeAndTileRows() throws {
        XCTAssertThrowsError(try TileLayout(rows: 10, cols: 3, tileRows: 11)) { e in
            XCTAssertTrue((e as? TesseraError)?.message.contains("larger than the matrix") ?? false)
        }
        XCTAssertThrowsTesseraError(try TileLayout(rows: 10, cols: 3, tileRows: 0), "tile height must be at least 1")
        XCTAssertThrowsTesseraError(try TileLayout(rows: 0, cols: 3, tileRows: 1), "is empty")
        XCTAssertThrowsTesseraError(try TileLayout(rows: 1 << 40, cols: 1 << 12, tileRows: 1 << 30), "more elements than BLAS can index")
        let l = try TileLayout(rows: 10, cols: 3, tileRows: 4)
        XCTAssertEqual(l.tileCount, 3)
        XCTAssertEqual(l.rowRange(ofTile: 2), 8..<10)
    }

    func testRecommendedTileRowsBalanceAndSize() {
        let caches = CacheSizes(l1d: 32 << 10, l2: 512 << 10, l3: 32 << 20)
        let big = TileChoice.recommended(rows: 1_000_000, cols: 256, workers: 2, caches: caches)
        XCTAssertEqual(big.tileRows, 2048)  // 4 MiB tiles
        let balanced = TileChoice.recommended(rows: 20_000, cols: 64, workers: 4, caches: caches)
        // 4 tiles per worker asks for 1,250 rows, rounded to the canonical block of 1,024 rows.
        XCTAssertEqual(TileLayout.reductionBlockRows(rows: 20_000, cols: 64), 1_024)
        XCTAssertEqual(balanced.tileRows, 1_024)
        let tiny = TileChoice.recommended(rows: 100, cols: 5, workers: 2, caches: caches)
        XCTAssertEqual(tiny.tileRows, 100)
    }
}

final class OpenBLASRuntimeTests: XCTestCase {
    func testRecommendedCoreTypeOnlyForOldCoresOnModernCPUs() {
        XCTAssertEqual(OpenBLASRuntime.recommendedCoreType(detected: "Prescott", avx512: true, avx2fma: true), "SkylakeX")
        XCTAssertEqual(OpenBLASRuntime.recommendedCoreType(detected: "Prescott", avx512: false, avx2fma: true), "Haswell")
        XCTAssertNil(OpenBLASRuntime.recommendedCoreType(detected: "Prescott", avx512: false, avx2fma: false))
        XCTAssertNil(OpenBLASRuntime.recommendedCoreType(detected: "Zen", avx512: false, avx2fma: true))
        XCTAssertNil(OpenBLASRuntime.recommendedCoreType(detected: "SkylakeX", avx512: true, avx2fma: true))
    }

    func testEngineRunsBLASSingleThreaded() throws {
        _ = try Engine()
        XCTAssertEqual(OpenBLASRuntime.threadCount, 1)
    }
}
