import TesseraCore

/// One right-hand side at a time: iterate, verify by an independent pass, and — when an exact
/// factor's direct answer misses the tolerance — refine with preconditioned CG.
extension TallSolver {
    /// min ‖(AᵀA)^j x − b‖ for one b ∈ ℝ^d (already validated); `start`, a guess of x, starts
    /// the last power stage's iteration.
    func solveGramAlone(_ b: [Double], start: [Double]? = nil) throws(TesseraError) -> Solution {
        let j = power
        var report = makeReport()
        var clock = Stopwatch()
        let (x, iterations, status, condition, product) = try gramPower(b, eta: tolerance / Double(j), finalStart: start)
        if report.conditionPreconditioned == nil { report.conditionPreconditioned = condition }
        report.seconds.iterate = clock.lap()
        report.iterations = iterations
        report.status = status
        try Verification.gram(op: op, exactFactor: exactFactor, x: x, b: b, power: j, normA: normA, known: product, into: &report)
        report.seconds.verify = clock.lap()
        if isExact && !report.meetsTolerance {
            let refined = try refinePower(b, eta: tolerance / Double(j))
            report.iterations = refined.iterations
            report.status = refined.status
            report.notes.append("the direct solve missed the tolerance; refined with preconditioned CG")
            report.seconds.addIterate(clock.lap())
            try Verification.gram(op: op, exactFactor: exactFactor, x: refined.x, b: b, power: j, normA: normA, into: &report)
            report.seconds.addVerify(clock.lap())
            return finish(refined.x, &report)
        }
        return finish(x, &report)
    }

    /// min ‖A(AᵀA)^j x − b‖ for one b ∈ ℝⁿ (already validated), by the method's own
    /// least-squares stage (LSQR, Richardson), then the power stages.
    /// `start`, a guess of x, starts the least-squares stage (j = 0) or the last power stage.
    func solveLstsqAlone(_ b: [Double], start: [Double]? = nil) throws(TesseraError) -> Solution {
        let j = power
        var report = makeReport()
        var clock = Stopwatch()
        let ls = try leastSquares(b, start: j == 0 ? start : nil)
        var iterations = [ls.iterations], status = ls.status
        var x = ls.solution
        var powerEta = 1e-16
        if j > 0 {
            // Errors of the power stages reach the optimality multiplied by ≈ ‖A‖‖y‖/‖r‖.
            let residual = b.plus(-1, try op.apply(ls.solution)).norm2
            let scale = residual == 0 ? 1 : 1 / Verification.ratio(residual, normA: normA, power: 1, times: ls.solution.norm2)
            var eta = (method == .paper ? 0.01 : 0.1) * tolerance / (Double(j) * max(scale, 1))
            if eta < 1e-16 {
                report.notes.append("power stages need backward error \(Format.sci(eta)) < float64 precision; aiming at 1e-16")
                eta = 1e-16
            }
            powerEta = eta
            let powered = try gramPower(ls.solution, eta: eta, finalStart: start)
            x = powered.x
            if report.conditionPreconditioned == nil { report.conditionPreconditioned = powered.condition }
            iterations += powered.iterations
            status = status.combined(with: powered.status)
        }
        report.seconds.iterate = clock.lap()
        report.iterations = iterations
        report.status = status
        if j == 0, let pass = ls.finalResidualGradient {
            // The fused pass that ended the least-squares stage was a fresh pass at this very x.
            SolveMonitor.enter(.verify)
            Verification.lstsq(residualNorm: pass.squaredNorm.squareRoot(), mtr: pass.gradient, x: x, b: b, power: 0,
                               normA: normA, into: &report)
        } else {
            try Verification.lstsq(op: op, x: x, b: b, power: j, normA: normA, into: &report)
        }
        report.seconds.verify = clock.lap()
        if isExact && j > 0 && !report.meetsTolerance {
            let refined = try refinePower(ls.solution, eta: powerEta)
            report.iterations = [ls.iterations] + refined.iterations
            report.status = ls.status.combined(with: refined.status)
            report.notes.append("the direct power solves missed the tolerance; refined with preconditioned CG")
            report.seconds.addIterate(clock.lap())
            try Verification.lstsq(op: op, x: refined.x, b: b, power: j, normA: normA, into: &report)
            report.seconds.addVerify(clock.lap())
            return finish(refined.x, &report)
        }
        return finish(x, &report)
    }
}
