import TesseraCore
import TesseraKernels
import TesseraRuntime

extension TiledMatrix {
    /// out = A·W for W ∈ ℝ^{d×d} (column-major), one GEMM per tile (2nd² flops). `out` must
    /// have A's layout.
    public func multiplyRight(by w: [Double], into out: TiledMatrix, engine: Engine) throws(TesseraError) {
        guard w.count == cols * cols, out.layout == layout, !out.isView else {
            throw .internalFailure("multiplyRight: W must be d×d and the output tiled like A, in memory Tessera owns")
        }
        let ws = try SharedBlock(w, engine: engine)
        let graph = TaskGraph()
        let d = cols
        for (i, a) in tiles.enumerated() {
            let src = a.tile, dst = out.tiles[i].tile
            graph.place(out.tiles[i].handle, domain: out.tiles[i].domain)
            let written = out.tiles[i]
            graph.add(name: "gemm", reads: [a.handle, ws.handle], writes: [written.handle]) { _ in
                try self.requireFinite(i)
                let op = src.operand(transposed: false)
                BLAS.gemm(op.flag, .none, m: src.rows, n: d, k: d, alpha: 1, a: op.pointer, lda: op.ld,
                          b: ws.pointer, ldb: d, beta: 0, c: dst.base, ldc: dst.ld)
                written.markWritten()
            }
        }
        try engine.run(graph)
    }
}
