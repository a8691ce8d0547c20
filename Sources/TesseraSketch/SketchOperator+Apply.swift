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
        let sa = try a.reduceRowBlocks(blockRows: blockRows, resultCount: result, engine: engine,
                                       name: "sketch-\(distribution.kind.rawValue)") { block, partial, scratch in
            op.accumulate(block, into: partial, scratch: &scratch)
        }
        return accumulatesRowMajor ? Self.transposed(sa, rows: s, cols: d) : sa
    }

    /// CountSketch and sparse sign add whole rows of A into rows of SA, so they accumulate SA in
    /// row-major order (contiguous rows on both sides) and transpose once at the end.
    var accumulatesRowMajor: Bool { distribution.kind == .countsketch || distribution.kind == .sparseSign }

    /// The column-major form of a row-major rows×cols array.
    static func transposed(_ rowMajor: [Double], rows: Int, cols: Int) -> [Double] {
        var out = [Double](repeating: 0, count: rows * cols)
        for i in 0..<rows { for j in 0..<cols { out[i + j * rows] = rowMajor[i * cols + j] } }
        return out
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
                let rowsOfA = a.operand(transposed: false)
                BLAS.gemm(.none, rowsOfA.flag, m: s, n: d, k: len, alpha: 1, a: buf.baseAddress!, lda: s,
                          b: rowsOfA.pointer, ldb: rowsOfA.ld, beta: 1, c: partial, ldc: s)
            }
        case .countsketch, .sparseSign:
            accumulateRows(block, into: partial, scratch: &scratch)
        case .srht:
            accumulateSRHT(block, into: partial, scratch: &scratch)
        }
    }

    /// CountSketch / sparse sign on one block: each row of A is added (×±1/√k) into k rows of the
    /// row-major partial SA, read in place from a row-major block, else from a row-major copy.
    func accumulateRows(_ block: RowBlock, into partial: UnsafeMutablePointer<Double>, scratch: inout [Double]) {
        let a = block.view, d = a.cols, len = a.rows
        let k = distribution.kind == .countsketch ? 1 : distribution.nonzerosPerColumn
        let value = distribution.kind == .countsketch ? 1 : 1 / Double(k).squareRoot()
        if a.order == .columnMajor && scratch.count < blockRows * d { scratch = [Double](repeating: 0, count: blockRows * d) }
        scratch.withUnsafeMutableBufferPointer { buf in
            let rowsOfA: UnsafePointer<Double>, stride: Int
            if a.order == .rowMajor {
                (rowsOfA, stride) = (a.readOnly, a.ld)
            } else {
                a.copyRowMajor(into: buf.baseAddress!, ld: d)
                (rowsOfA, stride) = (UnsafePointer(buf.baseAddress!), d)
            }
            withUnsafeTemporaryAllocation(of: Int.self, capacity: k) { targets in
                withUnsafeTemporaryAllocation(of: Double.self, capacity: k) { signs in
                    for (r, j) in block.rows.enumerated() {
                        if distribution.kind == .countsketch {
                            let (row, sign) = countSketchEntry(j)
                            targets[0] = row
                            signs[0] = sign
                        } else {
                            sparseSignEntries(j, rows: targets.baseAddress!, signs: signs.baseAddress!)
                        }
                        for i in 0..<k {
                            BLAS.axpy(count: d, alpha: signs[i] * value, x: rowsOfA + r * stride, y: partial + targets[i] * d)
                        }
                    }
                }
            }
        }
    }

    /// One block of the block SRHT: copy with random signs, zero-pad to B, Walsh–Hadamard down
    /// each column, keep the sampled rows with output signs and scale 1/√s. A row-major block is
    /// first transposed into the scratch (blocked), so both orders give the same bits.
    func accumulateSRHT(_ block: RowBlock, into partial: UnsafeMutablePointer<Double>, scratch: inout [Double]) {
        let s = distribution.rows, a = block.view, d = a.cols, bRows = blockRows
        if scratch.count < bRows * d { scratch = [Double](repeating: 0, count: bRows * d) }
        let g = rng, scale = 1 / Double(s).squareRoot()
        let signs = block.rows.map { g.sign(index: UInt64($0), stream: PhiloxStream.sketchSigns) }
        let outSigns = (0..<s).map { srhtOutputSign(block: block.index, $0) * scale }
        scratch.withUnsafeMutableBufferPointer { buf in
            let x = buf.baseAddress!
            let source: Tile
            if a.order == .rowMajor {
                a.copyColumnMajor(into: x, ld: bRows)
                source = Tile(base: x, rows: a.rows, cols: d, ld: bRows)
            } else {
                source = a
            }
            for j in 0..<d {
                let col = x + j * bRows, src = source.readOnly + j * source.ld
                for r in 0..<a.rows { col[r] = src[r] * signs[r] }
                for r in a.rows..<bRows { col[r] = 0 }
                WalshHadamard.transform(col, count: bRows)
                for (k, row) in sampledRows.enumerated() { partial[k + j * s] += outSigns[k] * col[row] }
            }
        }
    }
}
