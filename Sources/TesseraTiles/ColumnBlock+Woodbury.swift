import TesseraCore
import TesseraKernels
import TesseraRuntime

/// The products of a tall factor F ∈ ℝ^{n×k} (the first k columns of a `ColumnBlock`) that the
/// Woodbury identity needs, and triangular solves with a factored square block:
/// FᵀF by column blocks of its upper triangle (n·k² flops), Fᵀv by column blocks (2nk), (v − F·t)·s
/// by row blocks (2nk), and R⁻¹R⁻ᵀx for an upper Cholesky factor R (2k²). Fixed splits, one BLAS
/// call per task: the same bits for any number of workers. Throws only what running a graph
/// throws, or `internalFailure` for shapes that do not fit.
extension ColumnBlock {
    /// C = FᵀF (k × k, in a block of max(1, k)², column blocks of `ColumnBlock.columnBlock`), of
    /// which the upper triangle is formed: task J makes C[0 ..< j0 + width, J] = F[:, 0 ..< j0 + width]ᵀ·F[:, J].
    /// Distributed (F the same on every process), process r makes the column blocks J ≡ r (mod P)
    /// and an allgather gives every process all of them (k(k + 256)/2 values): each block is made
    /// by the same GEMM wherever it runs, so C has the same bits for any P, and the n·k² flops are
    /// divided by P. Throws the agreed failure of any process.
    public func gramUpperByColumnBlocks(columns k: Int, engine: Engine) throws(TesseraError) -> ColumnBlock {
        guard k <= cols else { throw .internalFailure("gramUpperByColumnBlocks: \(k) columns of a block with \(cols)") }
        let exchange = engine.exchange.flatMap { $0.size > 1 ? $0 : nil }
        let c = try TiledMatrix.agreeingOnFailure(engine: engine) { () throws(TesseraError) in
            try ColumnBlock(rows: max(1, k), cols: max(1, k), engine: engine, columnBlock: Self.columnBlock)
        }
        guard k > 0 else { return c }
        let starts = Array(stride(from: 0, to: k, by: Self.columnBlock))
        func width(_ j0: Int) -> Int { min(Self.columnBlock, k - j0) }
        func maker(_ index: Int) -> Int { exchange.map { index % $0.size } ?? 0 }
        let f = self, n = rows, reads = allHandles
        let graph = TaskGraph()
        for (index, j0) in starts.enumerated() where maker(index) == (exchange?.rank ?? 0) {
            let w = width(j0)
            graph.add(name: "woodbury-gram", reads: reads, writes: c.handles(rows: 0..<k, cols: j0..<(j0 + w))) { _ in
                BLAS.gemm(.transpose, .none, m: j0 + w, n: w, k: n, alpha: 1, a: f.base, lda: n,
                          b: f.base + j0 * n, ldb: n, beta: 0, c: c.base + j0 * k, ldc: k)
            }
        }
        guard let exchange else {
            try engine.run(graph)
            return c
        }
        var failure: TesseraError?
        do { try engine.run(graph) } catch { failure = error }
        // Block J's upper part, C[0 ..< j0 + width, J], column by column; process 0's blocks first.
        func parts(of r: Int) -> [(column: Int, rows: Int)] {
            starts.enumerated().filter { maker($0.offset) == r }.flatMap { (_, j0) in (j0..<(j0 + width(j0))).map { ($0, j0 + width(j0)) } }
        }
        var own: [Double] = []
        if failure == nil { for part in parts(of: exchange.rank) { own += UnsafeBufferPointer(start: c.base + part.column * k, count: part.rows) } }
        let all = try exchange.allGather(owned: own, counts: (0..<exchange.size).map { parts(of: $0).reduce(0) { $0 + $1.rows } }, failure: failure)
        var offset = 0
        all.withUnsafeBufferPointer { source in
            guard let base = source.baseAddress else { return }
            for r in 0..<exchange.size {
                for part in parts(of: r) {
                    (c.base + part.column * k).update(from: base + offset, count: part.rows)
                    offset += part.rows
                }
            }
        }
        return c
    }

