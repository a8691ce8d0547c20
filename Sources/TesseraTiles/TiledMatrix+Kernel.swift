import TesseraCore
import TesseraKernels
import TesseraRuntime

/// The attention kernel K = exp(AAᵀ) (entrywise) of a tiled A, used without ever storing it.
///
/// (K + λI)·x runs as a task graph over tile pairs (I ≤ J): a task walks the pair's block
/// exp(A_I A_Jᵀ) in cache-sized panels P×Q of at most `kernelPanelRows`² entries, each made in
/// per-worker scratch (one GEMM, 2·P·Q·d flops, and P·Q exps) and used at once while it is in
/// cache: c_{I←J}[P] += B·x_J[Q] and c_{J←I}[Q] += Bᵀ·x_I[P] (in a diagonal block I = J only
/// the panels on and above its diagonal run, the transposed half for those above), so each off-diagonal
/// block serves both tile rows. Panels go in a fixed order, and one task per tile row then sums
/// its contributions in the fixed order J = 0, 1, … (plus λ·x_I): the same bits for any number of
/// threads. Cost n²d flops and n²/2 exps per product; memory n·d (A) + workers·kernelPanelRows²
/// (panels) + T·n (contributions), never n². In a distributed engine each process owns a range of
/// tiles and the pairs are computed around a ring (`KernelRing`, `ringKernelMultiply`): the same
/// bits for any process count.
extension TiledMatrix {
    /// This process's rows of (K + λI)·x from its rows of x (`RowPartition(layout:engine:)`): the
    /// ring product distributed (no n-vector held), the whole product in a single process.
    public func kernelMultiply(rows x: [Double], ridge lambda: Double = 0, single: SingleRowTiles? = nil,
                               engine: Engine) throws(TesseraError) -> [Double] {
        if let exchange = engine.exchange, exchange.size > 1 {
            if let single, single.layout != layout || single.held != KernelRing.heldTiles(tileCount: layout.tileCount, engine: engine) {
                throw .internalFailure("the float32 copy of A was made for another layout or another division among processes")
            }
            return try ringKernelMultiply(rows: x, ridge: lambda, single: single, engine: engine, exchange: exchange)
        }
        return try kernelMultiply(x, ridge: lambda, single: single, engine: engine)
    }

    /// The largest squared row norm max‖aᵢ‖² (one task per tile, then a max); ⟨aᵢ, a_k⟩ ≤ it. In a
    /// distributed engine each process reads only its own tiles (`KernelRing`) and the maxima are
    /// gathered (a max is exact in any order: the same value everywhere).
    public func maxRowNormSquared(engine: Engine) throws(TesseraError) -> Double {
        let exchange = engine.exchange.flatMap { $0.size > 1 ? $0 : nil }
        let owned = KernelRing.heldTiles(tileCount: layout.tileCount, engine: engine)
        let maxima = try Self.agreeingOnFailure(engine: engine) { () throws(TesseraError) in
            try ColumnBlock(rows: layout.tileCount, cols: 1, engine: engine, rowBlock: 1)
        }
        let graph = TaskGraph()
        for t in owned {
            let storage = tiles[t], tile = storage.tile
            graph.add(name: "row-norms", reads: [storage.handle], writes: maxima.handles(rows: t..<(t + 1), cols: 0..<1),
                      domain: storage.domain) { _ in
                try self.requireFinite(t)
                var best = 0.0
                for r in 0..<tile.rows {
                    var s = 0.0
                    for j in 0..<tile.cols { s += tile[r, j] * tile[r, j] }
                    best = Swift.max(best, s)
                }
                maxima.base[t] = best
            }
        }
        guard let exchange else {
            try engine.run(graph)
            return maxima.toArray().max() ?? 0
        }
        var failure: TesseraError?
        do { try engine.run(graph) } catch { failure = error }
        let local = maxima.toArray()[owned].max() ?? 0
        let all = try exchange.allGather(owned: [local], counts: [Int](repeating: 1, count: exchange.size), failure: failure)
        return all.max() ?? 0
    }

