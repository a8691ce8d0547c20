import TesseraCore
import TesseraKernels
import TesseraRuntime

/// The product A = G·W of a `GeneratedMatrix` G ∈ ℝ^{n×d} and a small W ∈ ℝ^{d×d}, streamed block
/// of rows by block of rows into a `RowBlockSink` and never held whole, together with the thin
/// product P = G·Y for Y ∈ ℝ^{d×k} (k small, e.g. the two vectors of a right-hand side).
///
/// One task per canonical block: it fills G_blkᵀ (row-major G_blk) into its worker's scratch,
/// forms A_blkᵀ = Wᵀ·G_blkᵀ by one GEMM — the row-major A_blk a C-order file wants — and hands it
/// to the sink, and writes its rows of P by a second GEMM. Each row of A and P depends only on
/// its canonical block, never on which worker ran it, so the bits do not depend on the thread
/// count. Cost: 2nd² + 2ndk flops, n·d evaluations of G's entries, and the sink's writes.
/// Memory: two blocks (2·b·d doubles) per worker and P (n·k doubles); A is held only by the
/// sink, if it keeps it. Throws `internalFailure` for a W or Y of the wrong size, and the first
/// error a sink write throws.
extension GeneratedMatrix {
    /// Streams G·W (W column-major d×d) into `sink` and returns G·Y (Y column-major d×k) as an
    /// n×k row-major array (empty when k = 0).
    public func streamProduct(times w: [Double], alsoTimes y: [Double] = [], columns k: Int = 0,
                              into sink: some RowBlockSink, engine: Engine) throws(TesseraError) -> [Double] {
        let d = cols, n = rows, b = blockRows
        guard w.count == d * d else { throw .internalFailure("streamProduct: W holds \(w.count) values, not \(d)×\(d)") }
        guard k >= 0, y.count == d * k else { throw .internalFailure("streamProduct: Y holds \(y.count) values, not \(d)×\(k)") }
        let ws = try SharedBlock(w, engine: engine)
        let ys = k > 0 ? try SharedBlock(y, engine: engine) : nil
        let products = k > 0 ? try SharedBlock(rows: try Checked.multiply(n, k, "G·Y of \(n) × \(k)"), engine: engine, zeroed: false) : nil
        let slot = 2 * b * d
        let scratch = try SharedBlock(rows: slot, cols: engine.workerCount, engine: engine, zeroed: false)
        let matrix = self
        let graph = TaskGraph()
        for index in 0..<blockCount {
            let range = blockRange(index)
            let slice = DataHandle.make()   // this block's rows of P
            graph.add(name: "generated-block", reads: [ws.handle] + (ys.map { [$0.handle] } ?? []),
                      writes: sink.handles(forRows: range) + (products == nil ? [] : [slice])) { context in
                let g = scratch.pointer + context.worker * slot, a = g + b * d
                matrix.fill(range, into: g)
                BLAS.gemm(.transpose, .none, m: d, n: range.count, k: d, alpha: 1, a: ws.pointer, lda: d,
                          b: g, ldb: d, beta: 0, c: a, ldc: d)
                if let ys, let products {
                    BLAS.gemm(.transpose, .none, m: k, n: range.count, k: d, alpha: 1, a: ys.pointer, lda: d,
                              b: g, ldb: d, beta: 0, c: products.pointer + range.lowerBound * k, ldc: k)
                }
                try sink.write(rows: range, rowMajor: a)
            }
        }
        try engine.run(graph)
        return products?.toArray() ?? []
    }
}
