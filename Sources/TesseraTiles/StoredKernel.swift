import TesseraCore
import TesseraKernels
import TesseraRuntime

/// K = exp(AAᵀ) kept in memory as the blocks K_IJ (I ≤ J) of its upper triangle, over fixed row
/// blocks of `blockRows` rows (independent of A's tiles and of the worker count).
///
/// Filling: one task per block pair, a GEMM A_I·A_Jᵀ and an in-place exp by column panels
/// (n²d flops, n²/2 exps over the pairs, half of the full square). A product (K + λI)·x: one
/// task per pair reads K_IJ once and produces both K_IJ·x_J and K_IJᵀ·x_I
/// (`SymmetricBlockProduct`), then one task per row block sums its contributions in a fixed
/// order — the same bits for any number of workers. Memory (n² + n·blockRows)/2 doubles, half of
/// storing K whole; each product streams it once. NUMA: block row I lives on the domain of A's
/// tile that holds its first row, and its tasks run there (first touch and every later read).
/// Every panel is a `KernelPanel` (the same bits as the on-the-fly products' entries). Throws
/// `invalidArgument` for a product with x of the wrong length, and allocation/graph errors.
/// In a distributed engine each process stores and multiplies only its share of the pairs
/// (`SymmetricBlockPairs`: memory and time divided by the process count, the same bits).
public final class StoredKernel: Sendable {
    public let order: Int
    public let blockRows: Int
    /// blocks[I][J - I] = K_IJ for J ≥ I (rows(I) × rows(J), column-major); nil for the pairs
    /// another process holds (a distributed engine: `SymmetricBlockPairs`).
    let blocks: [[SharedBlock?]]
    /// The NUMA domain of each block row.
    let domains: [Int]

    public static let defaultBlockRows = 2_048

    /// The bytes `init` allocates for an n×n kernel (the blocks of the upper triangle).
    public static func bytes(order n: Int, blockRows: Int = defaultBlockRows) -> UInt64 {
        let b = max(1, min(blockRows, max(n, 1)))
        return ByteCount.sum(ByteCount.doubles(n, n) / 2, ByteCount.doubles(n, b) / 2, ByteCount.doubles(n))
    }

    public init(matrix: TiledMatrix, engine: Engine, blockRows requested: Int = defaultBlockRows) throws(TesseraError) {
        let n = matrix.rows, d = matrix.cols
        let b = max(1, min(requested, n))
        let count = Checked.ceilDiv(n, b)
        try matrix.requireAllFinite(engine: engine)
        let a = try SharedBlock(matrix.toColumnMajorArray(), engine: engine)   // n × d
        let domains = (0..<count).map { i in matrix.tiles[min(matrix.layout.tileCount - 1, i * b / matrix.layout.tileRows)].domain }
        let pairs = SymmetricBlockPairs(blockCount: count, exchange: engine.exchange)
        var blocks: [[SharedBlock?]] = []
        var p = 0
        for i in 0..<count {
            var row: [SharedBlock?] = []
            for j in i..<count {
                row.append(pairs.owned.contains(p) ? try SharedBlock(rows: Self.size(i, b, n), cols: Self.size(j, b, n), engine: engine, domain: domains[i], zeroed: false) : nil)
                p += 1
            }
            blocks.append(row)
        }
        let graph = TaskGraph()
        let panel = 128
        for i in 0..<count {
            for j in i..<count {
                guard let block = blocks[i][j - i] else { continue }
                let rows = Self.size(i, b, n), cols = Self.size(j, b, n), i0 = i * b, j0 = j * b
                graph.add(name: "store-kernel-block", reads: [a.handle], writes: [block.handle], domain: domains[i], priority: count - (j - i)) { _ in
                    for q0 in stride(from: 0, to: cols, by: panel) {
                        let width = min(panel, cols - q0)
                        KernelPanel.compute(a: Tile(base: a.pointer + i0, rows: rows, cols: d, ld: n),
                                            b: Tile(base: a.pointer + j0 + q0, rows: width, cols: d, ld: n),
                                            into: block.pointer + q0 * rows, ldc: rows)
                    }
                }
            }
        }
        try engine.run(graph)
        order = n
        blockRows = b
        self.blocks = blocks
        self.domains = domains
    }

    static func size(_ i: Int, _ b: Int, _ n: Int) -> Int { min(b, n - i * b) }

    /// (K + λI)·x.
    public func multiply(_ x: [Double], ridge lambda: Double, engine: Engine) throws(TesseraError) -> [Double] {
        let n = order, b = blockRows, count = blocks.count
        guard x.count == n else { throw .invalidArgument("x has length \(x.count), the kernel has order \(n)") }
        let xs = try SharedBlock(x, engine: engine)
        // contributions[I][J] = K_IJ·x_J (J ≥ I) or K_JIᵀ·x_J (J < I), rows(I) long.
        var contributions: [[SharedBlock]] = []
        for i in 0..<count { contributions.append(try (0..<count).map { _ throws(TesseraError) in try SharedBlock(rows: Self.size(i, b, n), engine: engine) }) }
        let y = try ColumnBlock(rows: n, cols: 1, engine: engine, rowBlock: b)
        let graph = TaskGraph()
        for i in 0..<count {
            for j in i..<count {
                guard let block = blocks[i][j - i] else { continue }
                let cij = contributions[i][j], cji = contributions[j][i]
                let rows = Self.size(i, b, n), cols = Self.size(j, b, n), i0 = i * b, j0 = j * b
                let writes = i == j ? [cij.handle] : [cij.handle, cji.handle]
                graph.add(name: "stored-kernel-block", reads: [block.handle, xs.handle], writes: writes, domain: domains[i], priority: count - (j - i)) { _ in
                    // Zeroed by allocation; the diagonal block's transposed half would repeat its own rows.
                    SymmetricBlockProduct.apply(block.pointer, ld: rows, rows: rows, cols: cols,
                                                xRows: xs.pointer + i0, xCols: xs.pointer + j0,
                                                yRows: cij.pointer, yCols: cji.pointer, transposedToo: i != j)
                }
            }
        }
        // A distributed kernel holds its pairs only; their contributions are exchanged, then every
        // process sums all of them in the same order.
        var sums = graph
        if let exchange = engine.exchange {
            try SymmetricBlockPairs(blockCount: count, exchange: exchange)
                .runAndShare(graph, engine: engine, exchange: exchange, contributions: contributions, rowCount: { Self.size($0, b, n) })
            sums = TaskGraph()
        }
        for i in 0..<count {
            let parts = contributions[i], i0 = i * b, rows = Self.size(i, b, n)
            sums.add(name: "stored-kernel-sum", reads: parts.map(\.handle), writes: y.handles(rows: i0..<(i0 + rows), cols: 0..<1)) { _ in
                let out = y.base + i0
                for k in 0..<rows { out[k] = lambda * xs.pointer[i0 + k] }
                for part in parts { BLAS.axpy(count: rows, alpha: 1, x: part.pointer, y: out) }
            }
        }
        try engine.run(sums)
        return y.toArray()
    }
}
