import TesseraCore
import TesseraKernels
import TesseraRuntime

/// A block of consecutive global rows of a tiled matrix, as one view in the tiles' storage order:
/// the tile's own memory when the block lies inside one tile, else a copy in the task's scratch.
public struct RowBlock {
    /// Global rows of the block.
    public let rows: Range<Int>
    /// Block index (rows.lowerBound / blockRows).
    public let index: Int
    /// The block's values, rows.count × d.
    public let view: Tile

    public init(rows: Range<Int>, index: Int, view: Tile) {
        self.rows = rows
        self.index = index
        self.view = view
    }
}

/// Reductions over canonical row blocks: Σ_blocks f(block), with the blocks, their grouping and
/// the order of every addition fixed by (n, blockRows) alone, never by the tiling or the thread
/// count. Rows are cut in blocks of `blockRows`; blocks in G contiguous groups; one task per
/// group runs `kernel` on its blocks in order, accumulating into the group's partial; the
/// partials are summed by a fixed binary tree. So sketches SA, and every product that sums over
/// rows (with `TileLayout.reductionBlockRows`), have the same bits for any tile size and any
/// number of threads. Memory: G partials of `resultCount` doubles.
extension TiledMatrix {
    /// Bytes the group partials may use.
    public static let rowBlockPartialBudgetBytes = 512 << 20

    /// The canonical groups of blocks for a result of `resultCount` doubles: G = min(64, blocks,
    /// budget/(8·count)) contiguous ranges of block indices, group g holding blocks
    /// [⌊g·blocks/G⌋, ⌊(g+1)·blocks/G⌋).
    public func rowBlockGroups(blockRows: Int, resultCount: Int,
                               budgetBytes: Int = TiledMatrix.rowBlockPartialBudgetBytes) -> [Range<Int>] {
        let blocks = Checked.ceilDiv(rows, max(1, blockRows))
        let byMemory = max(1, budgetBytes / (8 * max(resultCount, 1)))
        let groups = max(1, min(64, blocks, byMemory))
        return (0..<groups).map { g in (g * blocks / groups)..<((g + 1) * blocks / groups) }
    }

    /// The tiles that hold rows of the blocks `blocks`.
    public func tiles(touchedBy blocks: Range<Int>, blockRows: Int) -> ClosedRange<Int> {
        let first = blocks.lowerBound * blockRows, last = min(blocks.upperBound * blockRows, rows) - 1
        return (first / layout.tileRows)...(last / layout.tileRows)
    }

    /// Calls `body` on the blocks `blocks` in order, each as one view in the tiles' storage
    /// order: the tile's own memory when the block lies inside one tile, else a copy in `copy`
    /// (same order, so a kernel gives the same bits as for an inner block).
    public func forEachRowBlock(_ blocks: Range<Int>, blockRows: Int, copy: inout [Double], _ body: (RowBlock) -> Void) {
        let n = rows, d = cols, tileRows = layout.tileRows
        for b in blocks {
            let r0 = b * blockRows, r1 = min(r0 + blockRows, n)
            let t0 = r0 / tileRows, t1 = (r1 - 1) / tileRows
            if t0 == t1 {
                body(RowBlock(rows: r0..<r1, index: b, view: tiles[t0].tile.rows((r0 - t0 * tileRows)..<(r1 - t0 * tileRows))))
                continue
            }
            let len = r1 - r0, order = tiles[t0].tile.order
            if copy.count < len * d { copy = [Double](repeating: 0, count: blockRows * d) }
            copy.withUnsafeMutableBufferPointer { buffer in
                guard let dst = buffer.baseAddress else { return }
                for t in t0...t1 {
                    let tile = tiles[t].tile, tFirst = t * tileRows
                    let a = max(r0, tFirst), z = min(r1, tFirst + tile.rows)
                    let part = tile.rows((a - tFirst)..<(z - tFirst))
                    if order == .columnMajor {
                        part.copyColumnMajor(into: dst + (a - r0), ld: len)
                    } else {
                        part.copyRowMajor(into: dst + (a - r0) * d, ld: d)
                    }
                }
                let view = Tile(base: dst, rows: len, cols: d, ld: order == .columnMajor ? len : d, order: order)
                body(RowBlock(rows: r0..<r1, index: b, view: view))
            }
        }
    }

