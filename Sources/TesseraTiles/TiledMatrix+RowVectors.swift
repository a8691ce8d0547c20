import TesseraCore

/// Vectors of ℝⁿ indexed like A's rows (lstsq's b, residuals and LSQR's u), held by rows: in a
/// distributed engine each process computes and keeps meaningful only the rows it owns
/// (`ownedRows`, the rows of its canonical Aᵀu groups) and zeros elsewhere, so a product y = Ax
/// moves no n-vector between processes and Aᵀu reads only the owned rows it already holds.
/// What needs all rows is a norm: `rowVectorNorm` takes the 2-norm of each canonical group's rows,
/// gathers the G group norms (G ≤ 64 doubles) and combines them in group order — the same
/// operations on every process count, so the bits do not depend on P.
extension TiledMatrix {
    /// The rows process `rank` of `size` computes in a row-wise pass (y = Ax): the canonical
    /// blocks of its groups of an Aᵀu reduction (`rowBlockGroups` for d values), so it reads
    /// the same rows of A in both passes. Contiguous, in rank order, covering [0, n).
    public func ownedRows(rank: Int, size: Int) -> Range<Int> {
        let blockRows = layout.reductionBlockRows
        let groups = rowBlockGroups(blockRows: blockRows, resultCount: cols)
        let owned = (rank * groups.count / size)..<((rank + 1) * groups.count / size)
        guard let first = owned.first, let last = owned.last else {
            let start = rank * groups.count / size
            let row = start < groups.count ? groups[start].lowerBound * blockRows : rows
            return min(row, rows)..<min(row, rows)
        }
        return min(groups[first].lowerBound * blockRows, rows)..<min(groups[last].upperBound * blockRows, rows)
    }

    /// The rows this process holds of an n-vector: all of them alone, `ownedRows` in a
    /// distributed engine.
    public func heldRows(engine: Engine) -> Range<Int> {
        engine.exchange.map { ownedRows(rank: $0.rank, size: $0.size) } ?? 0..<rows
    }

    /// v with the rows this process does not hold set to zero (v itself when it holds all).
    public func restrictToHeldRows(_ v: [Double], engine: Engine) -> [Double] {
        let held = heldRows(engine: engine)
        guard held != 0..<rows else { return v }
        var out = [Double](repeating: 0, count: v.count)
        let upper = min(held.upperBound, v.count)
        if held.lowerBound < upper { out[held.lowerBound..<upper] = v[held.lowerBound..<upper] }
        return out
    }

    /// ‖v‖₂ of an n-vector held by rows (`restrictToHeldRows`): each canonical group's rows
    /// scaled by their largest magnitude, summed in order (no overflow or underflow for any
    /// finite v), then the G group norms combined the same way in group order. O(n) flops and,
    /// distributed, one allgather of G doubles; NaN when v holds a NaN. Throws the agreed failure
    /// of another process, `.invalidArgument` for a v not of length n.
    public func rowVectorNorm(_ v: [Double], engine: Engine) throws(TesseraError) -> Double {
        guard v.count == rows else { throw .invalidArgument("a vector of length \(v.count) is not indexed like A's \(rows) rows") }
        let blockRows = layout.reductionBlockRows
        let groups = rowBlockGroups(blockRows: blockRows, resultCount: cols)
        let owned = engine.exchange?.ownedGroups(of: groups.count) ?? 0..<groups.count
        let local: [Double] = v.withUnsafeBufferPointer { p in
            owned.map { g in
                let first = min(groups[g].lowerBound * blockRows, rows), end = min(groups[g].upperBound * blockRows, rows)
                return Self.scaledNorm(count: end - first) { p[first + $0] }
            }
        }
        let all = try engine.exchange?.allGather(owned: local, groupCount: groups.count, resultCount: 1, failure: nil) ?? local
        return Self.scaledNorm(count: all.count) { all[$0] }
    }

    /// √(Σ value(i)²) in index order, each value first scaled by the power of two that brings
    /// the largest magnitude into [1, 2) (`PowerOfTwo`: exact, also for subnormal values, where
    /// 1/top would overflow), the result scaled back.
    static func scaledNorm(count: Int, _ value: (Int) -> Double) -> Double {
        var top = 0.0
        for i in 0..<count {
            let m = abs(value(i))
            if m.isNaN { return .nan }
            top = max(top, m)
        }
        guard top > 0, top.isFinite else { return top }
        let k = PowerOfTwo.normalizingExponent(of: top)
        var sum = 0.0
        for i in 0..<count {
            let s = PowerOfTwo.scale(value(i), by: k)
            sum += s * s
        }
        return PowerOfTwo.scale(sum.squareRoot(), by: -k)
    }
}
