import TesseraCore
import TesseraRuntime

/// n-vectors divided by rows among processes the way the kernel ring divides A (`KernelRing`):
/// process r holds the rows of its tiles [⌊rT/P⌋, ⌊(r+1)T/P⌋) (`rows`), a single process all of
/// them. The attention solver's iteration keeps x, b and its CG vectors this way.
///
/// Math: an inner product ⟨a, b⟩ = Σ_t p_t over the tiles, p_t a sequential sum over tile t's
/// rows (four lanes, then (s₀ + s₁) + (s₂ + s₃)); the T partials are summed by the fixed binary
/// tree of `TaskGraph.treeReductionPairs`. Distributed (`combine`), each process adds the subtrees
/// that lie inside its own tiles, the roots of those that meet another process's tiles are
/// gathered (O(log T) of them per process: an aligned-subtree combine), and every process then
/// makes the tree's remaining additions in the same order — the same additions as a single
/// process, hence the same bits for any P. Cost: n/P multiply-adds and one allgather of
/// O(P·log T) values per inner product; `gather` moves n values. Throws only the agreed failure of
/// an exchange (or `invalidArgument` for vectors of the wrong length).
public struct RowPartition: Sendable {
    public let layout: TileLayout
    /// The tiles this process holds.
    public let tiles: Range<Int>
    /// The global rows this process holds (its tiles' rows).
    public let rows: Range<Int>
    let ring: KernelRing?
    let exchange: (any RowGroupExchange)?

    /// The division of `layout`'s rows among `engine`'s processes (all rows in a single process).
    public init(layout: TileLayout, engine: Engine) {
        self.layout = layout
        let ring = KernelRing(tileCount: layout.tileCount, engine: engine)
        self.ring = ring
        exchange = ring == nil ? nil : engine.exchange
        tiles = ring.map { $0.tiles(of: $0.rank) } ?? 0..<layout.tileCount
        rows = ring.map { $0.rows(of: $0.rank, layout: layout) } ?? 0..<layout.rows
    }

    /// n, the length of a whole vector.
    public var order: Int { layout.rows }
    /// Whether this process holds every row (a single process).
    public var isWhole: Bool { ring == nil }

    /// The rows of tile t (one of `tiles`) within this process's slice.
    public func localRange(ofTile t: Int) -> Range<Int> {
        let global = layout.rowRange(ofTile: t)
        return (global.lowerBound - rows.lowerBound)..<(global.upperBound - rows.lowerBound)
    }

    /// This process's rows of a whole vector.
    public func slice(_ whole: [Double]) throws(TesseraError) -> [Double] {
        guard whole.count == order else { throw .invalidArgument("a vector of length \(whole.count) for \(order) rows") }
        return isWhole ? whole : Array(whole[rows])
    }

    /// The whole vector from every process's slice (an allgather of n values; the slice itself
    /// in a single process). Every process calls it; throws the agreed failure.
    public func gather(_ local: [Double], failure: TesseraError? = nil) throws(TesseraError) -> [Double] {
        guard let ring, let exchange else {
            if let failure { throw failure }
            return local
        }
        let counts = (0..<ring.size).map { ring.rows(of: $0, layout: layout).count }
        return try exchange.allGather(owned: failure == nil ? local : [], counts: counts, failure: failure)
    }

