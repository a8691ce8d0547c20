import TesseraCore
import TesseraKernels
import TesseraRuntime

/// The Gram matrix G = AᵀA ∈ ℝ^{d×d} of a tiled A, as a task graph.
///
/// Rows are cut into the canonical blocks of `TileLayout.reductionBlockRows` rows, the blocks
/// into `gramGroups` contiguous groups, and the columns of G into `gramPanelBounds` column panels
/// whose upper trapezoids hold equal work. Task (g, J) accumulates, block by block in order,
/// G_g[0..<J_end, J] += A_bᵀA_b[0..<J_end, J] (a GEMM above the diagonal block, a SYRK on it)
/// into group g's partial; the partials are summed panel by panel by a fixed binary tree and the
/// result is symmetrized. Blocks and groups depend on (n, d) alone and panels on (n, d) and the
/// machine's core count — never on the tile height or the worker count — so the order of every
/// floating-point addition does too: the same bits on any number of threads and any tiling. A
/// row-major block is passed to BLAS with the transpose flag, which packs the same numbers, so
/// both storage orders give the same bits too. Cost: n·d·(d+1) flops at single-thread BLAS-3
/// speed per task, plus (G−1)·d²/2 additions; memory G·d² doubles for the partials, G bounded
/// so that they stay within `gramPartialBudgetBytes` (fresh pages are zeroed by the kernel on
/// first touch, which costs about as much as reading them, so the partials are kept few and the
/// panels give the parallelism instead).
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

    /// The accumulation groups (ranges of canonical block indices): min(blocks, 64,
    /// budget / (8d²)) of them, at least 1.
    public var gramGroups: [Range<Int>] {
        rowBlockGroups(blockRows: layout.reductionBlockRows, resultCount: cols * cols, budgetBytes: Self.gramPartialBudgetBytes)
    }

    /// Column panel boundaries 0 = c₀ < c₁ < … < c_P = d, with P = min(⌈chains / G⌉,
    /// d / minimum width), placed at d·√(k/P) (rounded to multiples of 8) so each panel's upper
    /// trapezoid, c_k² − c_{k−1}², holds the same share of the work.
    public func gramPanelBounds(chains: Int) -> [Int] {
        let d = cols
        let panels = max(1, min(Checked.ceilDiv(max(1, chains), gramGroups.count), d / Self.gramMinimumPanelWidth))
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
    /// triangular d×d, column-major), G = (A·T⁻¹)ᵀ(A·T⁻¹) instead, each block copied column-major
    /// into the task's scratch and solved there just before its SYRK (A·T⁻¹ is never stored; one
    /// panel, so each block is solved once; the same operations, hence bits, for either storage
    /// order): the second pass of randomized Cholesky-QR. Extra cost n·d² flops. `chains`
    /// overrides the machine's target number of task chains (tests use it to force panels).
    /// `singlePrecision`: each block's product in float32 (`gramInSinglePrecision`).
    public func gram(engine: Engine, rightInverse: [Double]? = nil, chains: Int? = nil,
                     trace: TraceRecorder? = nil, singlePrecision: Bool = false) throws(TesseraError) -> [Double] {
        let d = cols, groups = gramGroups, blockRows = layout.reductionBlockRows
        if let t = rightInverse, t.count != d * d { throw .internalFailure("gram: triangle is not \(d)×\(d)") }
        if singlePrecision && rightInverse != nil { throw .internalFailure("gram: no right inverse in single precision") }
        // In float32 every panel rounds its columns of each chunk again, so one chain per core
        // (fewer panels) rather than two.
        let cores = engine.profile.coreCount
        let target = chains ?? (singlePrecision ? max(1, cores) : Self.gramTargetChains(cores: cores))
        let bounds = rightInverse == nil ? gramPanelBounds(chains: target) : [0, d]
        let panelCount = bounds.count - 1
        let triangle = try Self.agreeingOnFailure(engine: engine) { () throws(TesseraError) in
            try rightInverse.map { (t) throws(TesseraError) in try SharedBlock(t, engine: engine) }
        }
        // Every entry of a partial's upper triangle is first written with β = 0, so no zeroing.
        let partials = try Self.agreeingOnFailure(engine: engine) { () throws(TesseraError) in
            try groups.map { (blocks) throws(TesseraError) in
                let domain = tiles[tiles(touchedBy: blocks, blockRows: blockRows).lowerBound].domain
                return try SharedBlock(rows: d, cols: d, engine: engine, domain: domain, zeroed: false)
            }
        }
        let panelHandles = groups.map { _ in (0..<panelCount).map { _ in DataHandle.make() } }
        // Float32 scratch per worker (a chunk and its product), faulted in once rather than per task.
        let perChunk = Swift.max(1, Self.singleChunkRows / blockRows)
        let (chunkScratch, productScratch) = try Self.agreeingOnFailure(engine: engine) { () throws(TesseraError) in
            (try SinglePanels(capacity: singlePrecision ? perChunk * blockRows * d : 1, engine: engine),
             try SinglePanels(capacity: singlePrecision ? d * d : 1, engine: engine))
        }
        let owned = engine.exchange?.ownedGroups(of: groups.count) ?? 0..<groups.count
        let graph = TaskGraph()
        for (g, blocks) in groups.enumerated() where owned.contains(g) {
            let p = partials[g]
            for h in panelHandles[g] { graph.place(h, domain: p.storage.domain) }
            let touched = tiles(touchedBy: blocks, blockRows: blockRows)
            let reads = touched.map { tiles[$0].handle } + (triangle.map { [$0.handle] } ?? [])
            for panel in 0..<panelCount {
                let lo = bounds[panel], hi = bounds[panel + 1]
                graph.add(name: "syrk", reads: reads, writes: [panelHandles[g][panel]]) { context in
                    // In float32 the rounding is the scan: the group's last panel reads every column.
                    if !singlePrecision { for t in touched { try self.requireFinite(t) } }
                    var copy: [Double] = [], solved: [Double] = []
                    var beta: Double = 0, finite = true
                    self.forEachRowBlock(blocks, blockRows: blockRows, copy: &copy) { block in
                        if singlePrecision {
                            // Whole blocks gathered into chunks of up to singleChunkRows rows, from the group's first block.
                            let position = (block.index - blocks.lowerBound) % perChunk
                            let chunkStart = block.index - position, chunkEnd = Swift.min(chunkStart + perChunk, blocks.upperBound)
                            let x = chunkScratch.panel(worker: context.worker)
                            if !block.view.roundRowsToSingle(columns: hi, into: x + position * blockRows * hi) { finite = false }
                            guard block.index == chunkEnd - 1 else { return }
                            let chunkRows = block.rows.upperBound - chunkStart * blockRows
                            Self.accumulateGramInSingle(chunk: x, rows: chunkRows, columns: lo..<hi, first: beta == 0,
                                                        into: p.pointer, ld: d, panel: productScratch.panel(worker: context.worker))
                            beta = 1
                            return
                        }
                        guard let triangle else {
                            Self.accumulateGram(block.view, columns: lo..<hi, beta: beta, into: p.pointer, ld: d)
                            beta = 1
                            return
                        }
                        // A_b·T⁻¹, column-major in scratch whatever A's order: B·T⁻¹ solved from the right.
                        let r = block.view.rows
                        if solved.count < r * d { solved = [Double](repeating: 0, count: blockRows * d) }
                        solved.withUnsafeMutableBufferPointer { buffer in
                            guard let b = buffer.baseAddress else { return }
                            block.view.copyColumnMajor(into: b, ld: r)
                            BLAS.trsm(left: false, .upper, .none, m: r, n: d, alpha: 1, t: triangle.pointer, ldt: d, b: b, ldb: r)
                            Self.accumulateGram(Tile(base: b, rows: r, cols: d, ld: r), columns: lo..<hi, beta: beta, into: p.pointer, ld: d)
                        }
                        beta = 1
                    }
                    if !finite && hi == d { throw self.nonFiniteError() }
                }
            }
        }
        let frozen = partials
        // After a float32 run the rounding has scanned every row of the owned groups.
        let scanned = singlePrecision ? owned.map { groups[$0] } : []
        if let exchange = engine.exchange {
            // Whole d×d partials travel (only their upper triangles are meaningful); each panel's
            // columns are summed by the same tree as below, panel after panel.
            try Self.combineAcrossProcesses(graph: graph, engine: engine, exchange: exchange, partials: partials,
                                            owned: owned, count: d * d, trace: trace) { into, from in
                let src = frozen[from].pointer, dst = frozen[into].pointer
                for j in 0..<d { BLAS.axpy(count: j + 1, alpha: 1, x: src + j * d, y: dst + j * d) }
            }
            markFinite(rowsOf: scanned, blockRows: blockRows)
            var g = partials[0].toArray()
            for j in 0..<d { for i in (j + 1)..<max(j + 1, d) { g[i + j * d] = g[j + i * d] } }
            return g
        }
        for panel in 0..<panelCount {
            let lo = bounds[panel], hi = bounds[panel + 1]
            graph.addTreeReduction(name: "sum-upper", handles: panelHandles.map { $0[panel] }, priority: 1) { into, from in
                let src = frozen[from].pointer, dst = frozen[into].pointer
                for j in lo..<hi { BLAS.axpy(count: j + 1, alpha: 1, x: src + j * d, y: dst + j * d) }
            }
        }
        try engine.run(graph, trace: trace)
        markFinite(rowsOf: scanned, blockRows: blockRows)
        var g = partials[0].toArray()
        for j in 0..<d { for i in (j + 1)..<max(j + 1, d) { g[i + j * d] = g[j + i * d] } }
        return g
    }

    /// C[0..<hi, lo..<hi] = β·C + (AᵀA)[0..<hi, lo..<hi], upper part: a GEMM above the diagonal
    /// block and a SYRK on it, with the transpose flags of `a`'s storage order.
    static func accumulateGram(_ a: Tile, columns: Range<Int>, beta: Double, into c: UnsafeMutablePointer<Double>, ld: Int) {
        let lo = columns.lowerBound, hi = columns.upperBound
        let panel = a.columns(lo..<hi).operand(transposed: true)
        if lo > 0 {
            let left = a.columns(0..<lo).operand(transposed: true)
            let right = a.columns(lo..<hi).operand(transposed: false)
            BLAS.gemm(left.flag, right.flag, m: lo, n: hi - lo, k: a.rows, alpha: 1,
                      a: left.pointer, lda: left.ld, b: right.pointer, ldb: right.ld,
                      beta: beta, c: c + lo * ld, ldc: ld)
        }
        BLAS.syrk(.upper, panel.flag, n: hi - lo, k: a.rows, alpha: 1, a: panel.pointer,
                  lda: panel.ld, beta: beta, c: c + lo * ld + lo, ldc: ld)
    }
}
