import TesseraCore
import TesseraRuntime

/// The block pairs (I ≤ J) of a symmetric kernel product over T block rows, in the fixed order
/// (0,0), (0,1), …, (0,T−1), (1,1), …, (T−1,T−1), and their division among processes.
///
/// A product y = (K + λI)x with K symmetric runs one task per pair: it makes the block K_IJ once
/// (or reads it) and produces c_{I←J} = K_IJ·x_J and, for I ≠ J, c_{J←I} = K_IJᵀ·x_I; then y_I =
/// λx_I + Σ_J c_{I←J} in the order J = 0, 1, …. In a distributed engine process r of P computes
/// the pairs [⌊rN/P⌋, ⌊(r+1)N/P⌋) of the N = T(T+1)/2 (`RowGroupExchange.groups`) (each pair by the same operations wherever
/// it runs), `share` gives every process every pair's contribution vectors (an allgather of
/// about T·n doubles in all), and every process sums them in the same order: y has the same bits
/// for any process count, and the n²d flops and n²/2 exps are divided by P. Throws the agreed
/// failure of any process (a non-finite entry in its tiles, an interruption).
struct SymmetricBlockPairs {
    /// All pairs in the fixed order.
    let pairs: [(row: Int, col: Int)]
    /// The indices into `pairs` this process computes (all of them in a single process).
    let owned: Range<Int>

    init(blockCount t: Int, exchange: (any RowGroupExchange)?) {
        var pairs: [(row: Int, col: Int)] = []
        pairs.reserveCapacity(t * (t + 1) / 2)
        for i in 0..<t { for j in i..<t { pairs.append((i, j)) } }
        self.pairs = pairs
        owned = exchange?.ownedGroups(of: pairs.count) ?? 0..<pairs.count
    }

    /// Every pair's contributions (`contributions[I][J]` holds c_{I←J}, `rowCount(I)` doubles) on
    /// every process, from the ones this process computed by `graph` (run here; a failure of it
    /// is passed to the others, and the lowest failing process's error is thrown on all).
    func runAndShare(_ graph: TaskGraph, engine: Engine, exchange: any RowGroupExchange,
                     contributions: [[SharedBlock]], rowCount: (Int) -> Int) throws(TesseraError) {
        var failure: TesseraError?
        do { try engine.run(graph) } catch { failure = error }
        func length(_ p: Int) -> Int {
            let (i, j) = pairs[p]
            return rowCount(i) + (i == j ? 0 : rowCount(j))
        }
        let counts = (0..<exchange.size).map { r in
            type(of: exchange).groups(of: pairs.count, rank: r, size: exchange.size).reduce(0) { $0 + length($1) }
        }
        var local = [Double]()
        if failure == nil {
            local.reserveCapacity(counts[exchange.rank])
            for p in owned {
                let (i, j) = pairs[p]
                local.append(contentsOf: UnsafeBufferPointer(start: contributions[i][j].pointer, count: rowCount(i)))
                if i != j { local.append(contentsOf: UnsafeBufferPointer(start: contributions[j][i].pointer, count: rowCount(j))) }
            }
        }
        let all = try exchange.allGather(owned: local, counts: counts, failure: failure)
        guard all.count == counts.reduce(0, +) else {
            throw .internalFailure("the exchange returned \(all.count) of \(counts.reduce(0, +)) kernel contributions")
        }
        all.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            for (i, j) in pairs {
                contributions[i][j].pointer.update(from: base + offset, count: rowCount(i))
                offset += rowCount(i)
                if i != j {
                    contributions[j][i].pointer.update(from: base + offset, count: rowCount(j))
                    offset += rowCount(j)
                }
            }
        }
    }
}
