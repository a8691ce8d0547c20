import TesseraCore
import TesseraKernels
import TesseraRuntime

/// The Gram matrix G = AᵀA ∈ ℝ^{d×d} of a tiled A, as a task graph.
///
/// Tiles are cut into `gramGroupCount` contiguous row groups, and the columns of G into
/// `gramPanelBounds` column panels whose upper trapezoids hold equal work. Task chain (g, J)
/// accumulates, tile by tile in order, G_g[0..<J_end, J] += A_tᵀA_t[0..<J_end, J] (a GEMM above
/// the diagonal block, a SYRK on it) into group g's partial; the partials are summed panel by
/// panel by a fixed binary tree and the result is symmetrized. Groups and panels depend on the
/// layout and the machine's core count alone (never on the worker count), so the order of every
/// floating-point addition does too: the same bits on any number of threads. Cost: n·d·(d+1) flops at single-thread BLAS-3 speed per task, plus
/// (G−1)·d²/2 additions; memory G·d² doubles for the partials, G bounded so that they stay
/// within `gramPartialBudgetBytes` (fresh pages are zeroed by the kernel on first touch, which
/// costs about as much as reading them, so the partials are kept few and the panels give the
/// parallelism instead).
extension TiledMatrix {
    /// Bytes the group partials may use; bounds G for wide matrices.
    public static let gramPartialBudgetBytes = 64 << 20

    /// Panels are at least this wide: narrower GEMMs lose BLAS-3 speed.
    public static let gramMinimumPanelWidth = 192

    /// Independent task chains (groups × panels) the Gram graph aims for on a machine with
    /// `cores` cores: two per core. Panels cost speed (a panel's GEMM runs slower than one SYRK
    /// of the whole width; docs/BENCHMARKS.md has the figures), so there are no
    /// more than that.
    public static func gramTargetChains(cores: Int) -> Int { 2 * max(1, cores) }

    /// Number of accumulation groups: min(tiles, 64, budget / (8d²)), at least 1.
    public var gramGroupCount: Int {
        let byMemory = max(1, Self.gramPartialBudgetBytes / (8 * cols * cols))
        return max(1, min(layout.tileCount, 64, byMemory))
    }

    /// Column panel boundaries 0 = c₀ < c₁ < … < c_P = d, with P = min(⌈chains / G⌉,
    /// d / minimum width), placed at d·√(k/P) (rounded to multiples of 8) so each panel's upper
    /// trapezoid, c_k² − c_{k−1}², holds the same share of the work.
    public func gramPanelBounds(chains: Int) -> [Int] {
        let d = cols
        let panels = max(1, min(Checked.ceilDiv(max(1, chains), gramGroupCount), d / Self.gramMinimumPanelWidth))
        var bounds = [0]
        for k in 1..<panels {
            let c = (Double(d) * (Double(k) / Double(panels)).squareRoot() / 8).rounded() * 8
            let cut = Int(c)
            if let last = bounds.last, cut > last, cut < d { bounds.append(cut) }
        }
        bounds.append(d)
        return bounds
    }

