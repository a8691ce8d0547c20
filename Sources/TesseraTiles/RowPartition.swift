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

    /// Agrees on an outcome (every process calls it): throws the lowest-numbered failing
    /// process's error everywhere when any passed one; in a single process throws `failure`.
    public func agree(failure: TesseraError?) throws(TesseraError) {
        if let exchange { try exchange.agree(failure: failure) } else if let failure { throw failure }
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
        guard failure != nil || own.count == tiles.count * m else {
            throw .internalFailure("RowPartition.combine: \(own.count) values for \(tiles.count) tiles of \(m)")
        }
        let tree = TileTree(owners: (0..<layout.tileCount).map { ring?.owner(ofTile: $0) ?? 0 })
        var slots = tree.slots(own: failure == nil ? own : [], tiles: tiles, count: m)
        if failure == nil { tree.addInside(&slots, process: ring?.rank ?? 0) }
        guard let ring, let exchange else {
            if let failure { throw failure }
            return tree.root(slots, count: m)
        }
        let sent = failure == nil ? tree.boundaryValues(slots, process: ring.rank) : []
        let all = try exchange.allGather(owned: sent, counts: (0..<ring.size).map { tree.boundaryCount(process: $0) * m }, failure: failure)
        // Every process received the same values: a short gather fails all of them alike.
        guard let sum = tree.finish(&slots, gathered: all, processes: ring.size, count: m) else {
            throw .internalFailure("RowPartition.combine: \(all.count) values gathered for \(tree.boundary.count) roots of \(m)")
        }
        return sum
    }
}

/// The fixed binary tree over T per-tile partials (`TaskGraph.treeReductionPairs`: at stride s,
/// partial i absorbs i + s, so after it partial i covers tiles [i, min(i + 2s, T))) when tile t's
/// partial lives at process owners[t] (contiguous ranges). An addition whose tiles all lie at one
/// process is made there (`addInside`); the roots of those subtrees that meet another process's
/// tiles (and the whole tree's root, if one process owns every tile) are the boundary, gathered
/// in process order (`boundaryValues`); the remaining additions — the crossing ones — are made
/// by every process in the tree's order (`finish`). Pure index arithmetic, O(T) pairs.
struct TileTree {
    let owners: [Int]
    /// The tree's additions (into, from), in order.
    let pairs: [(into: Int, from: Int)]
    /// The additions whose tiles span processes, in order.
    let crossing: [(into: Int, from: Int)]
    /// The slots holding boundary subtree roots, in tree order.
    let boundary: [Int]

    init(owners: [Int]) {
        self.owners = owners
        let t = owners.count
        func inside(_ lo: Int, _ hi: Int) -> Bool { owners[lo] == owners[hi - 1] }
        pairs = TaskGraph.treeReductionPairs(count: t)
        var crossing: [(into: Int, from: Int)] = [], boundary: [Int] = []
        for (i, j) in pairs where !inside(i, Swift.min(i + 2 * (j - i), t)) {
            crossing.append((i, j))
            let s = j - i
            if inside(i, i + s) { boundary.append(i) }
            if inside(j, Swift.min(j + s, t)) { boundary.append(j) }
        }
        if t > 0 && inside(0, t) { boundary.append(0) }
        self.crossing = crossing
        self.boundary = boundary
    }

    /// One slot per tile, this process's tiles holding their partials (`own`, tile order).
    func slots(own: [Double], tiles: Range<Int>, count m: Int) -> [[Double]] {
        var slots = [[Double]](repeating: [], count: owners.count)
        guard own.count == tiles.count * m else { return slots }
        for (k, tile) in tiles.enumerated() { slots[tile] = Array(own[(k * m)..<((k + 1) * m)]) }
        return slots
    }

    private static func add(_ slots: inout [[Double]], _ into: Int, _ from: Int) {
        let source = slots[from]
        slots[into].withUnsafeMutableBufferPointer { target in
            for k in 0..<Swift.min(source.count, target.count) { target[k] = target[k] + source[k] }
        }
    }

    /// The additions among process p's own tiles, in the tree's order.
    func addInside(_ slots: inout [[Double]], process p: Int) {
        let t = owners.count
        for (i, j) in pairs where owners[i] == p && owners[Swift.min(i + 2 * (j - i), t) - 1] == p { Self.add(&slots, i, j) }
    }

    /// How many boundary roots process p holds.
    func boundaryCount(process p: Int) -> Int { boundary.filter { owners[$0] == p }.count }

    /// Process p's boundary roots' values, in tree order.
    func boundaryValues(_ slots: [[Double]], process p: Int) -> [Double] {
        boundary.filter { owners[$0] == p }.flatMap { slots[$0] }
    }

    /// Places every process's boundary roots (`gathered`: process 0's, then 1's, …), makes the
    /// crossing additions in order and returns the sum (nil when `gathered` is too short).
    func finish(_ slots: inout [[Double]], gathered: [Double], processes: Int, count m: Int) -> [Double]? {
        var offset = 0
        for r in 0..<processes {
            for slot in boundary where owners[slot] == r {
                guard offset + m <= gathered.count else { return nil }
                slots[slot] = Array(gathered[offset..<(offset + m)])
                offset += m
            }
        }
        for (i, j) in crossing { Self.add(&slots, i, j) }
        return root(slots, count: m)
    }

    /// Slot 0 (the whole tree's sum once the additions are made); zeros for no tiles.
    func root(_ slots: [[Double]], count m: Int) -> [Double] {
        slots.first.flatMap { $0.count == m ? $0 : nil } ?? [Double](repeating: 0, count: m)
    }
}
