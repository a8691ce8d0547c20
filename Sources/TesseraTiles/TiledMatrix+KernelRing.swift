import TesseraCore
import TesseraKernels
import TesseraRuntime

/// One process's tiles of A packed for the ring of a distributed kernel product (`KernelRing`):
/// each tile's entries in its own storage order (row-major with leading dimension d, column-major
/// with leading dimension rows), or — for float32 panels — its rounded rows (row-major floats,
/// each tile padded to whole 8-byte words), one tile after the other in tile order; then, from
/// the next 64-byte boundary, the tiles' rows of x (the vector travels with its rows of A).
///
/// Invariant (why `@unchecked Sendable` is sound): the memory is owned by `block`; in the float32
/// form it is bound to Float once, here, and only MPI (C) sees it as 8-byte words. It is written
/// by `pack` or by a ring shift while no task reads it, and read-only while a round's tasks run
/// (they declare `block.handle`).
final class RingPacket: @unchecked Sendable {
    let block: SharedBlock
    let floats: Bool
    let layout: TileLayout

    init(capacity words: Int, floats: Bool, layout: TileLayout, engine: Engine) throws(TesseraError) {
        block = try SharedBlock(rows: Swift.max(words, 1), engine: engine, zeroed: false)
        self.floats = floats
        self.layout = layout
        if floats { _ = UnsafeMutableRawPointer(block.pointer).bindMemory(to: Float.self, capacity: 2 * Swift.max(words, 1)) }
    }

    /// The 8-byte words tile t takes.
    static func words(ofTile t: Int, layout: TileLayout, floats: Bool) -> Int {
        let values = layout.rowCount(ofTile: t) * layout.cols
        return floats ? (values + 1) / 2 : values
    }

    /// The words of `tiles`' entries of A.
    static func matrixWords(of tiles: Range<Int>, layout: TileLayout, floats: Bool) -> Int {
        tiles.reduce(0) { $0 + words(ofTile: $1, layout: layout, floats: floats) }
    }

    /// The word where x's rows start: after A's, rounded up to 8 words (64 bytes). (The pair
    /// products' GEMVs read a tile's x at whatever alignment its rows fall; with tiles of a
    /// multiple of 8 rows it is the same everywhere, and the same bits were checked on 1–7
    /// processes with tiles of 37, 333 and 833 rows too.)
    static func vectorOffset(of tiles: Range<Int>, layout: TileLayout, floats: Bool) -> Int {
        (matrixWords(of: tiles, layout: layout, floats: floats) + 7) / 8 * 8
    }

    /// The words of a packet holding `tiles` and their rows of x.
    static func words(of tiles: Range<Int>, layout: TileLayout, floats: Bool) -> Int {
        vectorOffset(of: tiles, layout: layout, floats: floats) + tiles.reduce(0) { $0 + layout.rowCount(ofTile: $1) }
    }

    private func offset(of t: Int, in tiles: Range<Int>) -> Int {
        Self.matrixWords(of: tiles.lowerBound..<t, layout: layout, floats: floats)
    }

    /// Tile t's rows of x (t one of `tiles`).
    func vector(_ t: Int, of tiles: Range<Int>) -> UnsafePointer<Double> {
        let first = tiles.first.map { layout.rowRange(ofTile: $0).lowerBound } ?? 0
        return UnsafePointer(block.pointer + Self.vectorOffset(of: tiles, layout: layout, floats: floats)
                             + layout.rowRange(ofTile: t).lowerBound - first)
    }

    /// Tile t (one of `tiles`, what the packet holds) as a view, in `order` (float64 form).
    func tile(_ t: Int, of tiles: Range<Int>, order: StorageOrder) -> Tile {
        let rows = layout.rowCount(ofTile: t), d = layout.cols
        return Tile(base: block.pointer + offset(of: t, in: tiles), rows: rows, cols: d,
                    ld: order == .rowMajor ? d : Swift.max(rows, 1), order: order)
    }

