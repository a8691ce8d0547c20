import TesseraCore
import TesseraKernels
import TesseraRuntime

/// The operations of the low-rank preconditioners on a tall block F ∈ ℝ^{n×k} (`ColumnBlock`):
/// the n-long steps run as one task per fixed row block of `ColumnBlock.rowBlock` rows or column
/// block of `ColumnBlock.columnBlock` columns, each one single-threaded BLAS call on that part
/// (the same calls, in the same split, whatever the number of workers: the same bits); the rest
/// are short loops on the calling thread. Each throws only what running a task graph throws.
extension ColumnBlock {
    /// B[i, j] = value(i, j) for every entry, by row blocks (column by column inside a block).
    public func fillByRowBlocks(name: String, engine: Engine,
                                _ value: @escaping @Sendable (_ row: Int, _ column: Int) -> Double) throws(TesseraError) {
        let base = TilePointer(self.base), n = rows, k = cols
        try byRowBlocks(name: name, writing: 0..<k, engine: engine) { r0, count in
            for c in 0..<k { for i in r0..<(r0 + count) { base.pointer[i + c * n] = value(i, c) } }
        }
    }

    /// B[:, target] −= B[:, source]·Gᵀ for G ∈ ℝ^{|target|×|source|} (column-major), by row blocks
    /// (one GEMM each, 2·n·|target|·|source| flops): randomly pivoted Cholesky's update
    /// K[:, S] − F·F[S, :]ᵀ with G = F[S, :]. `rowBlocks`: only those row blocks (a process's share).
    public func subtractProduct(columns target: Range<Int>, of source: Range<Int>, timesTransposeOf g: [Double],
                                rowBlocks: Range<Int>? = nil, engine: Engine) throws(TesseraError) {
        let m = target.count, inner = source.count
        guard m > 0, inner > 0 else { return }
        guard g.count >= m * inner, target.upperBound <= cols, source.upperBound <= cols else {
            throw .internalFailure("subtractProduct: shapes do not match a \(rows) × \(cols) block")
        }
        let gBlock = try SharedBlock(g, engine: engine)
        let base = TilePointer(self.base), n = rows
        let reads = [gBlock.handle]
        try byRowBlocks(name: "rpc-update", writing: target, reads: reads, readingColumns: source, blocks: rowBlocks,
                        engine: engine) { r0, count in
            BLAS.gemm(.none, .transpose, m: count, n: m, k: inner, alpha: -1, a: base.pointer + source.lowerBound * n + r0, lda: n,
                      b: gBlock.pointer, ldb: m, beta: 1, c: base.pointer + target.lowerBound * n + r0, ldc: n)
        }
    }

    /// B[:, columns] ← B[:, columns]·U⁻¹ for an upper-triangular U (|columns|², column-major), by
    /// row blocks (one TRSM each, n·|columns|² flops); `rowBlocks`: only those (a process's share).
    public func solveRightUpper(columns range: Range<Int>, by u: [Double], name: String = "rpc-solve",
                                rowBlocks: Range<Int>? = nil, engine: Engine) throws(TesseraError) {
        let m = range.count
        guard m > 0 else { return }
        guard u.count >= m * m, range.upperBound <= cols else {
            throw .internalFailure("solveRightUpper: shapes do not match a \(rows) × \(cols) block")
        }
        let uBlock = try SharedBlock(u, engine: engine)
        let base = TilePointer(self.base), n = rows
        try byRowBlocks(name: name, writing: range, reads: [uBlock.handle], blocks: rowBlocks, engine: engine) { r0, count in
            BLAS.trsm(left: false, .upper, .none, m: count, n: m, alpha: 1, t: uBlock.pointer, ldt: m,
                      b: base.pointer + range.lowerBound * n + r0, ldb: n)
        }
    }

    /// residual[i] ← max(0, residual[i] − B[i, c]²) for each column c of `columns` in order (the
    /// residual diagonal diag(K − FFᵀ) after new columns of F).
    public func subtractSquares(ofColumns range: Range<Int>, from residual: inout [Double]) {
        let n = min(rows, residual.count)
        for c in range where c >= 0 && c < cols {
            let g = base + c * rows
            for i in 0..<n { let v = g[i]; residual[i] = max(0, residual[i] - v * v) }
        }
    }

