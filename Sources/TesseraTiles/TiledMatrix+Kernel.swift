import TesseraCore
import TesseraKernels
import TesseraRuntime

/// The attention kernel K = exp(AAᵀ) (entrywise) of a tiled A, used without ever storing it.
///
/// (K + λI)·x runs as a task graph over tile pairs (I ≤ J): a task computes the block
/// B = exp(A_I A_Jᵀ) in per-worker scratch (one GEMM, 2·r²·d flops, and r² exps), then
/// c_{I←J} = B·x_J and, for I ≠ J, c_{J←I} = Bᵀ·x_I, so each off-diagonal block serves both tile
/// rows. One task per tile row then sums its contributions in the fixed order J = 0, 1, … (plus
/// λ·x_I): the same bits for any number of threads. Cost n²d flops and n²/2 exps per product;
/// memory n·d (A) + workers·r² (blocks) + T·n (contributions), never n².
extension TiledMatrix {
    /// The largest squared row norm max‖aᵢ‖² (one task per tile, then a max); ⟨aᵢ, a_k⟩ ≤ it.
    public func maxRowNormSquared(engine: Engine) throws(TesseraError) -> Double {
        let maxima = try SharedBlock(rows: layout.tileCount, engine: engine)
        let graph = TaskGraph()
        for (t, storage) in tiles.enumerated() {
            let tile = storage.tile
            graph.add(name: "row-norms", reads: [storage.handle], writes: [DataHandle.make()], domain: storage.domain) { _ in
                var best = 0.0
                for r in 0..<tile.rows {
                    var s = 0.0
                    for j in 0..<tile.cols { s += tile[r, j] * tile[r, j] }
                    best = Swift.max(best, s)
                }
                maxima.pointer[t] = best
            }
        }
        try engine.run(graph)
        return maxima.toArray().max() ?? 0
    }

    /// Refuses A when exp(⟨aᵢ, a_k⟩) could overflow float64 (⟨aᵢ,a_k⟩ ≤ max‖aᵢ‖² > 709.78).
    public func checkKernelOverflow(engine: Engine) throws(TesseraError) {
        let r2 = try maxRowNormSquared(engine: engine)
        guard r2 <= VectorExp.overflowThreshold else {
            let largest = r2.squareRoot()
            throw .invalidInput("exp(AAᵀ) would overflow: the largest row of A has norm \(largest) (norm² \(r2) > 709.78); scale A down, e.g. by d^(-1/4) = \(1 / Double(cols).squareRoot().squareRoot()) as attention does")
        }
    }

    /// y = (exp(AAᵀ) + λI)·x for x ∈ ℝⁿ, without storing the kernel. Call `checkKernelOverflow`
    /// once first: this product does not repeat the check.
    public func kernelMultiply(_ x: [Double], ridge lambda: Double = 0, engine: Engine) throws(TesseraError) -> [Double] {
        guard x.count == rows else { throw .invalidArgument("x has length \(x.count), the kernel has order \(rows)") }
        let t = layout.tileCount, r = layout.tileRows, d = cols
        let xs = try SharedBlock(x, engine: engine)
        let scratch = try SharedBlock(rows: r * r, cols: engine.workerCount, engine: engine)
        // contributions[I][J] holds c_{I←J} (rowCount(I) doubles), one handle each.
        var contributions: [[SharedBlock]] = []
        for i in 0..<t {
            var row: [SharedBlock] = []
            for _ in 0..<t { row.append(try SharedBlock(rows: layout.rowCount(ofTile: i), engine: engine, domain: tiles[i].domain)) }
            contributions.append(row)
        }
        let y = try SharedBlock(rows: rows, engine: engine)
        let graph = TaskGraph()
        let storages = tiles, lay = layout
        for i in 0..<t {
            for j in i..<t {
                let cij = contributions[i][j], cji = contributions[j][i]
                let writes = i == j ? [cij.handle] : [cij.handle, cji.handle]
                graph.place(cij.handle, domain: storages[i].domain)
                graph.add(name: "kernel-block", reads: [storages[i].handle, storages[j].handle, xs.handle], writes: writes) { context in
                    let ai = storages[i].tile, aj = storages[j].tile
                    let block = scratch.pointer + context.worker * r * r
                    BLAS.gemm(.none, .transpose, m: ai.rows, n: aj.rows, k: d, alpha: 1, a: ai.readOnly, lda: ai.ld,
                              b: aj.readOnly, ldb: aj.ld, beta: 0, c: block, ldc: ai.rows)
                    VectorExp.applyInPlace(block, count: ai.rows * aj.rows)
                    let xi = xs.pointer + lay.rowRange(ofTile: i).lowerBound, xj = xs.pointer + lay.rowRange(ofTile: j).lowerBound
                    BLAS.gemv(.none, m: ai.rows, n: aj.rows, alpha: 1, a: block, lda: ai.rows, x: xj, beta: 0, y: cij.pointer)
                    if i != j {
                        BLAS.gemv(.transpose, m: ai.rows, n: aj.rows, alpha: 1, a: block, lda: ai.rows, x: xi, beta: 0, y: cji.pointer)
                    }
                }
            }
        }
        for i in 0..<t {
            // y's tile ranges are disjoint, so each gets its own handle.
            let parts = contributions[i], range = layout.rowRange(ofTile: i), yPart = DataHandle.make()
            graph.add(name: "kernel-sum", reads: parts.map(\.handle), writes: [yPart], domain: storages[i].domain) { _ in
                let out = y.pointer + range.lowerBound
                for k in 0..<range.count { out[k] = lambda * xs.pointer[range.lowerBound + k] }
                for part in parts { BLAS.axpy(count: range.count, alpha: 1, x: part.pointer, y: out) }
            }
        }
        try engine.run(graph)
        return y.toArray()
    }
}