    /// G = AᵀA, column-major d×d, both triangles filled. With `rightInverse` = T (upper
    /// triangular d×d, column-major), G = (A·T⁻¹)ᵀ(A·T⁻¹) instead, each tile solved into per-worker
    /// scratch just before its SYRK (A·T⁻¹ is never stored; one panel, so each tile is solved
    /// once): the second pass of randomized Cholesky-QR. Extra cost n·d² flops. `chains`
    /// overrides the machine's target number of task chains (tests use it to force panels).
    public func gram(engine: Engine, rightInverse: [Double]? = nil, chains: Int? = nil,
                     trace: TraceRecorder? = nil) throws(TesseraError) -> [Double] {
        let d = cols, groups = gramGroupCount, tileCount = layout.tileCount
        if let t = rightInverse, t.count != d * d { throw .internalFailure("gram: triangle is not \(d)×\(d)") }
        let target = chains ?? Self.gramTargetChains(cores: engine.profile.coreCount)
        let bounds = rightInverse == nil ? gramPanelBounds(chains: target) : [0, d]
        let panelCount = bounds.count - 1
        let scratch = try rightInverse.map { (_) throws(TesseraError) in
            try SharedBlock(rows: layout.tileRows * d, cols: engine.workerCount, engine: engine, zeroed: false)
        }
        let triangle = try rightInverse.map { (t) throws(TesseraError) in try SharedBlock(t, engine: engine) }
        let scratchStride = layout.tileRows * d
        // Every entry of a partial's upper triangle is first written with β = 0, so no zeroing.
        var partials: [SharedBlock] = []
        for g in 0..<groups {
            let firstTile = g * tileCount / groups
            partials.append(try SharedBlock(rows: d, cols: d, engine: engine, domain: tiles[firstTile].domain, zeroed: false))
        }
        let panelHandles = (0..<groups).map { _ in (0..<panelCount).map { _ in DataHandle.make() } }
        let graph = TaskGraph()
        for g in 0..<groups {
            let p = partials[g]
            for h in panelHandles[g] { graph.place(h, domain: p.storage.domain) }
            let range = (g * tileCount / groups)..<((g + 1) * tileCount / groups)
            for i in range {
                let tile = tiles[i].tile, beta: Double = i == range.lowerBound ? 0 : 1
                for panel in 0..<panelCount {
                    let lo = bounds[panel], hi = bounds[panel + 1]
                    graph.add(name: "syrk", reads: [tiles[i].handle], writes: [panelHandles[g][panel]]) { context in
                        try self.requireFinite(i)
                        var operand = tile
                        if let scratch, let triangle {
                            // A·T⁻¹ for this tile, in scratch and in the tile's own order: column-major
                            // B·T⁻¹ = B solved from the right; row-major (A·T⁻¹)ᵀ = T⁻ᵀ·Aᵀ from the left.
                            let b = scratch.pointer + context.worker * scratchStride
                            if tile.order == .columnMajor {
                                tile.copyColumnMajor(into: b, ld: tile.rows)
                                BLAS.trsm(left: false, .upper, .none, m: tile.rows, n: d, alpha: 1,
                                          t: triangle.pointer, ldt: d, b: b, ldb: tile.rows)
                                operand = Tile(base: b, rows: tile.rows, cols: d, ld: tile.rows)
                            } else {
                                tile.copyRowMajor(into: b, ld: d)
                                BLAS.trsm(left: true, .upper, .transpose, m: d, n: tile.rows, alpha: 1,
                                          t: triangle.pointer, ldt: d, b: b, ldb: d)
                                operand = Tile(base: b, rows: tile.rows, cols: d, ld: d, order: .rowMajor)
                            }
                        }
                        let c = p.pointer + lo * d
                        let panelColumns = operand.columns(lo..<hi).operand(transposed: true)
                        if lo > 0 {
                            let left = operand.columns(0..<lo).operand(transposed: true)
                            let right = operand.columns(lo..<hi).operand(transposed: false)
                            BLAS.gemm(left.flag, right.flag, m: lo, n: hi - lo, k: operand.rows, alpha: 1,
                                      a: left.pointer, lda: left.ld, b: right.pointer, ldb: right.ld,
                                      beta: beta, c: c, ldc: d)
                        }
                        BLAS.syrk(.upper, panelColumns.flag, n: hi - lo, k: operand.rows, alpha: 1, a: panelColumns.pointer,
                                  lda: panelColumns.ld, beta: beta, c: c + lo, ldc: d)
                    }
                }
            }
        }
        let frozen = partials
        for panel in 0..<panelCount {
            let lo = bounds[panel], hi = bounds[panel + 1]
            graph.addTreeReduction(name: "sum-upper", handles: panelHandles.map { $0[panel] }, priority: 1) { into, from in
                let src = frozen[from].pointer, dst = frozen[into].pointer
                for j in lo..<hi { BLAS.axpy(count: j + 1, alpha: 1, x: src + j * d, y: dst + j * d) }
            }
        }
        try engine.run(graph, trace: trace)
        var g = partials[0].toArray()
        for j in 0..<d { for i in (j + 1)..<max(j + 1, d) { g[i + j * d] = g[j + i * d] } }
        return g
    }
}
