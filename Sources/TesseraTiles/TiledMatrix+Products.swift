import TesseraCore
import TesseraKernels
import TesseraRuntime

/// Matrix–vector passes over a tiled A, each one task graph:
/// - `multiply(_:)`: y = Ax, one GEMV per tile (2nd flops, one pass over A);
/// - `transposeMultiply(_:)`: w = Aᵀu, one GEMVᵀ per tile into a private d-vector, partials
///   summed by a fixed binary tree (`TaskGraph.addTreeReduction`), so the bits do not depend on
///   the thread count;
/// - `gramMultiply(_:)`: w = AᵀA·y in one pass: per tile t = Aᵢy then wᵢ = Aᵢᵀt (4nd flops);
///   row-major tiles (a C-order file used in place) row by row and column-major tiles of d ≤ 256
///   panel by panel of rows, so A is read from memory once (`GramVectorProduct`), wider
///   column-major tiles by two GEMVs; partials summed by the same tree;
/// - the block forms `gramMultiply(block:)` (the fused panel kernel for d ≤ 256 and a few
///   columns, else BLAS-3) and `residualGradient(block:rhs:)` (BLAS-3).
extension TiledMatrix {
    /// y = Ax for x ∈ ℝ^d.
    public func multiply(_ x: [Double], engine: Engine) throws(TesseraError) -> TiledVector {
        guard x.count == cols else { throw .invalidArgument("x has length \(x.count), A has \(cols) columns") }
        let xs = try SharedBlock(x, engine: engine)
        let y = try TiledVector(layout: layout, engine: engine)
        let graph = TaskGraph()
        for (i, a) in tiles.enumerated() {
            let tile = a.tile, out = y.blocks[i].tile
            graph.place(y.blocks[i].handle, domain: a.domain)
            graph.add(name: "gemv", reads: [a.handle, xs.handle], writes: [y.blocks[i].handle]) { _ in
                try self.requireFinite(i)
                tile.gemv(transposed: false, x: xs.pointer, beta: 0, y: out.base)
            }
        }
        try engine.run(graph)
        return y
    }

    /// w = Aᵀu for u ∈ ℝ^n (tiled like A's rows).
    public func transposeMultiply(_ u: TiledVector, engine: Engine) throws(TesseraError) -> [Double] {
        guard u.layout == layout else { throw .invalidArgument("u is not tiled like A's rows") }
        return try reducedPerTile(engine: engine, name: "gemvT") { _, i, partial in
            self.tiles[i].tile.gemv(transposed: true, x: u.blocks[i].memory.baseAddress, beta: 0, y: partial)
        } extraReads: { i in [u.blocks[i].handle] }
    }

    /// w = AᵀA·y for y ∈ ℝ^d, in one pass over A.
    public func gramMultiply(_ y: [Double], engine: Engine) throws(TesseraError) -> [Double] {
        guard y.count == cols else { throw .invalidArgument("y has length \(y.count), A has \(cols) columns") }
        let ys = try SharedBlock(y, engine: engine)
        let scratch = try SharedBlock(rows: layout.tileRows, cols: engine.workerCount, engine: engine)
        let ldScratch = layout.tileRows
        return try reducedPerTile(engine: engine, name: "AtAy") { context, i, partial in
            let tile = self.tiles[i].tile
            // Reentrant per worker: column `worker` of the scratch block belongs to one task at a time.
            let t = scratch.pointer + context.worker * ldScratch
            if tile.order == .rowMajor {
                GramVectorProduct.applyRows(tile.readOnly, ld: tile.ld, rows: tile.rows, cols: tile.cols, columns: 1,
                                            y: ys.pointer, w: partial)
            } else if GramVectorProduct.fusedPays(cols: tile.cols) {
                GramVectorProduct.apply(tile.readOnly, ld: tile.ld, rows: tile.rows, cols: tile.cols, y: ys.pointer,
                                        scratch: t, w: partial)
            } else {
                tile.gemv(transposed: false, x: ys.pointer, beta: 0, y: t)
                tile.gemv(transposed: true, x: t, beta: 0, y: partial)
            }
        } extraReads: { _ in [ys.handle] }
    }

