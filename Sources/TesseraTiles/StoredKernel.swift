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
/// In a distributed engine the block rows are owned as a `KernelRing`'s tiles are, and each
/// process stores and multiplies only the pairs it hosts there (memory and time divided by the
/// process count); each product sends the guests' contributions home (`RingContributions`) and
/// gathers y, or — on rows (`multiply(rows:)`) — gathers x first and keeps this process's rows
/// of y: the same bits for any process count.
public final class StoredKernel: Sendable {
    public let order: Int
    public let blockRows: Int
    /// The block rows as a layout (n rows in blocks of `blockRows`): how vectors are divided
    /// among processes for this kernel's products on rows (`multiply(rows:)`, `RowPartition`).
    public let layout: TileLayout
    /// blocks[I][J - I] = K_IJ for J ≥ I (rows(I) × rows(J), column-major); nil for the pairs
    /// another process hosts (a distributed engine).
    let blocks: [[SharedBlock?]]
    /// The NUMA domain of each block row.
    let domains: [Int]
    /// The division of the block rows among processes (nil in a single process).
    let ring: KernelRing?

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
        layout = try TileLayout(rows: n, cols: d, tileRows: b)
        let domains = (0..<count).map { i in matrix.tiles[min(matrix.layout.tileCount - 1, i * b / matrix.layout.tileRows)].domain }
        let ring = KernelRing(tileCount: count, engine: engine)
        let hosted = Set(Self.hostedPairs(ring: ring, count: count).map { $0.0 * count + $0.1 })
        var blocks: [[SharedBlock?]] = []
        // Distributed, the processes agree on the outcome (the blocks are most of the memory).
        var failure: TesseraError?
        do throws(TesseraError) {
            try matrix.requireAllFinite(engine: engine)
            let a = try SharedBlock(matrix.toColumnMajorArray(), engine: engine)   // n × d
            for i in 0..<count {
                var row: [SharedBlock?] = []
                for j in i..<count {
                    row.append(hosted.contains(i * count + j) ? try SharedBlock(rows: Self.size(i, b, n), cols: Self.size(j, b, n), engine: engine, domain: domains[i], zeroed: false) : nil)
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
        } catch { failure = error }
        if ring != nil, let exchange = engine.exchange { try exchange.agree(failure: failure) } else if let failure { throw failure }
        order = n
        blockRows = b
        self.blocks = blocks
        self.domains = domains
        self.ring = ring
    }

    /// The pairs (i ≤ j) this process stores: all of them alone, those it hosts in a ring.
    static func hostedPairs(ring: KernelRing?, count: Int) -> [(Int, Int)] {
        guard let ring else { return (0..<count).flatMap { i in (i..<count).map { (i, $0) } } }
        return (0...ring.rounds).flatMap { ring.pairs(round: $0) }
    }

    static func size(_ i: Int, _ b: Int, _ n: Int) -> Int { min(b, n - i * b) }

    /// (K + λI)·x.
    public func multiply(_ x: [Double], ridge lambda: Double, engine: Engine) throws(TesseraError) -> [Double] {
        let n = order, b = blockRows, count = blocks.count
        guard x.count == n else { throw .invalidArgument("x has length \(x.count), the kernel has order \(n)") }
        if let ring {
            guard let exchange = engine.exchange, exchange.size == ring.size, exchange.rank == ring.rank else {
                throw .internalFailure("a kernel stored by \(ring.size) processes used by another division")
            }
            let rows = try distributedRows(x, ridge: lambda, ring: ring, engine: engine, exchange: exchange)
            return try RowPartition(layout: layout, engine: engine).gather(rows)
        }
        let xs = try SharedBlock(x, engine: engine)
        // contributions[I][J] = K_IJ·x_J (J ≥ I) or K_JIᵀ·x_J (J < I), rows(I) long.
        var contributions: [[SharedBlock]] = []
        for i in 0..<count { contributions.append(try (0..<count).map { _ throws(TesseraError) in try SharedBlock(rows: Self.size(i, b, n), engine: engine) }) }
        let y = try ColumnBlock(rows: n, cols: 1, engine: engine, rowBlock: b)
        let graph = TaskGraph()
        for i in 0..<count {
            for j in i..<count {
                guard let block = blocks[i][j - i] else { continue }
                addPairTask(graph, block: block, i, j, x: xs, into: (contributions[i][j], contributions[j][i]))
            }
        }
        for i in 0..<count {
            let parts = contributions[i], i0 = i * b, rows = Self.size(i, b, n)
            graph.add(name: "stored-kernel-sum", reads: parts.map(\.handle), writes: y.handles(rows: i0..<(i0 + rows), cols: 0..<1)) { _ in
                let out = y.base + i0
                for k in 0..<rows { out[k] = lambda * xs.pointer[i0 + k] }
                for part in parts { BLAS.axpy(count: rows, alpha: 1, x: part.pointer, y: out) }
            }
        }
        try engine.run(graph)
        return y.toArray()
    }

    /// The task of stored pair (i, j): c_{i←j} = K_ij·x_j and, for i ≠ j, c_{j←i} = K_ijᵀ·x_i
    /// (`SymmetricBlockProduct`), accumulated into the zeroed `into` vectors.
    private func addPairTask(_ graph: TaskGraph, block: SharedBlock, _ i: Int, _ j: Int, x xs: SharedBlock,
                             into c: (SharedBlock, SharedBlock)) {
        let n = order, b = blockRows, count = blocks.count
        let rows = Self.size(i, b, n), cols = Self.size(j, b, n), i0 = i * b, j0 = j * b
        let (cij, cji) = c
        let writes = i == j ? [cij.handle] : [cij.handle, cji.handle]
        graph.add(name: "stored-kernel-block", reads: [block.handle, xs.handle], writes: writes, domain: domains[i], priority: count - (j - i)) { _ in
            SymmetricBlockProduct.apply(block.pointer, ld: rows, rows: rows, cols: cols,
                                        xRows: xs.pointer + i0, xCols: xs.pointer + j0,
                                        yRows: cij.pointer, yCols: cji.pointer, transposedToo: i != j)
        }
    }

    /// This process's rows of (K + λI)·x from its rows of x, divided by `layout`'s blocks
    /// (`RowPartition(layout:engine:)`): distributed, x is gathered (n values: the blocks this
    /// process hosts need x at other processes' rows) and only its rows of y are made; in a single
    /// process `multiply(_:ridge:engine:)`.
    public func multiply(rows x: [Double], ridge lambda: Double, engine: Engine) throws(TesseraError) -> [Double] {
        guard let ring else { return try multiply(x, ridge: lambda, engine: engine) }
        guard let exchange = engine.exchange, exchange.size == ring.size, exchange.rank == ring.rank else {
            throw .internalFailure("a kernel stored by \(ring.size) processes used by another division")
        }
        let whole = try RowPartition(layout: layout, engine: engine).gather(x)
        return try distributedRows(whole, ridge: lambda, ring: ring, engine: engine, exchange: exchange)
    }

    /// This process's rows of (K + λI)·x when it holds the pairs it hosts in `ring`: its pairs'
    /// contributions, then the guests' sent home (`RingContributions`).
    private func distributedRows(_ x: [Double], ridge lambda: Double, ring: KernelRing, engine: Engine,
                                 exchange: any RowGroupExchange) throws(TesseraError) -> [Double] {
        let n = order, b = blockRows, count = blocks.count
        var failure: TesseraError?
        var contributions: RingContributions?, xs: SharedBlock?
        do throws(TesseraError) {
            let made = try RingContributions(ring: ring, ranges: (0..<count).map { ($0 * b)..<min(n, ($0 + 1) * b) })
            try made.allocate(hosted: Self.hostedPairs(ring: ring, count: count), engine: engine) { self.domains[$0] }
            contributions = made
            xs = try SharedBlock(x, engine: engine)
        } catch { failure = error }
        try exchange.agree(failure: failure)
        guard let contributions, let xs else { throw .internalFailure("StoredKernel: buffers missing after agreement") }
        let graph = TaskGraph()
        for i in 0..<count {
            for j in i..<count {
                guard let block = blocks[i][j - i], let targets = contributions.targets(i, j) else { continue }
                addPairTask(graph, block: block, i, j, x: xs, into: targets)
            }
        }
        do { try engine.run(graph) } catch { failure = error }
        let mine = contributions.rows(of: ring.rank)
        return try contributions.finish(x: xs.pointer + mine.lowerBound, ridge: lambda, exchange: exchange, failure: failure)
    }
}