    /// diag(exp(AAᵀ)) = exp(‖aᵢ‖²) for every row (each sum in column order, then `VectorExp.exp`):
    /// n·d flops, one read of A. In a distributed engine each process reads only its own tiles'
    /// rows (`KernelRing`) and the n values are gathered: the same bits everywhere.
    public func kernelDiagonal(engine: Engine) throws(TesseraError) -> [Double] {
        let ring = KernelRing(tileCount: layout.tileCount, engine: engine)
        let owned = ring.map { $0.rows(of: $0.rank, layout: layout) } ?? 0..<rows
        let values = owned.map { i in
            var s = 0.0
            for j in 0..<cols { let v = self[i, j]; s += v * v }
            return VectorExp.exp(s)
        }
        guard let ring, let exchange = engine.exchange else { return values }
        return try exchange.allGather(owned: values, counts: (0..<ring.size).map { ring.rows(of: $0, layout: layout).count }, failure: nil)
    }

    /// Refuses A when exp(⟨aᵢ, a_k⟩) could overflow float64 (⟨aᵢ,a_k⟩ ≤ max‖aᵢ‖² > 709.78).
    public func checkKernelOverflow(engine: Engine) throws(TesseraError) {
        let r2 = try maxRowNormSquared(engine: engine)
        guard r2 <= VectorExp.overflowThreshold else {
            let largest = r2.squareRoot()
            throw .invalidInput("exp(AAᵀ) would overflow: the largest row of A has norm \(largest) (norm² \(r2) > 709.78); scale A down, e.g. by d^(-1/4) = \(1 / Double(cols).squareRoot().squareRoot()) as attention does")
        }
    }

    /// Rows of a kernel panel: a 512×512 panel (2 MiB) stays in cache between its GEMM, exp and
    /// the two products that use it. (A whole 8,192-row tile pair made the block 512 MiB per
    /// worker, written and read four times from memory.)
    public static let kernelPanelRows = 512

    /// y = (exp(AAᵀ) + λI)·x for x ∈ ℝⁿ, without storing the kernel. Call `checkKernelOverflow`
    /// once first: this product does not repeat the check.
    ///
    /// With `single` (A rounded to float32, `SingleRowTiles`) each panel's arguments come from
    /// SGEMM into float32 and its exps are float32 (`ExpPanelProduct`: made in registers and
    /// used at once, accumulated in float64) — the mixed-precision product K̃·x, K̃ within
    /// ≈ (d + 2)·2⁻²⁴·‖aᵢ‖‖a_k‖ + `SingleExp.relativeErrorBound` of K entrywise (relative), at
    /// about half the cost; the same task graph and summation order, so the same bits for any
    /// number of threads too.
    public func kernelMultiply(_ x: [Double], ridge lambda: Double = 0, single: SingleRowTiles? = nil,
                               engine: Engine) throws(TesseraError) -> [Double] {
        guard x.count == rows else { throw .invalidArgument("x has length \(x.count), the kernel has order \(rows)") }
        if let single, single.layout != layout || single.held != KernelRing.heldTiles(tileCount: layout.tileCount, engine: engine) {
            throw .internalFailure("the float32 copy of A was made for another layout or another division among processes")
        }
        if let exchange = engine.exchange, exchange.size > 1 {
            let partition = RowPartition(layout: layout, engine: engine)
            let y = try ringKernelMultiply(rows: partition.slice(x), ridge: lambda, single: single, engine: engine, exchange: exchange)
            return try partition.gather(y)
        }
        let t = layout.tileCount, panel = Swift.min(Self.kernelPanelRows, layout.tileRows)
        let xs = try SharedBlock(x, engine: engine)
        let scratch = try SharedBlock(rows: single == nil ? panel * panel : 1, cols: engine.workerCount, engine: engine)
        let singlePanels = single == nil ? nil : try SinglePanels(capacity: panel * panel, engine: engine)
        // contributions[I][J] holds c_{I←J} (rowCount(I) doubles), one handle each.
        var contributions: [[SharedBlock]] = []
        for i in 0..<t {
            var row: [SharedBlock] = []
            for _ in 0..<t { row.append(try SharedBlock(rows: layout.rowCount(ofTile: i), engine: engine, domain: tiles[i].domain)) }
            contributions.append(row)
        }
        let y = try ColumnBlock(rows: rows, cols: 1, engine: engine, rowBlock: Swift.max(rows, 1), alignedWith: layout)
        let graph = TaskGraph()
        let storages = tiles, lay = layout
        for i in 0..<t { for j in i..<t {
            let cij = contributions[i][j], cji = contributions[j][i]
            let writes = i == j ? [cij.handle] : [cij.handle, cji.handle]
            graph.place(cij.handle, domain: storages[i].domain)
            var reads = [storages[i].handle, storages[j].handle, xs.handle]
            if let single { reads += [single.handle(i), single.handle(j)] }
            graph.add(name: "kernel-block", reads: reads, writes: writes) { context in
                try self.requireFinite(i)
                try self.requireFinite(j)
                let xi = xs.pointer + lay.rowRange(ofTile: i).lowerBound, xj = xs.pointer + lay.rowRange(ofTile: j).lowerBound
                Self.pairContributions(storages[i].tile, storages[j].tile, single: single.map { ($0.pointer(i), $0.pointer(j)) },
                                       panel: panel, scratch: scratch.pointer + context.worker * panel * panel,
                                       singleScratch: singlePanels?.panel(worker: context.worker),
                                       x: (UnsafePointer(xi), UnsafePointer(xj)), y: (cij.pointer, cji.pointer), diagonal: i == j)
            }
        } }
        for i in 0..<t {
            // y's tile ranges are disjoint, so each gets its own handle.
            let parts = contributions[i], range = layout.rowRange(ofTile: i), yPart = y.handles(rows: range, cols: 0..<1)
            graph.add(name: "kernel-sum", reads: parts.map(\.handle), writes: yPart, domain: storages[i].domain) { _ in
                let out = y.base + range.lowerBound
                for k in 0..<range.count { out[k] = lambda * xs.pointer[range.lowerBound + k] }
                for part in parts { BLAS.axpy(count: range.count, alpha: 1, x: part.pointer, y: out) }
            }
        }
        try engine.run(graph)
        return y.toArray()
    }

