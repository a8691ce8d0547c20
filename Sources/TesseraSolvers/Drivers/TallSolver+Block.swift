import TesseraCore
import TesseraTiles

/// Blocks of right-hand sides through BLAS-3 with an exact factor (`direct`, `cholesky`): one
/// block pass over A serves every column, and the verification is a block pass too. A column
/// that misses the tolerance is solved again alone (with its refinement).
extension TallSolver {
    /// X = (RᵀR)^{-j}B by 2j triangular solves with m columns; the verification (AᵀA)^j X by one
    /// block pass over A (`Verification.gramPowerOnePass`) instead of j·m vector passes.
    func solveGramBlock(_ block: [[Double]]) throws(TesseraError) -> [Solution] {
        let d = op.cols, m = block.count, j = power
        var clock = Stopwatch()
        var x = block.flatMap { $0 }
        for _ in 0..<j { factor.r.solveNormal(block: &x, columns: m) }
        let iterate = clock.lap()
        let product = try Verification.gramPower(op: op, exactFactor: exactFactor, block: x, columns: m, power: j, normA: normA)
        let verify = clock.lap()
        var out: [Solution] = []
        for (c, b) in block.enumerated() {
            let xc = Array(x[(c * d)..<((c + 1) * d)])
            var report = makeReport()
            report.iterations = Array(repeating: 0, count: j)
            report.status = .converged
            report.seconds.iterate = iterate
            report.seconds.verify = verify
            Verification.gram(product: Array(product[(c * d)..<((c + 1) * d)]), x: xc, b: b, power: j, normA: normA, into: &report)
            if !report.meetsTolerance {
                out.append(try recordingHistory { () throws(TesseraError) in try solveGramAlone(b) })      // alone, with the refinement
                continue
            }
            report.notes.append("solved as a block of \(m) right-hand sides (BLAS-3); the times are the whole block's")
            out.append(finish(xc, &report))
        }
        return out
    }

    /// Y = argmin ‖AY − B‖ by the corrected semi-normal equations (Y ← Y + (RᵀR)⁻¹Aᵀ(B − AY),
    /// each step one fused block pass over A), X = (RᵀR)^{-j}Y by 2j triangular solves with m
    /// columns, and the verification r = A(AᵀA)^j X − B, Mᵀr by three block passes instead of
    /// (2j + 2)·m vector passes. A column that misses the tolerance is solved again alone (LSQR
    /// and the refinement).
    func solveLstsqBlock(_ block: [[Double]]) throws(TesseraError) -> [Solution] {
        let d = op.cols, m = block.count, j = power, a = op.matrix, engine = op.engine
        var clock = Stopwatch()
        let rhs = try SharedBlock(columns: block, engine: engine)
        // Least-squares stage: Y = (RᵀR)⁻¹AᵀB, then corrections while some column's optimality
        // ‖Aᵀ(B − AY)‖/(‖A‖‖B − AY‖) misses a tenth of the tolerance (at most three).
        var y = try a.residualGradient(block: nil, rhs: rhs, columns: m, engine: engine).gradient
        factor.r.solveNormal(block: &y, columns: m)
        var corrections = 0
        var last: (gradient: [Double], squaredNorms: [Double])
        var histories = [[Double]](repeating: [], count: m)     // each column's optimality after each correction
        while true {
            last = try a.residualGradient(block: y, rhs: rhs, columns: m, engine: engine)
            if corrections > 0 { for c in 0..<m { histories[c].append(columnOptimality(last, column: c)) } }
            // For j = 0 this pass is the verification itself, so the tolerance is enough.
            let target = j == 0 ? tolerance : 0.1 * tolerance
            if worstOptimality(last, columns: m) <= target || corrections == 3 { break }
            var step = last.gradient
            factor.r.solveNormal(block: &step, columns: m)
            for k in 0..<(d * m) { y[k] += step[k] }
            corrections += 1
        }
        var x = y
        for _ in 0..<j { factor.r.solveNormal(block: &x, columns: m) }
        let iterate = clock.lap()
        // Verification: P = (AᵀA)^j X, G = Aᵀ(B − AP) = −Aᵀr and ‖r‖, Mᵀr = −(AᵀA)^j G. For j = 0
        // the last pass above was already that fresh pass over A for this very X.
        var (mtr, squares) = last
        if j > 0 {
            let product = try Verification.gramPower(op: op, exactFactor: exactFactor, block: x, columns: m, power: j, normA: normA)
            (mtr, squares) = try a.residualGradient(block: product, rhs: rhs, columns: m, engine: engine)
            mtr = try Verification.gramPower(op: op, exactFactor: exactFactor, block: mtr, columns: m, power: j, normA: normA)
        }
        let verify = clock.lap()
        var out: [Solution] = []
        for (c, b) in block.enumerated() {
            let xc = Array(x[(c * d)..<((c + 1) * d)])
            var report = makeReport()
            report.iterations = [corrections] + Array(repeating: 0, count: j)
            report.history = histories[c]
            report.status = .converged
            report.seconds.iterate = iterate
            report.seconds.verify = verify
            Verification.lstsq(residualNorm: squares[c].squareRoot(), mtr: Array(mtr[(c * d)..<((c + 1) * d)]), x: xc,
                               bNorm: try op.rowNorm(b), power: j, normA: normA, into: &report)
            if !report.meetsTolerance {
                out.append(try recordingHistory { () throws(TesseraError) in try solveLstsqAlone(op.heldRows(of: b), whole: b) })      // with LSQR and the refinement
                continue
            }
            if m > 1 {
                report.notes.append("solved as a block of \(m) right-hand sides (BLAS-3, \(corrections) semi-normal correction(s)); the times are the whole block's")
            }
            out.append(finish(xc, &report))
        }
        return out
    }

    /// max over the columns of ‖Aᵀr_c‖/(‖A‖‖r_c‖), from a block pass's gradient and squared norms.
    func worstOptimality(_ pass: (gradient: [Double], squaredNorms: [Double]), columns m: Int) -> Double {
        var worst = 0.0
        for c in 0..<m where pass.squaredNorms[c] > 0 {
            worst = max(worst, columnOptimality(pass, column: c))
        }
        return worst
    }

    /// ‖Aᵀr_c‖/(‖A‖‖r_c‖) of column c from a block pass (0 when r_c = 0).
    func columnOptimality(_ pass: (gradient: [Double], squaredNorms: [Double]), column c: Int) -> Double {
        let d = op.cols
        guard pass.squaredNorms[c] > 0 else { return 0 }
        let g: [Double] = Array(pass.gradient[(c * d)..<((c + 1) * d)])
        let rNorm = pass.squaredNorms[c].squareRoot()
        return rNorm == 0 ? 0 : Verification.ratio(g.norm2, normA: normA, power: 1, times: rNorm)
    }
}
