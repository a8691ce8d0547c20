import TesseraCore

/// A tall block F ∈ ℝ^{n×k} built by several processes (MPI ranks): process r of P computes the
/// rows of its share of the B fixed row blocks, [⌊r·B/P⌋, ⌊(r+1)·B/P⌋) (`rowBlocks(of:)`, the
/// same split as `RowGroupExchange.groups`), by the same row-block operations as a single process
/// (so each row has the same bits wherever it is computed), and these two exchanges make the
/// rows others computed visible to all. Each throws the agreed failure of the lowest failing
/// process (every process calls them at the same points, passing its own failure), and
/// `resourceLimit` for a message beyond MPI's 32-bit counts.
extension ColumnBlock {
    /// The row blocks this process computes (all of them without an exchange).
    public func rowBlocks(of exchange: (any RowGroupExchange)?) -> Range<Int> {
        guard let exchange else { return 0..<rowBlockCount }
        return type(of: exchange).groups(of: rowBlockCount, rank: exchange.rank, size: exchange.size)
    }

    /// The rows process `rank` computes.
    func rowsComputed(byProcess rank: Int, of exchange: any RowGroupExchange) -> Range<Int> {
        rowRange(ofBlocks: type(of: exchange).groups(of: rowBlockCount, rank: rank, size: exchange.size))
    }

    /// Copies every process's rows of `columns` into every process's block: an allgather of
    /// n·|columns| values in all (each process receives the (P − 1)/P it did not compute).
    public func shareRows(columns: Range<Int>, exchange: any RowGroupExchange, failure: TesseraError?) throws(TesseraError) {
        guard columns.lowerBound >= 0, columns.upperBound <= cols else {
            throw .internalFailure("shareRows: columns \(columns) of a block with \(cols)")
        }
        let m = columns.count
        let ranges = (0..<exchange.size).map { rowsComputed(byProcess: $0, of: exchange) }
        var mine: [Double] = []
        if failure == nil {
            let own = ranges[exchange.rank]
            mine.reserveCapacity(own.count * m)
            for c in columns { mine.append(contentsOf: UnsafeBufferPointer(start: base + c * rows + own.lowerBound, count: own.count)) }
        }
        let all = try exchange.allGather(owned: mine, counts: ranges.map { $0.count * m }, failure: failure)
        guard all.count == rows * m else { throw .internalFailure("shareRows: received \(all.count) of \(rows * m) values") }
        all.withUnsafeBufferPointer { buffer in
            guard let source = buffer.baseAddress else { return }
            var offset = 0
            for range in ranges {
                for c in columns {
                    (base + c * rows + range.lowerBound).update(from: source + offset, count: range.count)
                    offset += range.count
                }
            }
        }
    }

    /// F[indices, columns] (indices ascending) as a column-major |indices| × |columns| array, each
    /// row taken from the process that computed it: an allgather of |indices|·|columns| values.
    public func gatherRows(_ indices: [Int], columns: Range<Int>, exchange: any RowGroupExchange,
                           failure: TesseraError?) throws(TesseraError) -> [Double] {
        guard zip(indices, indices.dropFirst()).allSatisfy({ $0 < $1 }), indices.allSatisfy({ $0 >= 0 && $0 < rows }),
              columns.lowerBound >= 0, columns.upperBound <= cols else {
            throw .internalFailure("gatherRows: indices must ascend within 0..<\(rows) and columns lie in 0..<\(cols)")
        }
        let m = columns.count, count = indices.count
        let ranges = (0..<exchange.size).map { rowsComputed(byProcess: $0, of: exchange) }
        let held = ranges.map { range in indices.filter { range.contains($0) } }
        var mine: [Double] = []
        if failure == nil {
            // Row by row (m values each): the processes' pieces then follow the order of `indices`.
            for i in held[exchange.rank] { for c in columns { mine.append(base[i + c * rows]) } }
        }
        let all = try exchange.allGather(owned: mine, counts: held.map { $0.count * m }, failure: failure)
        guard all.count == count * m else { throw .internalFailure("gatherRows: received \(all.count) of \(count * m) values") }
        var out = [Double](repeating: 0, count: count * m)
        for r in 0..<count { for c in 0..<m { out[r + c * count] = all[r * m + c] } }
        return out
    }
}