    /// One tile pair's contributions, in panels of at most `panel` rows: c_{I←J} = K_IJ·x_J into
    /// y.0 and, unless `diagonal` (I = J, where only the panels on and above the diagonal run and
    /// those above serve both of their row ranges), c_{J←I} = K_IJᵀ·x_I into y.1 — both zeroed
    /// first. Float64 panels from tiles ai, aj in `scratch` (panel² doubles), or float32 panels
    /// from their rounded rows `single` in `singleScratch`. Every product runs its pairs here, so
    /// a pair has the same bits whichever task, worker or process computes it.
    static func pairContributions(_ ai: Tile, _ aj: Tile, single: (UnsafePointer<Float>, UnsafePointer<Float>)?, panel: Int,
                                  scratch: UnsafeMutablePointer<Double>, singleScratch: UnsafeMutablePointer<Float>?,
                                  x: (UnsafePointer<Double>, UnsafePointer<Double>),
                                  y: (UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>), diagonal: Bool) {
        y.0.update(repeating: 0, count: ai.rows)
        if !diagonal { y.1.update(repeating: 0, count: aj.rows) }
        if let single, let singleScratch {
            singlePanelProducts(single.0, rows: ai.rows, single.1, rows: aj.rows, depth: ai.cols, panel: panel,
                                scratch: singleScratch, x: x, y: y, diagonalBlock: diagonal)
            return
        }
        for p0 in stride(from: 0, to: ai.rows, by: panel) {
            let pRows = Swift.min(panel, ai.rows - p0)
            for q0 in stride(from: diagonal ? p0 : 0, to: aj.rows, by: panel) {
                let qRows = Swift.min(panel, aj.rows - q0)
                KernelPanel.compute(a: ai.rows(p0..<(p0 + pRows)), b: aj.rows(q0..<(q0 + qRows)), into: scratch, ldc: pRows)
                BLAS.gemv(.none, m: pRows, n: qRows, alpha: 1, a: scratch, lda: pRows, x: x.1 + q0, beta: 1, y: y.0 + p0)
                if !diagonal || q0 != p0 {
                    BLAS.gemv(.transpose, m: pRows, n: qRows, alpha: 1, a: scratch, lda: pRows, x: x.0 + p0, beta: 1, y: y.1 + q0)
                }
            }
        }
    }
}

