import TesseraCore
import TesseraKernels

/// The contribution vectors of one distributed symmetric product y = (K + λI)x over the blocks
/// of a `KernelRing` (A's tiles for the product on the fly, `StoredKernel`'s block rows for a
/// stored K), and the product's end.
///
/// A process holds c_{I←J} for each of its own blocks I and every J (`own`), and, for each cross
/// pair it hosts, the guest's c (`sendBack`). `finish` sends the guests' vectors home in one
/// all-to-all (the agreement on any failure first), sums y_I = λx_I + Σ_J c_{I←J} in the order
/// J = 0, 1, … for its own blocks — the single-process order, so the same bits for any P — and
/// returns those rows of y. Memory: ≈ T·n/P + T·n/(2P) doubles, plus the
/// all-to-all's copies of what is sent and received (≈ T·n/P). Counting the messages is one pass
/// over the T(T+1)/2 pairs per product.
final class RingContributions {
    let ring: KernelRing
    /// The rows of each block.
    let ranges: [Range<Int>]
    /// own[I − first own block][J] = c_{I←J}.
    private(set) var own: [[SharedBlock]] = []
    /// Key i·T + j: the guest's contribution of a hosted cross pair (i, j).
    private(set) var sendBack: [Int: SharedBlock] = [:]
    /// sent[h][g]: the values process h sends process g (every process computes the same).
    let sent: [[Int]]

    /// Counts the messages (and refuses those beyond MPI's 32-bit counts, `extraMessage` being the
    /// largest other message of the product) without allocating: every process gets the same answer,
    /// so it can be thrown before the product's first exchange.
    init(ring: KernelRing, ranges: [Range<Int>], extraMessage: Int = 0) throws(TesseraError) {
        self.ring = ring
        self.ranges = ranges
        // One pass over the T(T+1)/2 pairs: a cross pair's host sends the guest's rows.
        var sent = [[Int]](repeating: [Int](repeating: 0, count: ring.size), count: ring.size)
        for i in 0..<ring.tileCount {
            for j in i..<ring.tileCount where ring.owner(ofTile: i) != ring.owner(ofTile: j) {
                let h = ring.host(i, j).rank, guestTile = ring.owner(ofTile: i) == h ? j : i
                sent[h][ring.owner(ofTile: guestTile)] += ranges[guestTile].count
            }
        }
        self.sent = sent
        let largestSent = sent.map { $0.reduce(0, +) }.max() ?? 0
        let largestReceived = (0..<ring.size).map { g in sent.reduce(0) { $0 + $1[g] } }.max() ?? 0
        let largest = max(extraMessage, largestSent, largestReceived)
        guard largest <= Int(Int32.max) else {
            throw .resourceLimit("a kernel product message of \(largest) values exceeds MPI's 32-bit counts; use more ranks")
        }
    }

    /// Allocates the vectors (zeroed) for the pairs `hosted` (this process's, `KernelRing.pairs`);
    /// `domain(I)` places block I's vectors.
    func allocate(hosted: [(Int, Int)], engine: Engine, domain: (Int) -> Int) throws(TesseraError) {
        let mine = ring.tiles(of: ring.rank), t = ring.tileCount
        for i in mine {
            own.append(try (0..<t).map { _ throws(TesseraError) in try SharedBlock(rows: ranges[i].count, engine: engine, domain: domain(i)) })
        }
        for (i, j) in hosted where !(mine.contains(i) && mine.contains(j)) {
            sendBack[i * t + j] = try SharedBlock(rows: ranges[mine.contains(i) ? j : i].count, engine: engine)
        }
    }

    /// Where pair (i, j) hosted here writes c_{i←j} and c_{j←i} (the same vector for i = j).
    func targets(_ i: Int, _ j: Int) -> (SharedBlock, SharedBlock)? {
        let mine = ring.tiles(of: ring.rank), t = ring.tileCount
        let ci = mine.contains(i) ? own[i - mine.lowerBound][j] : sendBack[i * t + j]
        let cj = i == j ? ci : (mine.contains(j) ? own[j - mine.lowerBound][i] : sendBack[i * t + j])
        guard let ci, let cj else { return nil }
        return (ci, cj)
    }

    /// The rows of process r's blocks.
    func rows(of r: Int) -> Range<Int> { ring.rows(of: r) { ranges[$0] } }

    /// The product's end (see the type): every process calls it, passing its own failure; `x`
    /// points at x's first row of this process's blocks. Returns this process's rows of y.
    func finish(x: UnsafePointer<Double>, ridge lambda: Double, exchange: any RowGroupExchange,
                failure: TesseraError?) throws(TesseraError) -> [Double] {
        let mine = ring.tiles(of: ring.rank), t = ring.tileCount
        let outgoing: [[Double]] = (0..<ring.size).map { g in
            guard g != ring.rank, failure == nil else { return [] }
            var values: [Double] = []
            for (pair, _) in ring.crossPairs(host: ring.rank, guest: g) {
                guard let c = sendBack[pair.0 * t + pair.1] else { continue }
                values.append(contentsOf: UnsafeBufferPointer(start: c.pointer, count: c.storage.rows))
            }
            return values
        }
        let incoming = try exchange.exchange(outgoing: outgoing, incomingCounts: (0..<ring.size).map { sent[$0][ring.rank] },
                                             failure: failure)
        // A mismatch here is passed to the agreement below (every process reaches it), not thrown alone.
        var mismatch: TesseraError?
        for h in 0..<ring.size where h != ring.rank && mismatch == nil {
            var offset = 0
            for (pair, guestTile) in ring.crossPairs(host: h, guest: ring.rank) {
                let hostTile = pair.0 == guestTile ? pair.1 : pair.0, count = ranges[guestTile].count
                guard offset + count <= incoming[h].count else {
                    mismatch = .internalFailure("a kernel product received too few contributions from rank \(h)")
                    break
                }
                incoming[h].withUnsafeBufferPointer { p in
                    if let base = p.baseAddress { own[guestTile - mine.lowerBound][hostTile].pointer.update(from: base + offset, count: count) }
                }
                offset += count
            }
        }
        // y_I = λx_I + Σ_J c_{I←J} in the order J = 0, 1, … for this process's blocks.
        let ownRows = rows(of: ring.rank)
        var yOwn = [Double](repeating: 0, count: ownRows.count)
        yOwn.withUnsafeMutableBufferPointer { out in
            guard let base = out.baseAddress else { return }
            for (index, i) in mine.enumerated() {
                let local = ranges[i].lowerBound - ownRows.lowerBound, count = ranges[i].count, y = base + local
                for k in 0..<count { y[k] = lambda * x[local + k] }
                for part in own[index] { BLAS.axpy(count: count, alpha: 1, x: part.pointer, y: y) }
            }
        }
        try exchange.agree(failure: mismatch)
        return yOwn
    }
}