    /// W = AᵀA·Y for a block Y ∈ ℝ^{d×m} (column-major), in one pass over A: per tile
    /// T = AᵢY then Wᵢ = AᵢᵀT (two GEMMs, 4ndm flops in all), partials summed by the fixed tree.
    /// For d ≤ 256 and m ≤ 8 the fused panel kernel (`GramVectorProduct.apply(block:)`) instead,
    /// which reads each tile from memory once (two GEMMs with a few columns read it twice and
    /// pack it; docs/BENCHMARKS.md has the measurement).
    public func gramMultiply(block y: [Double], columns m: Int, engine: Engine) throws(TesseraError) -> [Double] {
        guard m > 0, y.count == cols * m else { throw .invalidArgument("Y has \(y.count) entries, expected d·m = \(cols)·\(m)") }
        let ys = try SharedBlock(y, engine: engine)
        let ldScratch = layout.tileRows
        let scratch = try SharedBlock(rows: ldScratch * m, cols: engine.workerCount, engine: engine)
        let d = cols
        let fewColumns = m <= GramVectorProduct.maxBlockColumns
        return try reducedPerTile(engine: engine, name: "AtAY", partialCount: d * m) { context, i, partial in
            let tile = self.tiles[i].tile
            let t = scratch.pointer + context.worker * ldScratch * m
            if fewColumns && tile.order == .rowMajor {
                GramVectorProduct.applyRows(tile.readOnly, ld: tile.ld, rows: tile.rows, cols: tile.cols, columns: m,
                                            y: ys.pointer, w: partial)
                return
            }
            if fewColumns && GramVectorProduct.fusedPays(cols: d) {
                GramVectorProduct.apply(block: tile.readOnly, ld: tile.ld, rows: tile.rows, cols: tile.cols, columns: m,
                                        y: ys.pointer, scratch: t, w: partial)
                return
            }
            let a = tile.operand(transposed: false), at = tile.operand(transposed: true)
            BLAS.gemm(a.flag, .none, m: tile.rows, n: m, k: d, alpha: 1, a: a.pointer, lda: a.ld,
                      b: ys.pointer, ldb: d, beta: 0, c: t, ldc: ldScratch)
            BLAS.gemm(at.flag, .none, m: d, n: m, k: tile.rows, alpha: 1, a: at.pointer, lda: at.ld,
                      b: t, ldb: ldScratch, beta: 0, c: partial, ldc: d)
        } extraReads: { _ in [ys.handle] }
    }

    /// G = Aᵀ(B − AY) and the squared column norms of B − AY, for Y ∈ ℝ^{d×m} (column-major;
    /// `nil` for Y = 0, which gives G = AᵀB) and B ∈ ℝ^{n×m} (column-major, ld = n), in one pass
    /// over A: per tile T = Bᵢ − AᵢY (a copy and a GEMM), then Gᵢ = AᵢᵀT (a GEMM) and the squares
    /// of T's columns, partials summed by the fixed tree. 4ndm flops. The least-squares gradient
    /// and residual norms of a whole block of right-hand sides at once.
    public func residualGradient(block y: [Double]?, rhs b: SharedBlock, columns m: Int,
                                 engine: Engine) throws(TesseraError) -> (gradient: [Double], squaredNorms: [Double]) {
        let n = rows, d = cols
        guard m > 0, b.storage.rows * b.storage.cols == n * m, y.map({ $0.count == d * m }) ?? true else {
            throw .invalidArgument("residualGradient: B must be n×m = \(n)×\(m) and Y d×m = \(d)×\(m)")
        }
        let ys = try y.map { (v) throws(TesseraError) in try SharedBlock(v, engine: engine) }
        let ldScratch = layout.tileRows
        let scratch = try SharedBlock(rows: ldScratch * m, cols: engine.workerCount, engine: engine)
        let rowStarts = (0..<layout.tileCount).map { layout.rowRange(ofTile: $0).lowerBound }
        let total = try reducedPerTile(engine: engine, name: "At(B-AY)", partialCount: d * m + m) { context, i, partial in
            let tile = self.tiles[i].tile
            let t = scratch.pointer + context.worker * ldScratch * m
            for c in 0..<m { (t + c * ldScratch).update(from: b.pointer + c * n + rowStarts[i], count: tile.rows) }
            let a = tile.operand(transposed: false), at = tile.operand(transposed: true)
            if let ys {
                BLAS.gemm(a.flag, .none, m: tile.rows, n: m, k: d, alpha: -1, a: a.pointer, lda: a.ld,
                          b: ys.pointer, ldb: d, beta: 1, c: t, ldc: ldScratch)
            }
            BLAS.gemm(at.flag, .none, m: d, n: m, k: tile.rows, alpha: 1, a: at.pointer, lda: at.ld,
                      b: t, ldb: ldScratch, beta: 0, c: partial, ldc: d)
            for c in 0..<m { partial[d * m + c] = BLAS.dot(count: tile.rows, t + c * ldScratch, t + c * ldScratch) }
        } extraReads: { _ in [b.handle] + (ys.map { [$0.handle] } ?? []) }
        return (Array(total[0..<(d * m)]), Array(total[(d * m)...]))
    }

    /// Runs `kernel(context, i, partialᵢ)` for every tile (after `requireFinite(i)`) into a
    /// private block of `partialCount` doubles (default d), then sums the partials with a fixed binary tree and returns the total.
    func reducedPerTile(engine: Engine, name: String, partialCount: Int? = nil,
                        kernel: @escaping @Sendable (TaskContext, Int, UnsafeMutablePointer<Double>) -> Void,
                        extraReads: (Int) -> [DataHandle]) throws(TesseraError) -> [Double] {
        let d = partialCount ?? cols
        var partials: [SharedBlock] = []
        for t in tiles { partials.append(try SharedBlock(rows: d, engine: engine, domain: t.domain)) }
        let graph = TaskGraph()
        for (i, a) in tiles.enumerated() {
            let p = partials[i]
            graph.place(p.handle, domain: a.domain)
            graph.add(name: name, reads: [a.handle] + extraReads(i), writes: [p.handle]) { context in
                try self.requireFinite(i)
                kernel(context, i, p.pointer)
            }
        }
        let frozen = partials
        graph.addTreeReduction(name: "sum", handles: partials.map(\.handle)) { into, from in
            BLAS.axpy(count: d, alpha: 1, x: frozen[from].pointer, y: frozen[into].pointer)
        }
        try engine.run(graph)
        return partials[0].toArray()
    }
}
