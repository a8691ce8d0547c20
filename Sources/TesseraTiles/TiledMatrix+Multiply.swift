import TesseraCore
import TesseraKernels
import TesseraRuntime

extension TiledMatrix {
    /// out = A·W for W ∈ ℝ^{d×d} (column-major), one GEMM per tile (2nd² flops). `out` must
    /// have A's layout.
    public func multiplyRight(by w: [Double], into out: TiledMatrix, engine: Engine) throws(TesseraError) {
        guard w.count == cols * cols, out.layout == layout else {
            throw .internalFailure("multiplyRight: W must be d×d and the output tiled like A")
        }
        let ws = try SharedBlock(w, engine: engine)
        let graph = TaskGraph()
        let d = cols
        for (i, a) in tiles.enumerated() {
            let src = a.tile, dst = out.tiles[i].tile
            graph.place(out.tiles[i].handle, domain: out.tiles[i].domain)
            graph.add(name: "gemm", reads: [a.handle, ws.handle], writes: [out.tiles[i].handle]) { _ in
                BLAS.gemm(.none, .none, m: src.rows, n: d, k: d, alpha: 1, a: src.readOnly, lda: src.ld,
                          b: ws.pointer, ldb: d, beta: 0, c: dst.base, ldc: dst.ld)
            }
        }
        try engine.run(graph)
    }
}