    /// Factors this square block's leading order × order part (column-major, leading dimension
    /// `rows` = order) in place into its upper Cholesky factor U (UᵀU = B) with `TiledCholesky`;
    /// throws `numerical` when it is not numerically positive definite.
    public func factorCholesky(order: Int, engine: Engine) throws(TesseraError) {
        guard order <= min(rows, cols), order == rows || order == 0 else {
            throw .internalFailure("factorCholesky: order \(order) of a \(rows) × \(cols) block")
        }
        try TiledCholesky.factor(shared, order: order, engine: engine)
    }

    /// t = F[:, 0..<k]ᵀ·v (length k), by column blocks (one GEMV each).
    public func transposedTimes(vector v: [Double], columns k: Int, engine: Engine) throws(TesseraError) -> [Double] {
        guard v.count == rows, k <= cols else {
            throw .internalFailure("transposedTimes(vector:): a vector of \(v.count) for a \(rows) × \(cols) block")
        }
        guard k > 0 else { return [] }
        let vs = try SharedBlock(v, engine: engine)
        let t = try ColumnBlock(rows: k, cols: 1, engine: engine, rowBlock: Self.columnBlock)
        let f = self, n = rows, reads = allHandles + [vs.handle]
        let graph = TaskGraph()
        for j0 in stride(from: 0, to: k, by: Self.columnBlock) {
            let width = min(Self.columnBlock, k - j0)
            graph.add(name: "woodbury-project", reads: reads, writes: t.handles(rows: j0..<(j0 + width), cols: 0..<1)) { _ in
                BLAS.gemv(.transpose, m: n, n: width, alpha: 1, a: f.base + j0 * n, lda: n, x: vs.pointer, beta: 0, y: t.base + j0)
            }
        }
        try engine.run(graph)
        return t.toArray()
    }

    /// w = (v − F[:, 0..<k]·t)·scale (length n), by row blocks (one GEMV each).
    public func expand(_ v: [Double], minus t: [Double], columns k: Int, scale: Double, engine: Engine) throws(TesseraError) -> [Double] {
        guard v.count == rows, t.count >= k, k <= cols, k > 0 else {
            throw .internalFailure("expand: v of \(v.count), t of \(t.count) for a \(rows) × \(cols) block and \(k) columns")
        }
        let vs = try SharedBlock(v, engine: engine), ts = try SharedBlock(t, engine: engine)
        let w = try ColumnBlock(rows: rows, cols: 1, engine: engine)
        let f = self, n = rows
        let graph = TaskGraph()
        for r0 in stride(from: 0, to: n, by: Self.rowBlock) {
            let count = min(Self.rowBlock, n - r0)
            graph.add(name: "woodbury-expand", reads: allHandles + [vs.handle, ts.handle],
                      writes: w.handles(rows: r0..<(r0 + count), cols: 0..<1)) { _ in
                let out = w.base + r0
                for i in 0..<count { out[i] = vs.pointer[r0 + i] }
                BLAS.gemv(.none, m: count, n: k, alpha: -1, a: f.base + r0, lda: n, x: ts.pointer, beta: 1, y: out)
                for i in 0..<count { out[i] *= scale }
            }
        }
        try engine.run(graph)
        return w.toArray()
    }

    /// x ← R⁻¹R⁻ᵀx = (RᵀR)⁻¹x for R the upper triangle of this square block's order × order part
    /// (leading dimension `rows`): two BLAS triangular solves (2·order² flops).
    public func solveUpperNormal(_ x: [Double], order: Int) throws(TesseraError) -> [Double] {
        guard x.count == order, order <= min(rows, cols) else {
            throw .invalidArgument("a vector of length \(x.count) for a triangular factor of order \(order)")
        }
        var y = x
        guard order > 0 else { return y }
        let ld = rows
        y.withUnsafeMutableBufferPointer { yb in
            guard let out = yb.baseAddress else { return }
            BLAS.trsv(.upper, .transpose, n: order, t: base, ldt: ld, x: out)
            BLAS.trsv(.upper, .none, n: order, t: base, ldt: ld, x: out)
        }
        return y
    }
}