    /// Tile t's float32 rows (float32 form).
    func singleRows(_ t: Int, of tiles: Range<Int>) -> UnsafePointer<Float> {
        UnsafePointer(UnsafeMutableRawPointer(block.pointer + offset(of: t, in: tiles)).assumingMemoryBound(to: Float.self))
    }

    /// Packs `tiles` of A (or, with `single`, their float32 rows) and their rows of x (`x`: the
    /// tiles' rows, in order).
    func pack(_ tiles: Range<Int>, of matrix: TiledMatrix, single: SingleRowTiles?, x: UnsafePointer<Double>) {
        let rowCount = tiles.reduce(0) { $0 + layout.rowCount(ofTile: $1) }
        (block.pointer + Self.vectorOffset(of: tiles, layout: layout, floats: floats)).update(from: x, count: rowCount)
        for t in tiles {
            let at = offset(of: t, in: tiles)
            if let single {
                let count = layout.rowCount(ofTile: t) * layout.cols
                UnsafeMutableRawPointer(block.pointer + at).assumingMemoryBound(to: Float.self).update(from: single.pointer(t), count: count)
            } else {
                let source = matrix.tiles[t].tile
                if source.order == .rowMajor { source.copyRowMajor(into: block.pointer + at, ld: source.cols) }
                else { source.copyColumnMajor(into: block.pointer + at, ld: Swift.max(source.rows, 1)) }
            }
        }
    }
}

