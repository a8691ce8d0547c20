import TesseraCore
import TesseraKernels
import TesseraTiles

/// A rank-k approximation K ≈ F·Fᵀ (F ∈ ℝ^{n×k}) by block randomly pivoted Cholesky (Chen,
/// Epperly, Tropp, Webber): each round samples b pivots with probability ∝ the residual
/// diagonal, forms G = K[:, S] − F·F[S, :]ᵀ, factors its pivot block H = G[S, :] = UᵀU and
/// appends G·U⁻¹. Rounds stop at rank k, when the residual trace falls below 10⁻¹⁴ of
/// trace(K), when it falls below `enoughTrace` (for a ridge λ, λ/10: the residual's largest
/// eigenvalue is then below λ/10, and more rank cannot help the preconditioner), or when
/// `growth` (`RankGrowth`) judges from the trace's fall that another round costs more than the
/// products it saves. The trace after every round is kept (`LowRankFactor.traceHistory`). Cost
/// n·k·(d + k) flops and n·k memory; K is touched only through k columns.
/// The n-long steps of each round (K[:, S], the update GEMM, the triangular solve) are task
/// graphs over fixed row blocks, so F has the same bits for any number of workers.
/// Distributed (an engine with an exchange): each process computes those steps for its share of
/// the row blocks only (`ColumnBlock.rowBlocks(of:)`), so the n·k·(d + k) flops are divided by
/// P; the pivot block's rows are gathered (|S|² values) and the round's new columns shared (an
/// allgather of n·|S| values) so that every process holds all of F, the residual diagonal and
/// the same pivot draws — F has the same bits for any number of processes.
/// Throws `interrupted` on a stop signal, `numerical` if a pivot block is not positive
/// semidefinite even after shifting, and allocation errors.
public enum RandomlyPivotedCholesky {
    public static func factor(kernel: KernelOperator, rank requested: Int, blockSize: Int = 100, seed: UInt64,
                              enoughTrace: Double = 0, growth: RankGrowth? = nil) throws(TesseraError) -> LowRankFactor {
        let n = kernel.order, engine = kernel.engine
        let k = max(1, min(requested, n))
        var residual = try kernel.diagonal()
        let initialTrace = residual.reduce(0, +)
        // Each column is written before it is read. Distributed, every process learns whether all
        // could allocate F before the rounds' exchanges (one failing alone would leave the others
        // waiting in them).
        var made: ColumnBlock?, failure: TesseraError?
        do throws(TesseraError) {
            made = try ColumnBlock(rows: n, cols: k, engine: engine, zeroed: false, alignedWith: kernel.matrix.layout)
        } catch { failure = error }
        try engine.exchange?.agree(failure: failure)
        if let failure { throw failure }
        guard let f = made else { throw .internalFailure("randomly pivoted Cholesky: no factor was allocated") }
        var cols = 0, pivots: [Int] = []
        let rng = Philox4x32(seed: seed)
        var round: UInt64 = 0
        var history: [RankGrowth.Step] = [RankGrowth.Step(rank: 0, trace: initialTrace)]
        var stop = "reached rank \(k)"
        let exchange = engine.exchange
        let share = f.rowBlocks(of: exchange), shareRows = f.rowRange(ofBlocks: share)
        /// Runs `body`; distributed, its failure is returned for the next exchange instead of thrown.
        func attempt(_ body: () throws(TesseraError) -> Void) throws(TesseraError) -> TesseraError? {
            do throws(TesseraError) { try body() } catch {
                if exchange == nil { throw error }
                return error
            }
            return nil
        }
        while cols < k {
            if exchange == nil { try Interruption.check() }
            let trace = residual.reduce(0, +)
            if cols > 0 { history.append(RankGrowth.Step(rank: cols, trace: trace)) }
            if !(trace > 1e-14 * initialTrace) { stop = "K captured to 1e-14 of its trace"; break }
            if trace <= enoughTrace { stop = "residual trace ≤ λ/10"; break }
            if let growth, let why = growth.stopReason(history) { stop = why; break }
            let b = min(blockSize, k - cols)
            let s = sample(b, weights: residual, rng: rng, round: round)
            round += 1
            if s.isEmpty { break }
            let m = s.count
            let next = cols..<(cols + m)
            // G = K[:, S] lands in F's next m columns and is turned into the new columns in place,
            // for this process's rows (all of them in a single process). Distributed, a failure
            // here (an interruption, a non-finite row) is passed to the next exchange, which ends
            // every process with the same error.
            var failure = try attempt { () throws(TesseraError) in
                if exchange != nil { try Interruption.check() }
                try kernel.fillColumns(s, into: f, firstColumn: cols, rows: shareRows)
                if cols > 0 {
                    try f.subtractProduct(columns: next, of: 0..<cols, timesTransposeOf: f.rows(s, columns: 0..<cols),
                                          rowBlocks: share, engine: engine)
                }
            }
            let h = try exchange.map { (e) throws(TesseraError) in try f.gatherRows(s, columns: next, exchange: e, failure: failure) }
                ?? f.rows(s, columns: next)
            let u = try robustCholesky(h, order: m)       // the same H on every process: the same outcome
            failure = try attempt { () throws(TesseraError) in try f.solveRightUpper(columns: next, by: u, rowBlocks: share, engine: engine) }
            if let exchange { try f.shareRows(columns: next, exchange: exchange, failure: failure) }
            f.subtractSquares(ofColumns: next, from: &residual)
            for i in s { residual[i] = 0 }
            cols += m
            pivots += s
        }
        let trace = residual.reduce(0, +)
        if history.last?.rank != cols { history.append(RankGrowth.Step(rank: cols, trace: trace)) }
        return LowRankFactor(block: f, rank: cols, order: n, residualTrace: trace, pivots: pivots,
                             traceHistory: history, stopReason: stop)
    }

    /// Up to b distinct indices drawn ∝ weights (sequential sampling without replacement).
    static func sample(_ b: Int, weights: [Double], rng: Philox4x32, round: UInt64) -> [Int] {
        var w = weights
        var chosen: [Int] = []
        for draw in 0..<b {
            let total = w.reduce(0, +)
            guard total > 0 else { break }
            var u = rng.uniform(index: UInt64(draw), stream: PhiloxStream.pivotDraws(round: Int(round))) * total
            var pick = w.count - 1
            for (i, v) in w.enumerated() where v > 0 {
                if u < v { pick = i; break }
                u -= v
            }
            if w[pick] <= 0 { break }
            chosen.append(pick)
            w[pick] = 0
        }
        return chosen.sorted()
    }

    /// Upper Cholesky factor of a symmetric PSD block, with a growing diagonal shift when it is
    /// numerically singular (pivots that the residual already explains).
    static func robustCholesky(_ h: [Double], order m: Int) throws(TesseraError) -> [Double] {
        let scale = (0..<m).map { h[$0 + $0 * m] }.max() ?? 1
        var shift = 0.0
        for _ in 0..<8 {
            var a = h
            for i in 0..<m { a[i + i * m] += shift }
            do throws(TesseraError) {
                try LAPACK.choleskyUpper(&a, order: m)
                return a
            } catch {
                shift = shift == 0 ? 1e-13 * max(scale, .leastNormalMagnitude) : shift * 100
            }
        }
        throw .numerical("randomly pivoted Cholesky: the pivot block is not positive semidefinite")
    }
}
