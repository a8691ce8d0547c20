import TesseraCore
import TesseraKernels
import TesseraRuntime
import TesseraTiles

/// K + λI for the attention kernel K = exp(AAᵀ) of a tiled A ∈ ℝ^{n×d}, never stored:
/// products over tile pairs (n²d flops, n²/2 exps), columns K[:, S] on demand (n·|S|·d flops),
/// and the diagonal exp(‖aᵢ‖²). Construction checks that exp cannot overflow.
public struct KernelOperator: Sendable {
    public let matrix: TiledMatrix
    public let engine: Engine
    public let ridge: Double
    /// K stored densely (n × n, column-major) when the caller chose to (`storing()`): a product
    /// is then a memory-bound pass over n² doubles instead of n²d flops and n²/2 exps.
    public let stored: SharedBlock?

    public init(matrix: TiledMatrix, engine: Engine, ridge: Double) throws(TesseraError) {
        guard ridge >= 0, ridge.isFinite else { throw .invalidArgument("--ridge must be a finite number ≥ 0 (got \(ridge))") }
        try matrix.checkKernelOverflow(engine: engine)
        self.matrix = matrix
        self.engine = engine
        self.ridge = ridge
        stored = nil
    }

    private init(_ other: KernelOperator, stored: SharedBlock) {
        matrix = other.matrix
        engine = other.engine
        ridge = other.ridge
        self.stored = stored
    }

    /// The same operator with K formed once and kept (n² doubles).
    public func storing() throws(TesseraError) -> KernelOperator {
        let n = order
        let block = try SharedBlock(rows: n, cols: n, engine: engine)
        try fillColumns(Array(0..<n), into: block)
        return KernelOperator(self, stored: block)
    }

    public var order: Int { matrix.rows }

    /// (K + λI)·x: over tile pairs, or over the stored K by column blocks (y_I = K[:, I]ᵀx, K
    /// symmetric), one task per tile of rows, with a fixed summation order either way.
    public func apply(_ x: [Double]) throws(TesseraError) -> [Double] {
        guard let stored else { return try matrix.kernelMultiply(x, ridge: ridge, engine: engine) }
        let n = order, lambda = ridge
        guard x.count == n else { throw .invalidArgument("x has length \(x.count), the kernel has order \(n)") }
        let xs = try SharedBlock(x, engine: engine)
        let y = try SharedBlock(rows: n, engine: engine)
        let graph = TaskGraph()
        for t in 0..<matrix.layout.tileCount {
            let range = matrix.layout.rowRange(ofTile: t)
            graph.add(name: "stored-kernel-gemv", reads: [stored.handle, xs.handle], writes: [DataHandle.make()]) { _ in
                let out = y.pointer + range.lowerBound
                for k in 0..<range.count { out[k] = lambda * xs.pointer[range.lowerBound + k] }
                BLAS.gemv(.transpose, m: n, n: range.count, alpha: 1, a: stored.pointer + range.lowerBound * n, lda: n,
                          x: xs.pointer, beta: 1, y: out)
            }
        }
        try engine.run(graph)
        return y.toArray()
    }

    /// diag(K) = exp(‖aᵢ‖²) (without the ridge).
    public func diagonal() -> [Double] {
        let d = matrix.cols
        return (0..<order).map { i in
            var s = 0.0
            for j in 0..<d { let v = matrix[i, j]; s += v * v }
            return VectorExp.exp(s)
        }
    }

    /// K[:, S] (without the ridge) as an n × |S| column-major array: one GEMM + exp per tile.
    public func columns(_ s: [Int]) throws(TesseraError) -> [Double] {
        if let stored {
            let n = order
            var out = [Double](repeating: 0, count: n * s.count)
            for (c, j) in s.enumerated() { for i in 0..<n { out[i + c * n] = stored.pointer[i + j * n] } }
            return out
        }
        let out = try SharedBlock(rows: order, cols: s.count, engine: engine)
        try fillColumns(s, into: out)
        return out.toArray()
    }

    /// Writes K[:, S] into columns `firstColumn ..< firstColumn + |S|` of `out` (n rows,
    /// column-major, leading dimension n).
    func fillColumns(_ s: [Int], into out: SharedBlock, firstColumn: Int = 0) throws(TesseraError) {
        let n = order, d = matrix.cols, m = s.count
        var rowsS = [Double](repeating: 0, count: m * d)   // A_S, m × d column-major
        for (k, i) in s.enumerated() { for j in 0..<d { rowsS[k + j * m] = matrix[i, j] } }
        let aS = try SharedBlock(rowsS, engine: engine)
        let graph = TaskGraph()
        for (t, storage) in matrix.tiles.enumerated() {
            let tile = storage.tile, first = matrix.layout.rowRange(ofTile: t).lowerBound
            graph.add(name: "kernel-columns", reads: [storage.handle, aS.handle], writes: [DataHandle.make()], domain: storage.domain) { _ in
                let c = out.pointer + firstColumn * n + first
                BLAS.gemm(.none, .transpose, m: tile.rows, n: m, k: d, alpha: 1, a: tile.readOnly, lda: tile.ld,
                          b: aS.pointer, ldb: m, beta: 0, c: c, ldc: n)
                for col in 0..<m { VectorExp.applyInPlace(c + col * n, count: tile.rows) }
            }
        }
        try engine.run(graph)
    }
}
