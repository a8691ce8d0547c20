import TesseraCore
import TesseraKernels
import TesseraRuntime

/// Matrix–vector passes over a tiled A, each one task graph. Every pass that sums over rows runs
/// over the canonical row blocks of `TileLayout.reductionBlockRows` rows (`reduceRowBlocks`: a
/// fixed grouping, each group's blocks in order, the group partials summed by a fixed tree), so
/// its bits depend on neither the tile height nor the thread count:
/// - `multiply(_:)`: y = Ax, one GEMV per tile and canonical block (2nd flops, one pass over A;
///   distributed, each process its held rows: `TiledMatrix+RowVectors.swift`);
/// - `transposeMultiply(_:)`: w = Aᵀu, one GEMVᵀ per block;
/// - `gramMultiply(_:)`: w = AᵀA·y in one pass: per block t = A_b·y then w += A_bᵀt (4nd flops);
///   row-major blocks (a C-order file used in place) row by row and column-major blocks of
///   d ≤ 256 panel by panel of rows, so A is read from memory once (`GramVectorProduct`), wider
///   column-major blocks by two GEMVs;
/// - the block forms `gramMultiply(block:)` (the fused panel kernel for d ≤ 256 and a few
///   columns, else BLAS-3) and `residualGradient(block:rhs:)` (BLAS-3).
extension TiledMatrix {
    /// y = Ax for x ∈ ℝ^d.
    public func multiply(_ x: [Double], engine: Engine) throws(TesseraError) -> TiledVector {
        guard x.count == cols else { throw .invalidArgument("x has length \(x.count), A has \(cols) columns") }
        // Allocation failures are agreed (`agreeingOnFailure`): distributed, an exchange follows.
        let (xs, y) = try Self.agreeingOnFailure(engine: engine) { () throws(TesseraError) in
            (try SharedBlock(x, engine: engine), try TiledVector(layout: layout, engine: engine))
        }
        let graph = TaskGraph()
        let blockRows = layout.reductionBlockRows
        // In a distributed engine only this process's rows (those of its Aᵀu groups).
        let mine = heldRows(engine: engine)
        for (i, a) in tiles.enumerated() {
            let tile = a.tile, out = y.blocks[i].tile, tileRows = layout.rowRange(ofTile: i)
            let rows = tileRows.clamped(to: mine)
            guard !rows.isEmpty else { continue }
            graph.place(y.blocks[i].handle, domain: a.domain)
            graph.add(name: "gemv", reads: [a.handle, xs.handle], writes: [y.blocks[i].handle]) { _ in
                try self.requireFinite(i)
                // Cut at the canonical blocks too, so each row's GEMV call is the same for any tiling.
                var r = rows.lowerBound
                while r < rows.upperBound {
                    let end = min(rows.upperBound, (r / blockRows + 1) * blockRows)
                    let local = (r - tileRows.lowerBound)..<(end - tileRows.lowerBound)
                    tile.rows(local).gemv(transposed: false, x: xs.pointer, beta: 0, y: out.base + local.lowerBound)
                    r = end
                }
            }
        }
        guard let exchange = engine.exchange else {
            try engine.run(graph)
            return y
        }
        // Distributed: the rows stay where they were computed (`restrictToHeldRows`): the other
        // rows are zero here, and only the outcome is agreed.
        var failure: TesseraError?
        do { try engine.run(graph) } catch { failure = error }
        try exchange.agree(failure: failure)
        var held = [Double](repeating: 0, count: rows)
        let values = y.toArray(rows: mine)
        held.replaceSubrange(mine, with: values)
        y.assign(held)
        return y
    }

    /// w = Aᵀu for u ∈ ℝ^n (tiled like A's rows).
    public func transposeMultiply(_ u: TiledVector, engine: Engine) throws(TesseraError) -> [Double] {
        guard u.layout == layout else { throw .invalidArgument("u is not tiled like A's rows") }
        let flat = try Self.agreeingOnFailure(engine: engine) { () throws(TesseraError) in try SharedBlock(u.toArray(), engine: engine) }
        return try reducedPerBlock(engine: engine, name: "gemvT", partialCount: cols, extraReads: [flat.handle]) { block, partial, _ in
            block.view.gemv(transposed: true, x: flat.pointer + block.rows.lowerBound, beta: 1, y: partial)
        }
    }