extension TiledMatrix {
    /// The mixed-precision products of one block pair (rows P of tile I against rows Q of tile J,
    /// float32 row-major operands; `scratch` holds panel² floats): for each panel, S = Ã_P·Ã_Qᵀ by SGEMM into float32 scratch,
    /// then c_{I←J}[P] += exp(S)·x_J[Q] and c_{J←I}[Q] += exp(S)ᵀ·x_I[P] — in a diagonal block
    /// (I = J, the two contributions the same vector) only for the panels above its diagonal,
    /// which serve both row ranges; a diagonal panel (P = Q) only once.
    static func singlePanelProducts(_ ai: UnsafePointer<Float>, rows iRows: Int, _ aj: UnsafePointer<Float>, rows jRows: Int,
                                    depth d: Int, panel: Int, scratch s: UnsafeMutablePointer<Float>, x: (UnsafePointer<Double>, UnsafePointer<Double>),
                                    y: (UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>), diagonalBlock: Bool) {
        for p0 in stride(from: 0, to: iRows, by: panel) {
            let pRows = Swift.min(panel, iRows - p0)
            for q0 in stride(from: diagonalBlock ? p0 : 0, to: jRows, by: panel) {
                let qRows = Swift.min(panel, jRows - q0)
                BLAS.gemm(.transpose, .none, m: pRows, n: qRows, k: d, alpha: 1, a: ai + p0 * d, lda: d,
                          b: aj + q0 * d, ldb: d, beta: 0, c: s, ldc: pRows)
                ExpPanelProduct.apply(s, ld: pRows, rows: pRows, cols: qRows, xRows: x.0 + p0, xCols: x.1 + q0,
                                      yRows: y.0 + p0, yCols: y.1 + q0, transposedToo: !diagonalBlock || q0 != p0)
            }
        }
    }
}

extension TiledMatrix {
    /// Y = exp(AAᵀ)·X for a block X ∈ ℝ^{n×k} (a `ColumnBlock` of n rows), without
    /// storing the kernel: one task per tile row I owns Y_I and walks every panel pair
    /// (P of tile I, Q of any tile) in a fixed order — one GEMM and P·Q exps for the panel, then
    /// Y_I[P] += panel·X[Q] (a GEMM with k columns). The same bits for any number of workers.
    /// Cost 2n²d + 2n²k flops and n² exps (symmetry is not used: each task owns its rows);
    /// memory workers·kernelPanelRows² beyond X and Y.
    public func kernelMultiply(block x: ColumnBlock, columns k: Int, into y: ColumnBlock, engine: Engine) throws(TesseraError) {
        guard x.rows == rows, y.rows == rows, x.cols >= k, y.cols >= k else {
            throw .internalFailure("kernelMultiply(block:): X and Y must have n = \(rows) rows and \(k) columns")
        }
        guard k > 0 else { return }
        let n = rows, panel = Swift.min(Self.kernelPanelRows, layout.tileRows)
        let scratch = try SharedBlock(rows: panel * panel, cols: engine.workerCount, engine: engine)
        let graph = TaskGraph()
        let storages = tiles, lay = layout, t = layout.tileCount
        for i in 0..<t {
            let i0 = lay.rowRange(ofTile: i).lowerBound
            let writes = y.handles(rows: lay.rowRange(ofTile: i), cols: 0..<k)
            graph.add(name: "kernel-block-product", reads: x.allHandles + storages.map(\.handle), writes: writes,
                      domain: storages[i].domain) { context in
                for j in 0..<t { try self.requireFinite(j) }
                let ai = storages[i].tile
                let block = scratch.pointer + context.worker * panel * panel
                for p0 in stride(from: 0, to: ai.rows, by: panel) {
                    let pRows = Swift.min(panel, ai.rows - p0)
                    for j in 0..<t {
                        let aj = storages[j].tile, j0 = lay.rowRange(ofTile: j).lowerBound
                        for q0 in stride(from: 0, to: aj.rows, by: panel) {
                            let qRows = Swift.min(panel, aj.rows - q0)
                            KernelPanel.compute(a: ai.rows(p0..<(p0 + pRows)), b: aj.rows(q0..<(q0 + qRows)), into: block, ldc: pRows)
                            BLAS.gemm(.none, .none, m: pRows, n: k, k: qRows, alpha: 1, a: block, lda: pRows,
                                      b: x.base + j0 + q0, ldb: n, beta: 1, c: y.base + i0 + p0, ldc: n)
                        }
                    }
                }
            }
        }
        try engine.run(graph)
    }
}
