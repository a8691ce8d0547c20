import TesseraCore
import TesseraKernels
import TesseraTiles

/// SA for a tiled A, as a task graph over canonical row blocks (`TiledMatrix.reduceRowBlocks`):
/// the same bits for any tile size and thread count. Costs: gaussian 2snd flops plus s·n normals;
/// srht n·d·log₂B + s·d per block; countsketch nd; sparse-sign k·nd.
extension SketchOperator {
    /// SA ∈ ℝ^{s×d}, column-major.
    public func apply(to a: TiledMatrix, engine: Engine) throws(TesseraError) -> [Double] {
        guard a.rows == inputRows else {
            throw .invalidArgument("the sketch was drawn for \(inputRows) rows, the matrix has \(a.rows)")
        }
        let s = distribution.rows, d = a.cols
        let result = try Checked.multiply(s, d, "the sketch SA (\(s) × \(d))")
        let op = self
        return try a.reduceRowBlocks(blockRows: blockRows, resultCount: result, engine: engine,
                                     name: "sketch-\(distribution.kind.rawValue)") { block, partial, scratch in
            op.accumulate(block, into: partial, scratch: &scratch)
        }
    }

    /// Sb for a vector b ∈ ℝ^n (same entries of S as `apply`); O(s·n) at most.
    public func apply(toVector b: [Double]) throws(TesseraError) -> [Double] {
        guard b.count == inputRows else { throw .invalidArgument("the vector has \(b.count) entries, the sketch expects \(inputRows)") }
        var out = [Double](repeating: 0, count: distribution.rows)
        var scratch: [Double] = []
        var copy = b
        let n = inputRows, op = self
        copy.withUnsafeMutableBufferPointer { buf in
            out.withUnsafeMutableBufferPointer { o in
                var r0 = 0
                while r0 < n {
                    let r1 = min(r0 + op.blockRows, n)
                    let view = Tile(base: buf.baseAddress! + r0, rows: r1 - r0, cols: 1, ld: r1 - r0)
                    op.accumulate(RowBlock(rows: r0..<r1, index: r0 / op.blockRows, view: view), into: o.baseAddress!, scratch: &scratch)
                    r0 = r1
                }
            }
        }
        return out
    }

    /// partial (s × d) += S[:, block rows] · A[block rows, :].
    func accumulate(_ block: RowBlock, into partial: UnsafeMutablePointer<Double>, scratch: inout [Double]) {
        let s = distribution.rows, a = block.view, d = a.cols
        switch distribution.kind {
        case .gaussian:
            let len = block.rows.count
            if scratch.count < s * len { scratch = [Double](repeating: 0, count: s * blockRows) }
            scratch.withUnsafeMutableBufferPointer { buf in
                for (c, j) in block.rows.enumerated() { column(j, into: buf.baseAddress! + c * s) }
                BLAS.gemm(.none, .none, m: s, n: d, k: len, alpha: 1, a: buf.baseAddress!, lda: s,
                          b: a.readOnly, ldb: a.ld, beta: 1, c: partial, ldc: s)
            }
        case .countsketch:
            for (r, j) in block.rows.enumerated() {
                let (row, sign) = countSketchEntry(j)
                BLAS.axpy(count: d, alpha: sign, x: a.readOnly + r, strideX: a.ld, y: partial + row, strideY: s)
            }
        case .sparseSign:
            let value = 1 / Double(distribution.nonzerosPerColumn).squareRoot()
            for (r, j) in block.rows.enumerated() {
                for (row, sign) in sparseSignEntries(j) {
                    BLAS.axpy(count: d, alpha: sign * value, x: a.readOnly + r, strideX: a.ld, y: partial + row, strideY: s)
                }
            }
        case .srht:
            accumulateSRHT(block, into: partial, scratch: &scratch)
        }
    }

    /// One block of the block SRHT: copy with random signs, zero-pad to B, Walsh–Hadamard down
    /// each column, keep the sampled rows with output signs and scale 1/√s.
    func accumulateSRHT(_ block: RowBlock, into partial: UnsafeMutablePointer<Double>, scratch: inout [Double]) {
        let s = distribution.rows, a = block.view, d = a.cols, bRows = blockRows
        if scratch.count < bRows * d { scratch = [Double](repeating: 0, count: bRows * d) }
        let g = rng, scale = 1 / Double(s).squareRoot()
        let signs = block.rows.map { g.sign(index: UInt64($0), stream: 2) }
        let outSigns = (0..<s).map { srhtOutputSign(block: block.index, $0) * scale }
        scratch.withUnsafeMutableBufferPointer { buf in
            let x = buf.baseAddress!
            for j in 0..<d {
                let col = x + j * bRows, src = a.readOnly + j * a.ld
                for r in 0..<a.rows { col[r] = src[r] * signs[r] }
                for r in a.rows..<bRows { col[r] = 0 }
                WalshHadamard.transform(col, count: bRows)
                for (k, row) in sampledRows.enumerated() { partial[k + j * s] += outSigns[k] * col[row] }
            }
        }
    }
}
