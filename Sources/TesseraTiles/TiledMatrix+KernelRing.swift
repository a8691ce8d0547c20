import TesseraCore
import TesseraKernels
import TesseraRuntime

/// One process's tiles of A packed for the ring of a distributed kernel product (`KernelRing`):
/// each tile's entries in its own storage order (row-major with leading dimension d, column-major
/// with leading dimension rows), or — for float32 panels — its rounded rows (row-major floats,
/// each tile padded to whole 8-byte words), one tile after the other in tile order.
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

    /// The words of a packet holding `tiles`.
    static func words(of tiles: Range<Int>, layout: TileLayout, floats: Bool) -> Int {
        tiles.reduce(0) { $0 + words(ofTile: $1, layout: layout, floats: floats) }
    }

    private func offset(of t: Int, in tiles: Range<Int>) -> Int {
        Self.words(of: tiles.lowerBound..<t, layout: layout, floats: floats)
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

    /// Packs `tiles` of A (or, with `single`, their float32 rows).
    func pack(_ tiles: Range<Int>, of matrix: TiledMatrix, single: SingleRowTiles?) {
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
    /// (K + λI)·x on a distributed engine, around a ring (`KernelRing`): process r reads only the
    /// rows of its own tiles, computes its pairs of them, then in ⌊P/2⌋ ring shifts receives the
    /// tiles of the processes before it (float32 rows when `single`), computing the pairs it
    /// hosts with each while the next packet travels; the contributions it made for a guest's rows
    /// go back to their owner in one all-to-all, and each owner sums c_{I←J} over J = 0, 1, … as a
    /// single process does (`pairContributions`: the same operations per pair) — the same bits for
    /// any P. An allgather of every process's rows of y then gives every process all of y (n values;
    /// x, b and the iteration's vectors are kept whole on every process). Per process and product:
    /// ≈ n²d/P flops and n²/(2P) exps, ⌊P/2⌋ packets of n·d/P values received, ≈ T·n/(2P)
    /// contributions sent and received, n·(P − 1)/P values of y. Throws the agreed failure of any
    /// process (a non-finite entry in its tiles, an interruption, an allocation), on every process.
    func ringKernelMultiply(_ x: [Double], ridge lambda: Double, single: SingleRowTiles?, engine: Engine,
                            exchange: any RowGroupExchange) throws(TesseraError) -> [Double] {
        let t = layout.tileCount, panel = Swift.min(Self.kernelPanelRows, layout.tileRows), lay = layout, storages = tiles
        let ring = KernelRing(tileCount: t, rank: exchange.rank, size: exchange.size)
        let mine = ring.tiles(of: ring.rank), floats = single != nil
        func packetWords(_ r: Int) -> Int { RingPacket.words(of: ring.tiles(of: r), layout: lay, floats: floats) }

        // Everything this product allocates, before any exchange, so that a process failing here
        // is agreed on instead of leaving the others waiting in the ring.
        var failure: TesseraError?
        var xs: SharedBlock?, scratch: SharedBlock?, singlePanels: SinglePanels?, packets: [RingPacket] = []
        var own: [[SharedBlock]] = []                     // own[I − mine.lowerBound][J] = c_{I←J}
        var sendBack: [Int: SharedBlock] = [:]            // key i·t + j: c for the guest's tile of pair (i, j)
        // sent[h][g]: the contributions host h sends guest g (every process computes the same).
        let sent = (0..<ring.size).map { h in
            (0..<ring.size).map { g in
                g == h ? 0 : ring.crossPairs(host: h, guest: g).reduce(0) { $0 + lay.rowCount(ofTile: $1.guestTile) }
            }
        }
        do throws(TesseraError) {
            // MPI's counts are 32-bit; checked for every process's messages before the agreement,
            // so that no process throws alone at a ring shift or the all-to-all.
            let limit = Int(Int32.max), packetSizes = (0..<ring.size).map(packetWords)
            let largestSent = sent.map { $0.reduce(0, +) }.max() ?? 0
            let largestReceived = (0..<ring.size).map { g in sent.reduce(0) { $0 + $1[g] } }.max() ?? 0
            if let largest = (packetSizes + [largestSent, largestReceived]).max(), largest > limit {
                throw .resourceLimit("a kernel product message of \(largest) values exceeds MPI's 32-bit counts; use more ranks")
            }
            xs = try SharedBlock(x, engine: engine)
            scratch = try SharedBlock(rows: floats ? 1 : panel * panel, cols: engine.workerCount, engine: engine)
            singlePanels = floats ? try SinglePanels(capacity: panel * panel, engine: engine) : nil
            let capacity = (0..<ring.size).map(packetWords).max() ?? 0
            packets = [try RingPacket(capacity: capacity, floats: floats, layout: lay, engine: engine),
                       try RingPacket(capacity: capacity, floats: floats, layout: lay, engine: engine)]
            for i in mine {
                own.append(try (0..<t).map { _ throws(TesseraError) in
                    try SharedBlock(rows: lay.rowCount(ofTile: i), engine: engine, domain: storages[i].domain) })
            }
            for k in 0...ring.rounds where k > 0 {
                for (i, j) in ring.pairs(round: k) {
                    sendBack[i * t + j] = try SharedBlock(rows: lay.rowCount(ofTile: mine.contains(i) ? j : i), engine: engine)
                }
            }
        } catch { failure = error }
        try exchange.agree(failure: failure)
        guard let xs, let scratch, packets.count == 2 else { throw .internalFailure("ringKernelMultiply: buffers missing after agreement") }
        packets[0].pack(mine, of: self, single: single)

        func roundGraph(_ k: Int, packet: RingPacket) -> TaskGraph {
            let graph = TaskGraph(), guests = ring.tiles(of: ring.visitor(round: k))
            for (i, j) in ring.pairs(round: k) {
                let iMine = mine.contains(i), jMine = mine.contains(j)
                let ci = iMine ? own[i - mine.lowerBound][j] : sendBack[i * t + j]
                let cj = i == j ? ci : (jMine ? own[j - mine.lowerBound][i] : sendBack[i * t + j])
                guard let ci, let cj else { continue }
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
                graph.place(ci.handle, domain: storages[iMine ? i : j].domain)
                graph.add(name: "kernel-block", reads: reads, writes: i == j ? [ci.handle] : [ci.handle, cj.handle]) { context in
                    for u in [i, j] where mine.contains(u) { try self.requireFinite(u) }
                    let xi = xs.pointer + lay.rowRange(ofTile: i).lowerBound, xj = xs.pointer + lay.rowRange(ofTile: j).lowerBound
                    let rows = single.map { single in
                        (mine.contains(i) ? single.pointer(i) : packet.singleRows(i, of: guests),
                         mine.contains(j) ? single.pointer(j) : packet.singleRows(j, of: guests))
                    }
                    Self.pairContributions(ai, aj, single: rows, panel: panel,
                                           scratch: scratch.pointer + context.worker * panel * panel,
                                           singleScratch: panels?.panel(worker: context.worker),
                                           x: (UnsafePointer(xi), UnsafePointer(xj)), y: (ci.pointer, cj.pointer), diagonal: i == j)
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

        // The guests' contributions go home; the ranks agree on any failure first.
        let outgoing: [[Double]] = (0..<ring.size).map { g in
            guard g != ring.rank, failure == nil else { return [] }
            var values: [Double] = []
            for (pair, _) in ring.crossPairs(host: ring.rank, guest: g) {
                guard let c = sendBack[pair.0 * t + pair.1] else { continue }
                values.append(contentsOf: UnsafeBufferPointer(start: c.pointer, count: c.storage.rows))
            }
            return values
        }
        let incomingCounts = (0..<ring.size).map { h in sent[h][ring.rank] }
        let incoming = try exchange.exchange(outgoing: outgoing, incomingCounts: incomingCounts, failure: failure)
        for h in 0..<ring.size where h != ring.rank {
            var offset = 0
            for (pair, guestTile) in ring.crossPairs(host: h, guest: ring.rank) {
                let hostTile = pair.0 == guestTile ? pair.1 : pair.0, count = lay.rowCount(ofTile: guestTile)
                guard offset + count <= incoming[h].count else { throw .internalFailure("ringKernelMultiply: too few contributions from rank \(h)") }
                incoming[h].withUnsafeBufferPointer { p in
                    if let base = p.baseAddress { own[guestTile - mine.lowerBound][hostTile].pointer.update(from: base + offset, count: count) }
                }
                offset += count
            }
        }

        // y_I = λx_I + Σ_J c_{I←J} in the order J = 0, 1, … for this process's tiles, then all of y.
        let ownRows = ring.rows(of: ring.rank, layout: lay), first = ownRows.lowerBound
        var yOwn = [Double](repeating: 0, count: ownRows.count)
        yOwn.withUnsafeMutableBufferPointer { out in
            guard let base = out.baseAddress else { return }
            for (index, i) in mine.enumerated() {
                let range = lay.rowRange(ofTile: i), y = base + (range.lowerBound - first)
                for k in 0..<range.count { y[k] = lambda * xs.pointer[range.lowerBound + k] }
                for part in own[index] { BLAS.axpy(count: range.count, alpha: 1, x: part.pointer, y: y) }
            }
        }
        let counts = (0..<ring.size).map { ring.rows(of: $0, layout: lay).count }
        return try exchange.allGather(owned: yOwn, counts: counts, failure: nil)
    }
}