/// The same products for vectors divided by rows (`RowPartition`): F is whole on every process,
/// the vectors hold this process's rows, and the work runs by A's tiles — one task per tile, the
/// same BLAS call for a tile wherever it runs, on a 64-byte-aligned copy of the tile's rows of v —
/// so the results have the same bits for any number of processes.
extension ColumnBlock {
    /// Tile t's rows of `v` (a slice) in a block of their own, for each of this process's tiles.
    private static func tileCopies(_ v: [Double], partition: RowPartition, engine: Engine) throws(TesseraError) -> [SharedBlock] {
        try partition.tiles.map { (t) throws(TesseraError) in
            try SharedBlock(Array(v[partition.localRange(ofTile: t)]), engine: engine)
        }
    }

    /// The partials F[rows of t, 0..<k]ᵀ·v_t for this process's tiles t (k values each, tile order;
    /// `RowPartition.combine` sums them). One GEMV (2·rows·k flops) per tile.
    public func transposedTimes(rows v: [Double], partition: RowPartition, columns k: Int,
                                engine: Engine) throws(TesseraError) -> [Double] {
        guard v.count == partition.rows.count, partition.order == rows, k <= cols else {
            throw .internalFailure("transposedTimes(rows:): a slice of \(v.count) for a \(rows) × \(cols) block")
        }
        let tiles = partition.tiles, layout = partition.layout
        guard k > 0, !tiles.isEmpty else { return [] }
        let vs = try Self.tileCopies(v, partition: partition, engine: engine)
        let partials = try ColumnBlock(rows: k * tiles.count, cols: 1, engine: engine, rowBlock: k)
        let f = self, n = rows
        let graph = TaskGraph()
        for (index, t) in tiles.enumerated() {
            let global = layout.rowRange(ofTile: t), part = vs[index]
            graph.add(name: "woodbury-project", reads: allHandles + [part.handle],
                      writes: partials.handles(rows: (index * k)..<((index + 1) * k), cols: 0..<1)) { _ in
                BLAS.gemv(.transpose, m: global.count, n: k, alpha: 1, a: f.base + global.lowerBound, lda: n,
                          x: part.pointer, beta: 0, y: partials.base + index * k)
            }
        }
        try engine.run(graph)
        return partials.toArray()
    }

    /// This process's rows of (v − F[:, 0..<k]·t)·scale from its rows of v: one GEMV per tile.
    public func expand(rows v: [Double], minus t: [Double], partition: RowPartition, columns k: Int, scale: Double,
                       engine: Engine) throws(TesseraError) -> [Double] {
        guard v.count == partition.rows.count, partition.order == rows, t.count >= k, k <= cols, k > 0 else {
            throw .internalFailure("expand(rows:): a slice of \(v.count), t of \(t.count) for a \(rows) × \(cols) block")
        }
        let tiles = partition.tiles, layout = partition.layout
        guard !tiles.isEmpty else { return [] }
        let ws = try Self.tileCopies(v, partition: partition, engine: engine)
        let ts = try SharedBlock(t, engine: engine)
        let f = self, n = rows
        let graph = TaskGraph()
        for (index, tile) in tiles.enumerated() {
            let global = layout.rowRange(ofTile: tile), part = ws[index]
            graph.add(name: "woodbury-expand", reads: allHandles + [ts.handle], writes: [part.handle]) { _ in
                BLAS.gemv(.none, m: global.count, n: k, alpha: -1, a: f.base + global.lowerBound, lda: n, x: ts.pointer, beta: 1, y: part.pointer)
                for i in 0..<global.count { part.pointer[i] *= scale }
            }
        }
        try engine.run(graph)
        var w = [Double]()
        w.reserveCapacity(v.count)
        for part in ws { w.append(contentsOf: UnsafeBufferPointer(start: part.pointer, count: part.storage.rows)) }
        return w
    }
}
