import TesseraCore
import TesseraKernels
import TesseraRuntime

/// The Gram matrix G = AᵀA ∈ ℝ^{d×d} of a tiled A, as a task graph.
///
/// Tiles are cut into `gramGroupCount` contiguous groups (a function of the layout only). Each
/// group accumulates SYRKs of its tiles, in tile order, into its own d×d partial (upper
/// triangle); the partials are summed by a fixed binary tree and the result is symmetrized. So
/// the order of every floating-point addition depends on the layout alone: the same bits on any
/// number of threads. Cost: n·d·(d+1) flops (one SYRK's worth) at single-thread BLAS-3 speed per
/// task, plus (G−1)·d²/2 additions; memory G·d² doubles for the partials.
extension TiledMatrix {
    /// Bytes the group partials may use; bounds G for wide matrices.
    public static let gramPartialBudgetBytes = 512 << 20

    /// Number of accumulation groups: min(tiles, 64, budget / (8d²)), at least 1.
    public var gramGroupCount: Int {
        let byMemory = max(1, Self.gramPartialBudgetBytes / (8 * cols * cols))
        return max(1, min(layout.tileCount, 64, byMemory))
    }

    /// G = AᵀA, column-major d×d, both triangles filled. With `rightInverse` = T (upper
    /// triangular d×d, column-major), G = (A·T⁻¹)ᵀ(A·T⁻¹) instead, each tile solved into per-worker
    /// scratch just before its SYRK (A·T⁻¹ is never stored): the second pass of randomized
    /// Cholesky-QR. Extra cost n·d² flops.
    public func gram(engine: Engine, rightInverse: [Double]? = nil, trace: TraceRecorder? = nil) throws(TesseraError) -> [Double] {
        let d = cols, groups = gramGroupCount, tileCount = layout.tileCount
        if let t = rightInverse, t.count != d * d { throw .internalFailure("gram: triangle is not \(d)×\(d)") }
        let scratch = try rightInverse.map { (_) throws(TesseraError) in
            try SharedBlock(rows: layout.tileRows * d, cols: engine.workerCount, engine: engine)
        }
        let triangle = try rightInverse.map { (t) throws(TesseraError) in try SharedBlock(t, engine: engine) }
        let scratchStride = layout.tileRows * d
        var partials: [SharedBlock] = []
        for g in 0..<groups {
            let firstTile = g * tileCount / groups
            partials.append(try SharedBlock(rows: d, cols: d, engine: engine, domain: tiles[firstTile].domain))
        }
        let graph = TaskGraph()
        for g in 0..<groups {
            let p = partials[g]
            graph.place(p.handle, domain: p.storage.domain)
            let range = (g * tileCount / groups)..<((g + 1) * tileCount / groups)
            for i in range {
                let tile = tiles[i].tile, beta: Double = i == range.lowerBound ? 0 : 1
                graph.add(name: "syrk", reads: [tiles[i].handle], writes: [p.handle]) { context in
                    var operand = tile
                    if let scratch, let triangle {
                        let b = scratch.pointer + context.worker * scratchStride
                        for j in 0..<d { (b + j * tile.rows).update(from: tile.base + j * tile.ld, count: tile.rows) }
                        BLAS.trsm(left: false, .upper, .none, m: tile.rows, n: d, alpha: 1,
                                  t: triangle.pointer, ldt: d, b: b, ldb: tile.rows)
                        operand = Tile(base: b, rows: tile.rows, cols: d, ld: tile.rows)
                    }
                    BLAS.syrk(.upper, .transpose, n: d, k: operand.rows, alpha: 1, a: operand.readOnly, lda: operand.ld,
                              beta: beta, c: p.pointer, ldc: d)
                }
            }
        }
        let frozen = partials
        graph.addTreeReduction(name: "sum-upper", handles: partials.map(\.handle), priority: 1) { into, from in
            let src = frozen[from].pointer, dst = frozen[into].pointer
            for j in 0..<d { BLAS.axpy(count: j + 1, alpha: 1, x: src + j * d, y: dst + j * d) }
        }
        try engine.run(graph, trace: trace)
        var g = partials[0].toArray()
        for j in 0..<d { for i in (j + 1)..<max(j + 1, d) { g[i + j * d] = g[j + i * d] } }
        return g
    }
}
