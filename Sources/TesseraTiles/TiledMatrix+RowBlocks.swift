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
/// partials are summed by a fixed binary tree. So sketches SA have the same bits for any tile
/// size and any number of threads. Memory: G partials of `resultCount` doubles.
extension TiledMatrix {
    /// Bytes the group partials may use.
    public static let rowBlockPartialBudgetBytes = 512 << 20

    /// Number of groups for a result of `resultCount` doubles: min(64, blocks, budget/(8·count)).
    public func rowBlockGroupCount(blockRows: Int, resultCount: Int) -> Int {
        let blocks = Checked.ceilDiv(rows, blockRows)
        let byMemory = max(1, Self.rowBlockPartialBudgetBytes / (8 * max(resultCount, 1)))
        return max(1, min(64, blocks, byMemory))
    }

    /// Σ over row blocks of `kernel(block, partial, scratch)`, where `kernel` adds its block's
    /// contribution into `partial` (`resultCount` doubles, zero before the first block of a group)
    /// and may keep reusable memory in `scratch` (per group).
    public func reduceRowBlocks(blockRows: Int, resultCount: Int, engine: Engine, name: String,
                                kernel: @escaping @Sendable (RowBlock, UnsafeMutablePointer<Double>, inout [Double]) -> Void)
        throws(TesseraError) -> [Double] {
        guard blockRows >= 1 else { throw .internalFailure("row block size must be positive") }
        let blocks = Checked.ceilDiv(rows, blockRows)
        let groups = rowBlockGroupCount(blockRows: blockRows, resultCount: resultCount)
        var partials: [SharedBlock] = []
        for g in 0..<groups {
            let firstRow = (g * blocks / groups) * blockRows
            let domain = tiles[firstRow / layout.tileRows].domain
            partials.append(try SharedBlock(rows: resultCount, engine: engine, domain: domain))
        }
        let graph = TaskGraph()
        let n = rows, d = cols, tileRows = layout.tileRows, storages = tiles
        for g in 0..<groups {
            let blockRange = (g * blocks / groups)..<((g + 1) * blocks / groups)
            let rowRange = (blockRange.lowerBound * blockRows)..<min(blockRange.upperBound * blockRows, n)
            let touched = (rowRange.lowerBound / tileRows)...((rowRange.upperBound - 1) / tileRows)
            let partial = partials[g]
            graph.place(partial.handle, domain: partial.storage.domain)
            graph.add(name: name, reads: touched.map { storages[$0].handle }, writes: [partial.handle]) { _ in
                for t in touched { try self.requireFinite(t) }
                var scratch: [Double] = []
                var copy: [Double] = []
                for b in blockRange {
                    let r0 = b * blockRows, r1 = min(r0 + blockRows, n)
                    let t0 = r0 / tileRows, t1 = (r1 - 1) / tileRows
                    if t0 == t1 {
                        let view = storages[t0].tile.rows((r0 - t0 * tileRows)..<(r1 - t0 * tileRows))
                        kernel(RowBlock(rows: r0..<r1, index: b, view: view), partial.pointer, &scratch)
                    } else {
                        // The block spans tiles: copied into scratch in the tiles' own order, so the
                        // kernel sees the same layout (and gives the same bits) as for an inner block.
                        let len = r1 - r0, order = storages[t0].tile.order
                        if copy.count < len * d { copy = [Double](repeating: 0, count: blockRows * d) }
                        copy.withUnsafeMutableBufferPointer { buf in
                            let dst = buf.baseAddress!
                            for t in t0...t1 {
                                let tile = storages[t].tile, tFirst = t * tileRows
                                let a = max(r0, tFirst), z = min(r1, tFirst + tile.rows)
                                let part = tile.rows((a - tFirst)..<(z - tFirst))
                                if order == .columnMajor {
                                    part.copyColumnMajor(into: dst + (a - r0), ld: len)
                                } else {
                                    part.copyRowMajor(into: dst + (a - r0) * d, ld: d)
                                }
                            }
                            let view = Tile(base: dst, rows: len, cols: d, ld: order == .columnMajor ? len : d, order: order)
                            kernel(RowBlock(rows: r0..<r1, index: b, view: view), partial.pointer, &scratch)
                        }
                    }
                }
            }
        }
        let frozen = partials, count = resultCount
        graph.addTreeReduction(name: name + "-sum", handles: partials.map(\.handle), priority: 1) { into, from in
            BLAS.axpy(count: count, alpha: 1, x: frozen[from].pointer, y: frozen[into].pointer)
        }
        try engine.run(graph)
        return partials[0].toArray()
    }
}