    /// w = AᵀA·y for y ∈ ℝ^d, in one pass over A.
    public func gramMultiply(_ y: [Double], engine: Engine) throws(TesseraError) -> [Double] {
        guard y.count == cols else { throw .invalidArgument("y has length \(y.count), A has \(cols) columns") }
        let ys = try Self.agreeingOnFailure(engine: engine) { () throws(TesseraError) in try SharedBlock(y, engine: engine) }
        let d = cols, blockRows = layout.reductionBlockRows
        return try reducedPerBlock(engine: engine, name: "AtAy", partialCount: d, extraReads: [ys.handle]) { block, partial, scratch in
            let a = block.view
            if scratch.count < blockRows + d { scratch = [Double](repeating: 0, count: blockRows + d) }
            scratch.withUnsafeMutableBufferPointer { buffer in
                guard let t = buffer.baseAddress else { return }
                let w = t + blockRows
                if a.order == .rowMajor {
                    GramVectorProduct.applyRows(a.readOnly, ld: a.ld, rows: a.rows, cols: d, columns: 1, y: ys.pointer, w: w)
                } else if GramVectorProduct.fusedPays(cols: d) {
                    GramVectorProduct.apply(a.readOnly, ld: a.ld, rows: a.rows, cols: d, y: ys.pointer, scratch: t, w: w)
                } else {
                    a.gemv(transposed: false, x: ys.pointer, beta: 0, y: t)
                    a.gemv(transposed: true, x: t, beta: 1, y: partial)
                    return
                }
                BLAS.axpy(count: d, alpha: 1, x: w, y: partial)
            }
        }
    }

    /// W = AᵀA·Y for a block Y ∈ ℝ^{d×m} (column-major), in one pass over A: per block
    /// T = A_bY then W += A_bᵀT (two GEMMs, 4ndm flops in all). For d ≤ 256 and m ≤ 8 the fused
    /// panel kernel (`GramVectorProduct.apply(block:)`) instead, which reads each block from
    /// memory once (two GEMMs with a few columns read it twice and pack it; docs/BENCHMARKS.md
    /// has the measurement).
    public func gramMultiply(block y: [Double], columns m: Int, engine: Engine) throws(TesseraError) -> [Double] {
        guard m > 0, y.count == cols * m else { throw .invalidArgument("Y has \(y.count) entries, expected d·m = \(cols)·\(m)") }
        let ys = try Self.agreeingOnFailure(engine: engine) { () throws(TesseraError) in try SharedBlock(y, engine: engine) }
        let d = cols, blockRows = layout.reductionBlockRows
        let fewColumns = m <= GramVectorProduct.maxBlockColumns
        return try reducedPerBlock(engine: engine, name: "AtAY", partialCount: d * m, extraReads: [ys.handle]) { block, partial, scratch in
            let a = block.view
            if scratch.count < blockRows * m + d * m { scratch = [Double](repeating: 0, count: blockRows * m + d * m) }
            scratch.withUnsafeMutableBufferPointer { buffer in
                guard let t = buffer.baseAddress else { return }
                let w = t + blockRows * m
                if fewColumns && a.order == .rowMajor {
                    GramVectorProduct.applyRows(a.readOnly, ld: a.ld, rows: a.rows, cols: d, columns: m, y: ys.pointer, w: w)
                } else if fewColumns && GramVectorProduct.fusedPays(cols: d) {
                    GramVectorProduct.apply(block: a.readOnly, ld: a.ld, rows: a.rows, cols: d, columns: m,
                                            y: ys.pointer, scratch: t, w: w)
                } else {
                    let op = a.operand(transposed: false), opT = a.operand(transposed: true)
                    BLAS.gemm(op.flag, .none, m: a.rows, n: m, k: d, alpha: 1, a: op.pointer, lda: op.ld,
                              b: ys.pointer, ldb: d, beta: 0, c: t, ldc: blockRows)
                    BLAS.gemm(opT.flag, .none, m: d, n: m, k: a.rows, alpha: 1, a: opT.pointer, lda: opT.ld,
                              b: t, ldb: blockRows, beta: 1, c: partial, ldc: d)
                    return
                }
                BLAS.axpy(count: d * m, alpha: 1, x: w, y: partial)
            }
        }
    }

