/// The ring schedule of a symmetric kernel product y = (K + λI)x over T tiles of rows owned by P
/// processes: which process computes each tile pair (I ≤ J), in which round, and which of its
/// contributions travel back to another process.
///
/// Process r owns the contiguous tiles [⌊rT/P⌋, ⌊(r+1)T/P⌋) (`tiles(of:)`): it alone reads those
/// rows of A and sums their y. In round 0 it computes the pairs of its own tiles; in round
/// k = 1 … ⌊P/2⌋ it holds the tiles of process (r − k) mod P, passed along the ring (each process
/// sends what it held to r + 1 and receives from r − 1), and computes the pairs between its tiles
/// and those. A pair of tiles owned by a ≠ b is met in round (a − b) mod P at a and (b − a) mod P
/// at b; it is computed where that round is the smaller, and when both are P/2 (P even) at a for
/// I + J even, at b otherwise — so each cross pair is computed once, and a process receives ⌊P/2⌋ packets of n·d/P values of
/// A (≈ n·d/2 in all) instead of reading all of A. The host keeps c_{u←v} for its own
/// tile u and sends c_{v←u} to v's owner (`crossPairs`). Each pair is computed by the same
/// operations wherever it runs, and every owner sums c_{I←J} in the order J = 0, 1, …: the same
/// bits for any P. Pure arithmetic on indices; O(T²) to list the pairs.
public struct KernelRing: Sendable {
    public let tileCount: Int
    public let rank: Int
    public let size: Int
    /// owners[t] = the process that owns tile t.
    let owners: [Int]

    public init(tileCount: Int, rank: Int, size: Int) {
        self.tileCount = tileCount
        self.rank = rank
        self.size = max(size, 1)
        var owners = [Int](repeating: 0, count: tileCount)
        for r in 0..<self.size { for t in Self.tiles(of: r, tileCount: tileCount, size: self.size) { owners[t] = r } }
        self.owners = owners
    }

    /// The ring of a distributed engine (more than one process); nil in a single process.
    public init?(tileCount: Int, engine: Engine) {
        guard let exchange = engine.exchange, exchange.size > 1 else { return nil }
        self.init(tileCount: tileCount, rank: exchange.rank, size: exchange.size)
    }

    /// The tiles this process owns: its ring's share when distributed, all of them alone.
    public static func heldTiles(tileCount: Int, engine: Engine) -> Range<Int> {
        KernelRing(tileCount: tileCount, engine: engine).map { $0.tiles(of: $0.rank) } ?? 0..<tileCount
    }

    static func tiles(of r: Int, tileCount t: Int, size p: Int) -> Range<Int> { (r * t / p)..<((r + 1) * t / p) }

    /// The tiles process `r` owns.
    public func tiles(of r: Int) -> Range<Int> { Self.tiles(of: r, tileCount: tileCount, size: size) }

    /// The rows of the tiles process `r` owns (contiguous; empty when it owns none).
    public func rows(of r: Int, layout: TileLayout) -> Range<Int> { rows(of: r) { layout.rowRange(ofTile: $0) } }

    /// The rows of the blocks process `r` owns, block t holding `rowRange(t)` (contiguous ranges).
    func rows(of r: Int, rowRange: (Int) -> Range<Int>) -> Range<Int> {
        let owned = tiles(of: r)
        guard let first = owned.first, let last = owned.last else { return 0..<0 }
        return rowRange(first).lowerBound..<rowRange(last).upperBound
    }

    /// The owner of tile t.
    public func owner(ofTile t: Int) -> Int { owners[t] }

    /// The rounds after round 0 (⌊P/2⌋).
    public var rounds: Int { size / 2 }

    /// The process whose tiles this one holds in round k (itself in round 0).
    public func visitor(round k: Int) -> Int { ((rank - k) % size + size) % size }

    /// The process that computes pair (i, j), i ≤ j, and the round in which it does.
    public func host(_ i: Int, _ j: Int) -> (rank: Int, round: Int) {
        let a = owners[i], b = owners[j]
        guard a != b else { return (a, 0) }
        let atA = ((a - b) % size + size) % size, atB = size - atA
        if atA < atB { return (a, atA) }
        if atB < atA { return (b, atB) }
        return (i + j) % 2 == 0 ? (a, atA) : (b, atB)
    }

    /// The pairs (i ≤ j) this process computes in round k, in the fixed pair order.
    public func pairs(round k: Int) -> [(Int, Int)] {
        let other = visitor(round: k)
        var out: [(Int, Int)] = []
        let mine = tiles(of: rank), theirs = tiles(of: other)
        for i in 0..<tileCount where mine.contains(i) || theirs.contains(i) {
            for j in i..<tileCount where mine.contains(j) || theirs.contains(j) {
                guard mine.contains(i) || mine.contains(j) else { continue }
                let h = host(i, j)
                if h.rank == rank && h.round == k { out.append((i, j)) }
            }
        }
        return out
    }

    /// The pairs process `host` computes between its tiles and those of `guest` ≠ host, in the
    /// fixed pair order, with the guest's tile of each: the host sends c_{guest tile ← host tile}
    /// for each, in this order.
    public func crossPairs(host h: Int, guest g: Int) -> [(pair: (Int, Int), guestTile: Int)] {
        var out: [(pair: (Int, Int), guestTile: Int)] = []
        let hosts = tiles(of: h), guests = tiles(of: g)
        for i in 0..<tileCount where hosts.contains(i) || guests.contains(i) {
            for j in i..<tileCount where (hosts.contains(i) && guests.contains(j)) || (guests.contains(i) && hosts.contains(j)) {
                guard host(i, j).rank == h else { continue }
                out.append(((i, j), guests.contains(i) ? i : j))
            }
        }
        return out
    }
}