    /// Σ_c Σ_i B[i, c]² over `columns`, in storage order (‖F‖²_F).
    public func sumOfSquares(columns range: Range<Int>) -> Double {
        let lo = max(0, range.lowerBound), hi = min(cols, range.upperBound)
        var s = 0.0
        guard lo < hi else { return s }
        for i in (lo * rows)..<(hi * rows) { s += base[i] * base[i] }
        return s
    }

    /// r[i] = Σ_c B[i, c]² over `columns` (column by column): the diagonal of F·Fᵀ.
    public func squaredRowNorms(columns range: Range<Int>) -> [Double] {
        var norms = [Double](repeating: 0, count: rows)
        for c in range where c >= 0 && c < cols {
            for i in 0..<rows { let v = base[i + c * rows]; norms[i] += v * v }
        }
        return norms
    }

    /// (first k columns of this)ᵀ·(first k of other), k × k column-major: one GEMM on the calling
    /// thread (2·n·k² flops; randomized Nyström's ΩᵀY). Both blocks have n rows.
    public func transposedTimes(_ other: ColumnBlock, columns k: Int) throws(TesseraError) -> [Double] {
        guard other.rows == rows, k <= cols, k <= other.cols else {
            throw .internalFailure("transposedTimes: a \(rows) × \(cols) and a \(other.rows) × \(other.cols) block for \(k) columns")
        }
        var core = [Double](repeating: 0, count: k * k)
        guard k > 0 else { return core }
        BLAS.gemm(.transpose, .none, m: k, n: k, k: rows, alpha: 1, a: base, lda: rows,
                  b: other.base, ldb: rows, beta: 0, c: &core, ldc: k)
        return core
    }

    /// B[:, columns] = values (column-major, rows × |columns|).
    public func setColumns(_ range: Range<Int>, from values: [Double]) {
        let count = min(values.count, range.count * rows, max(0, cols - range.lowerBound) * rows)
        let out = base + range.lowerBound * rows
        for k in 0..<max(0, count) { out[k] = values[k] }
    }

    /// B[:, columns] = value.
    public func fill(columns range: Range<Int>, with value: Double) {
        let lo = max(0, range.lowerBound), hi = min(cols, range.upperBound)
        guard lo < hi else { return }
        for k in (lo * rows)..<(hi * rows) { base[k] = value }
    }

    /// B[:, c] ∘= Y[:, s] (entrywise) for Y ∈ ℝ^{rows×·} column-major (a Taylor-feature factor).
    public func multiplyColumn(_ c: Int, by y: [Double], column s: Int) {
        guard c >= 0, c < cols, s >= 0, (s + 1) * rows <= y.count else { return }
        y.withUnsafeBufferPointer { yb in
            guard let yBase = yb.baseAddress else { return }
            let dst = base + c * rows, src = yBase + s * rows
            for i in 0..<rows { dst[i] *= src[i] }
        }
    }

    /// B[:, c] = scale · B[:, source] ∘ Y[:, s] (entrywise) for Y ∈ ℝ^{rows×·} column-major: a
    /// degree-ℓ monomial column from a degree-(ℓ − 1) one (closed-form Taylor features).
    public func setColumn(_ c: Int, toProductOf source: Int, and y: [Double], column s: Int, scale: Double) {
        guard c >= 0, c < cols, source >= 0, source < cols, s >= 0, (s + 1) * rows <= y.count else { return }
        y.withUnsafeBufferPointer { yb in
            guard let yBase = yb.baseAddress else { return }
            let dst = base + c * rows, from = base + source * rows, src = yBase + s * rows
            for i in 0..<rows { dst[i] = scale * from[i] * src[i] }
        }
    }

    /// B[i, c] *= factors[i] for the rows i < min(rows, factors.count) and c in `columns`
    /// (D^{−1/2}·F for a diagonally shifted Woodbury preconditioner).
    public func scaleRows(by factors: [Double], columns range: Range<Int>) {
        let n = min(rows, factors.count)
        for c in range where c >= 0 && c < cols {
            let g = base + c * rows
            for i in 0..<n { g[i] *= factors[i] }
        }
    }

    /// B[i, i] += values[i] for i < min(order, values.count).
    public func addToDiagonal(_ values: [Double], order: Int) {
        for i in 0..<min(order, rows, cols, values.count) { base[i + i * rows] += values[i] }
    }

    /// B[i, i] += value for i < order.
    public func addToDiagonal(_ value: Double, order: Int) {
        for i in 0..<min(order, rows, cols) { base[i + i * rows] += value }
    }
}