    /// G = Aᵀ(B − AY) and the squared column norms of B − AY, for Y ∈ ℝ^{d×m} (column-major;
    /// `nil` for Y = 0, which gives G = AᵀB) and B ∈ ℝ^{n×m} (column-major, ld = n), in one pass
    /// over A: per block T = B_b − A_bY (a copy and a GEMM), then G += A_bᵀT (a GEMM) and the
    /// squares of T's columns; one column on a row-major block goes through the fused row kernel
    /// (`GramVectorProduct.residualGradientRows`), which reads the block once. 4ndm flops. The
    /// least-squares gradient and residual norms of one or a whole block of right-hand sides.
    public func residualGradient(block y: [Double]?, rhs b: SharedBlock, columns m: Int,
                                 engine: Engine) throws(TesseraError) -> (gradient: [Double], squaredNorms: [Double]) {
        let n = rows, d = cols
        guard m > 0, b.storage.rows * b.storage.cols == n * m, y.map({ $0.count == d * m }) ?? true else {
            throw .invalidArgument("residualGradient: B must be n×m = \(n)×\(m) and Y d×m = \(d)×\(m)")
        }
        let ys = try Self.agreeingOnFailure(engine: engine) { () throws(TesseraError) in
            try y.map { (v) throws(TesseraError) in try SharedBlock(v, engine: engine) }
        }
        let blockRows = layout.reductionBlockRows
        let total = try reducedPerBlock(engine: engine, name: "At(B-AY)", partialCount: d * m + m,
                                        extraReads: [b.handle] + (ys.map { [$0.handle] } ?? [])) { block, partial, scratch in
            let a = block.view, r0 = block.rows.lowerBound
            if scratch.count < max(blockRows * m, d) { scratch = [Double](repeating: 0, count: max(blockRows * m, d)) }
            scratch.withUnsafeMutableBufferPointer { buffer in
                guard let t = buffer.baseAddress else { return }
                if m == 1, a.order == .rowMajor, let ys {
                    // One right-hand side on a C-order block: the fused row kernel reads it once.
                    partial[d] += GramVectorProduct.residualGradientRows(a.readOnly, ld: a.ld, rows: a.rows, cols: d,
                                                                         x: ys.pointer, b: b.pointer + r0, z: t)
                    BLAS.axpy(count: d, alpha: 1, x: t, y: partial)
                    return
                }
                for c in 0..<m { (t + c * blockRows).update(from: b.pointer + c * n + r0, count: a.rows) }
                let op = a.operand(transposed: false), opT = a.operand(transposed: true)
                if let ys {
                    BLAS.gemm(op.flag, .none, m: a.rows, n: m, k: d, alpha: -1, a: op.pointer, lda: op.ld,
                              b: ys.pointer, ldb: d, beta: 1, c: t, ldc: blockRows)
                }
                BLAS.gemm(opT.flag, .none, m: d, n: m, k: a.rows, alpha: 1, a: opT.pointer, lda: opT.ld,
                          b: t, ldb: blockRows, beta: 1, c: partial, ldc: d)
                for c in 0..<m { partial[d * m + c] += BLAS.dot(count: a.rows, t + c * blockRows, t + c * blockRows) }
            }
        }
        return (Array(total[0..<(d * m)]), Array(total[(d * m)...]))
    }

    /// Σ over the canonical row blocks (`TileLayout.reductionBlockRows`) of `kernel(block,
    /// partial, scratch)`, which adds the block's contribution into `partial` (`partialCount`
    /// doubles); `reduceRowBlocks` fixes the grouping and the order of the sums.
    func reducedPerBlock(engine: Engine, name: String, partialCount: Int, extraReads: [DataHandle] = [],
                         kernel: @escaping @Sendable (RowBlock, UnsafeMutablePointer<Double>, inout [Double]) -> Void)
        throws(TesseraError) -> [Double] {
        try reduceRowBlocks(blockRows: layout.reductionBlockRows, resultCount: partialCount, engine: engine, name: name,
                            extraReads: extraReads, kernel: kernel)
    }
}
