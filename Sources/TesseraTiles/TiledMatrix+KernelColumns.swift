import TesseraCore
import TesseraKernels
import TesseraRuntime

/// Columns of the attention kernel K = exp(AAᵀ) on demand: K[:, S] = exp(A·A_Sᵀ) for an index
/// set S, one task per tile of A (on the tile's domain) making its rows with one `KernelPanel`
/// (a GEMM with |S| columns and tile·|S| exps): n·|S|·d flops and n·|S| exps in all, memory
/// |S|·d for A_S. Each task declares the parts of the output it writes.
extension TiledMatrix {
    /// Writes K[:, S] (no ridge) into columns `firstColumn ..< firstColumn + |S|` of `out` (n
    /// rows) — when `only` is given (a process's share of the rows), only for the tiles that meet
    /// it, each whole: an OpenBLAS GEMM's entries can depend on the panel's shape (row groups of
    /// 8, its small-matrix path), so a tile cut at the share's edge would not have a single
    /// process's bits. Throws `invalidArgument` for an index outside 0..<n or columns beyond `out`.
    public func kernelColumns(_ s: [Int], into out: ColumnBlock, firstColumn: Int = 0, rows only: Range<Int>? = nil,
                              engine: Engine) throws(TesseraError) {
        let n = rows, d = cols, m = s.count
        guard out.rows == n, firstColumn >= 0, firstColumn + m <= out.cols else {
            throw .invalidArgument("kernelColumns: \(m) columns from \(firstColumn) do not fit a \(out.rows) × \(out.cols) block for n = \(n)")
        }
        if let bad = s.first(where: { $0 < 0 || $0 >= n }) {
            throw .invalidArgument("kernelColumns: index \(bad) is outside 0..<\(n)")
        }
        guard m > 0 else { return }
        var rowsS = [Double](repeating: 0, count: m * d)   // A_S, m × d column-major
        for (k, i) in s.enumerated() { for j in 0..<d { rowsS[k + j * m] = self[i, j] } }
        let aS = try SharedBlock(rowsS, engine: engine)
        let graph = TaskGraph()
        for (t, storage) in tiles.enumerated() {
            let range = layout.rowRange(ofTile: t)
            if let only, range.clamped(to: only).isEmpty { continue }
            let tile = storage.tile
            let writes = out.handles(rows: range, cols: firstColumn..<(firstColumn + m))
            let rowsOfS = Tile(base: aS.pointer, rows: m, cols: d, ld: m)
            graph.add(name: "kernel-columns", reads: [storage.handle, aS.handle], writes: writes, domain: storage.domain) { _ in
                try self.requireFinite(t)
                KernelPanel.compute(a: tile, b: rowsOfS, into: out.base + firstColumn * n + range.lowerBound, ldc: n)
            }
        }
        try engine.run(graph)
    }
}