    /// ⟨a, b⟩ for two slices (see the type). Every process calls it.
    public func dot(_ a: [Double], _ b: [Double]) throws(TesseraError) -> Double {
        guard a.count == rows.count, b.count == rows.count else {
            throw .invalidArgument("slices of \(a.count) and \(b.count) values for \(rows.count) rows")
        }
        var partials = [Double]()
        partials.reserveCapacity(tiles.count)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                guard let x = pa.baseAddress, let y = pb.baseAddress else { partials = tiles.map { _ in 0 }; return }
                for t in tiles {
                    let range = localRange(ofTile: t)
                    partials.append(Self.laneSum(x + range.lowerBound, y + range.lowerBound, count: range.count))
                }
            }
        }
        return try combine(partials, count: 1).first ?? 0
    }

    /// ‖a‖₂ = √⟨a, a⟩ for a slice (the iteration's vectors are at unit scale: `ConjugateGradients`).
    public func norm2(_ a: [Double]) throws(TesseraError) -> Double { try dot(a, a).squareRoot() }

    /// Σ aᵢbᵢ over `count` entries in four lanes (entry i in lane i mod 4), then (s₀ + s₁) + (s₂ + s₃):
    /// a fixed order whatever the pointers' alignment.
    static func laneSum(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, count: Int) -> Double {
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0, i = 0
        while i + 4 <= count {
            s0 += a[i] * b[i]
            s1 += a[i + 1] * b[i + 1]
            s2 += a[i + 2] * b[i + 2]
            s3 += a[i + 3] * b[i + 3]
            i += 4
        }
        if i < count { s0 += a[i] * b[i] }
        if i + 1 < count { s1 += a[i + 1] * b[i + 1] }
        if i + 2 < count { s2 += a[i + 2] * b[i + 2] }
        return (s0 + s1) + (s2 + s3)
    }

    /// Σ_t p_t by the fixed tree for per-tile partials of `count` values (`own`: this process's
    /// tiles' partials in tile order, count values each; see the type). Every process calls it,
    /// passing its own failure; all return the same bits or throw the agreed failure.
    public func combine(_ own: [Double], count m: Int, failure: TesseraError? = nil) throws(TesseraError) -> [Double] {
        let t = layout.tileCount
        guard failure != nil || own.count == tiles.count * m else {
            throw .internalFailure("RowPartition.combine: \(own.count) values for \(tiles.count) tiles of \(m)")
        }
        var slots = [[Double]](repeating: [], count: t)
        if failure == nil { for (k, tile) in tiles.enumerated() { slots[tile] = Array(own[(k * m)..<((k + 1) * m)]) } }
        let me = ring?.rank ?? 0
        func owner(_ tile: Int) -> Int { ring?.owner(ofTile: tile) ?? 0 }
        func inside(_ lo: Int, _ hi: Int) -> Bool { owner(lo) == owner(hi - 1) }
        func add(_ into: Int, _ from: Int) {
            slots[from].withUnsafeBufferPointer { source in
                slots[into].withUnsafeMutableBufferPointer { target in
                    for k in 0..<Swift.min(source.count, target.count) { target[k] = target[k] + source[k] }
                }
            }
        }
        let pairs = TaskGraph.treeReductionPairs(count: t)
        // The additions inside this process's tiles, in the tree's order.
        if failure == nil {
            for (i, j) in pairs where owner(i) == me && inside(i, Swift.min(i + 2 * (j - i), t)) { add(i, j) }
        }
        guard let ring, let exchange else {
            if let failure { throw failure }
            return t == 0 ? [Double](repeating: 0, count: m) : slots[0]
        }
        // The roots of the subtrees inside one process that meet another's (or the whole tree's root).
        var boundary: [Int] = []
        var crossing: [(Int, Int)] = []
        for (i, j) in pairs where !inside(i, Swift.min(i + 2 * (j - i), t)) {
            crossing.append((i, j))
            let s = j - i
            if inside(i, i + s) { boundary.append(i) }
            if inside(j, Swift.min(j + s, t)) { boundary.append(j) }
        }
        if t > 0 && inside(0, t) { boundary.append(0) }
        var sent: [Double] = []
        if failure == nil { for slot in boundary where owner(slot) == me { sent += slots[slot] } }
        let counts = (0..<ring.size).map { r in boundary.filter { owner($0) == r }.count * m }
        let all = try exchange.allGather(owned: sent, counts: counts, failure: failure)
        var offset = 0
        for r in 0..<ring.size {
            for slot in boundary where owner(slot) == r {
                slots[slot] = Array(all[offset..<(offset + m)])
                offset += m
            }
        }
        for (i, j) in crossing { add(i, j) }
        return t == 0 ? [Double](repeating: 0, count: m) : slots[0]
    }
}