extension TiledMatrix {
    /// This process's rows of (K + λI)·x on a distributed engine, from its rows of x
    /// (`RowPartition`), around a ring (`KernelRing`): process r reads only the rows of its own
    /// tiles, computes its pairs of them, then in ⌊P/2⌋ ring shifts receives the tiles of the
    /// processes before it (float32 rows when `single`) with their rows of x, computing the pairs
    /// it hosts with each while the next packet travels; the contributions it made for a guest's
    /// rows go back to their owner in one all-to-all, and each owner sums c_{I←J} over J = 0, 1, …
    /// as a single process does (`pairContributions`: the same operations per pair) — the same
    /// bits for any P. No n-vector is held. Per process and product: ≈ n²d/P flops and n²/(2P)
    /// exps, ⌊P/2⌋ packets of n·(d + 1)/P values received, ≈ T·n/(2P) contributions sent and
    /// received. Throws the agreed failure of any process (a non-finite entry in its tiles, an
    /// interruption, an allocation), on every process.
    func ringKernelMultiply(rows x: [Double], ridge lambda: Double, single: SingleRowTiles?, engine: Engine,
                            exchange: any RowGroupExchange) throws(TesseraError) -> [Double] {
        let t = layout.tileCount, panel = Swift.min(Self.kernelPanelRows, layout.tileRows), lay = layout, storages = tiles
        let ring = KernelRing(tileCount: t, rank: exchange.rank, size: exchange.size)
        let mine = ring.tiles(of: ring.rank), floats = single != nil, ownRows = ring.rows(of: ring.rank, layout: lay)
        guard x.count == ownRows.count else {
            throw .internalFailure("ringKernelMultiply: \(x.count) values of x for this process's \(ownRows.count) rows")
        }
        func packetWords(_ r: Int) -> Int { RingPacket.words(of: ring.tiles(of: r), layout: lay, floats: floats) }

        // Everything this product allocates, before any exchange, so that a process failing here
        // is agreed on instead of leaving the others waiting in the ring.
        var failure: TesseraError?
        var xs: SharedBlock?, scratch: SharedBlock?, singlePanels: SinglePanels?, packets: [RingPacket] = []
        var contributions: RingContributions?
        do throws(TesseraError) {
            // MPI's counts are 32-bit: every process's messages are checked here (the same answer
            // everywhere), so that no process throws alone at a ring shift or the all-to-all.
            let capacity = (0..<ring.size).map(packetWords).max() ?? 0
            let made = try RingContributions(ring: ring, ranges: (0..<t).map { lay.rowRange(ofTile: $0) }, extraMessage: capacity)
            try made.allocate(hosted: (0...ring.rounds).flatMap { ring.pairs(round: $0) }, engine: engine) { storages[$0].domain }
            contributions = made
            xs = try SharedBlock(x, engine: engine)
            scratch = try SharedBlock(rows: floats ? 1 : panel * panel, cols: engine.workerCount, engine: engine)
            singlePanels = floats ? try SinglePanels(capacity: panel * panel, engine: engine) : nil
            packets = [try RingPacket(capacity: capacity, floats: floats, layout: lay, engine: engine),
                       try RingPacket(capacity: capacity, floats: floats, layout: lay, engine: engine)]
        } catch { failure = error }
        try exchange.agree(failure: failure)
        guard let xs, let scratch, let contributions, packets.count == 2 else {
            throw .internalFailure("ringKernelMultiply: buffers missing after agreement")
        }
        packets[0].pack(mine, of: self, single: single, x: xs.pointer)

        func roundGraph(_ k: Int, packet: RingPacket) -> TaskGraph {
            let graph = TaskGraph(), guests = ring.tiles(of: ring.visitor(round: k))
            for (i, j) in ring.pairs(round: k) {
                guard let targets = contributions.targets(i, j) else { continue }
                let (ci, cj) = targets
                var reads = [xs.handle, packet.block.handle]
                for u in [i, j] where mine.contains(u) {
                    reads.append(storages[u].handle)
                    if let single { reads.append(single.handle(u)) }
                }
                // A guest's tile comes from the packet (its metadata, never its rows, from the local A).
                func operand(_ u: Int) -> Tile {
                    mine.contains(u) || floats ? storages[u].tile : packet.tile(u, of: guests, order: storages[u].tile.order)
                }
                let ai = operand(i), aj = operand(j), panels = singlePanels
                graph.place(ci.handle, domain: storages[mine.contains(i) ? i : j].domain)
                graph.add(name: "kernel-block", reads: reads, writes: i == j ? [ci.handle] : [ci.handle, cj.handle]) { context in
                    for u in [i, j] where mine.contains(u) { try self.requireFinite(u) }
                    func vector(_ u: Int) -> UnsafePointer<Double> {
                        mine.contains(u) ? UnsafePointer(xs.pointer + lay.rowRange(ofTile: u).lowerBound - ownRows.lowerBound)
                            : packet.vector(u, of: guests)
                    }
                    let xi = vector(i), xj = vector(j)
                    let rows = single.map { single in
                        (mine.contains(i) ? single.pointer(i) : packet.singleRows(i, of: guests),
                         mine.contains(j) ? single.pointer(j) : packet.singleRows(j, of: guests))
                    }
                    Self.pairContributions(ai, aj, single: rows, panel: panel,
                                           scratch: scratch.pointer + context.worker * panel * panel,
                                           singleScratch: panels?.panel(worker: context.worker),
                                           x: (xi, xj), y: (ci.pointer, cj.pointer), diagonal: i == j)
                }
            }
            return graph
        }

        // Round k computes with the packet held while it travels on to the next process.
        var held = packets[0], spare = packets[1]
        for k in 0...ring.rounds {
            let graph = roundGraph(k, packet: held)
            func work(_ progress: () -> Void) {
                guard failure == nil else { return }
                do throws(TesseraError) { try engine.run(graph, polling: progress) } catch { failure = error }
            }
            guard k < ring.rounds else { work {}; break }
            try exchange.ringShift(send: held.block, count: packetWords(ring.visitor(round: k)),
                                   receive: spare.block, count: packetWords(ring.visitor(round: k + 1)), during: work)
            swap(&held, &spare)
        }

        // The guests' contributions go home (the ranks agree on any failure first).
        return try contributions.finish(x: xs.pointer, ridge: lambda, exchange: exchange, failure: failure)
    }
}