    /// Σ over row blocks of `kernel(block, partial, scratch)`, where `kernel` adds its block's
    /// contribution into `partial` (`resultCount` doubles, zero before the first block of a group)
    /// and may keep reusable memory in `scratch` (per group). `extraReads` are the other data the
    /// kernel reads.
    public func reduceRowBlocks(blockRows: Int, resultCount: Int, engine: Engine, name: String,
                                extraReads: [DataHandle] = [],
                                kernel: @escaping @Sendable (RowBlock, UnsafeMutablePointer<Double>, inout [Double]) -> Void)
        throws(TesseraError) -> [Double] {
        guard blockRows >= 1 else { throw .internalFailure("row block size must be positive") }
        let groups = rowBlockGroups(blockRows: blockRows, resultCount: resultCount)
        let partials = try Self.agreeingOnFailure(engine: engine) { () throws(TesseraError) in
            try groups.map { (blocks) throws(TesseraError) in
                let domain = tiles[tiles(touchedBy: blocks, blockRows: blockRows).lowerBound].domain
                return try SharedBlock(rows: resultCount, engine: engine, domain: domain)
            }
        }
        let owned = engine.exchange?.ownedGroups(of: groups.count) ?? 0..<groups.count
        let graph = TaskGraph()
        for (g, blocks) in groups.enumerated() where owned.contains(g) {
            let touched = tiles(touchedBy: blocks, blockRows: blockRows)
            let partial = partials[g]
            graph.place(partial.handle, domain: partial.storage.domain)
            graph.add(name: name, reads: touched.map { self.tiles[$0].handle } + extraReads, writes: [partial.handle]) { _ in
                for t in touched { try self.requireFinite(t) }
                var scratch: [Double] = []
                var copy: [Double] = []
                self.forEachRowBlock(blocks, blockRows: blockRows, copy: &copy) { block in
                    kernel(block, partial.pointer, &scratch)
                }
            }
        }
        let frozen = partials, count = resultCount
        if let exchange = engine.exchange {
            try Self.combineAcrossProcesses(graph: graph, engine: engine, exchange: exchange, partials: partials,
                                            owned: owned, count: count) { into, from in
                BLAS.axpy(count: count, alpha: 1, x: frozen[from].pointer, y: frozen[into].pointer)
            }
            return partials[0].toArray()
        }
        graph.addTreeReduction(name: name + "-sum", handles: partials.map(\.handle), priority: 1) { into, from in
            BLAS.axpy(count: count, alpha: 1, x: frozen[from].pointer, y: frozen[into].pointer)
        }
        try engine.run(graph)
        return partials[0].toArray()
    }
}

extension TiledMatrix {
    /// Runs `body` (the allocations before a reduction's exchange); when it fails in a distributed
    /// engine, this process first passes the error to `agree` — which meets the agreement every
    /// other process makes at the start of its exchange (`allGather` agrees first) — so all of them
    /// throw it instead of waiting for this one. Rethrows `body`'s error.
    static func agreeingOnFailure<T>(engine: Engine, _ body: () throws(TesseraError) -> T) throws(TesseraError) -> T {
        do { return try body() } catch {
            if let exchange = engine.exchange, exchange.size > 1 { try exchange.agree(failure: error) }
            throw error
        }
    }

    /// The distributed end of a group reduction: runs `graph` (this process's groups), hands the
    /// owned partials (or the error the graph threw) to `exchange`, copies every group's partial
    /// back into `partials`, and sums them by the fixed tree on this thread, `combine(into, from)`
    /// in `TaskGraph.treeReductionPairs` order — the same additions in the same order as the
    /// single-process tree, hence the same bits. Throws the agreed failure of any process.
    static func combineAcrossProcesses(graph: TaskGraph, engine: Engine, exchange: any RowGroupExchange,
                                       partials: [SharedBlock], owned: Range<Int>, count: Int, trace: TraceRecorder? = nil,
                                       combine: (Int, Int) -> Void) throws(TesseraError) {
        var failure: TesseraError?
        do { try engine.run(graph, trace: trace) } catch { failure = error }
        var local = [Double]()
        if failure == nil {
            local.reserveCapacity(owned.count * count)
            for g in owned { local.append(contentsOf: UnsafeBufferPointer(start: partials[g].pointer, count: count)) }
        }
        let all = try exchange.allGather(owned: local, groupCount: partials.count, resultCount: count, failure: failure)
        guard all.count == partials.count * count else {
            throw .internalFailure("the exchange returned \(all.count) values for \(partials.count) partials of \(count)")
        }
        all.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            for g in partials.indices { partials[g].pointer.update(from: base + g * count, count: count) }
        }
        for (into, from) in TaskGraph.treeReductionPairs(count: partials.count) { combine(into, from) }
    }
}
