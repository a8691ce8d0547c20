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
        if let certifiedNorm {
            try verifyGram(x, b, known: product, certified: certifiedNorm, into: &report)
        } else {
            try Verification.gram(op: op, exactFactor: exactFactor, x: x, b: b, power: j, normA: normA, known: product, into: &report)
        }
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
    /// `whole`: all of b when `b` is held by rows (a distributed engine), for the sketch-and-solve
    /// start S·b, which mixes every row.
    func solveLstsqAlone(_ b: [Double], start: [Double]? = nil, whole: [Double]? = nil) throws(TesseraError) -> Solution {
        let j = power
        var report = makeReport()
        var clock = Stopwatch()
        let ls = try leastSquares(b, start: j == 0 ? start : nil, whole: whole ?? b)
        var iterations = [ls.iterations], status = ls.status
        var x = ls.solution
        var powerEta = 1e-16, product: [Double]? = nil
        if j > 0 {
            // Errors of the power stages reach the optimality multiplied by ≈ ‖A‖‖y‖/‖r‖.
            // ‖b − Ay‖ from the pass that ended the least-squares stage at y, else a fresh one.
            let residual: Double
            if let pass = ls.finalResidualGradient { residual = pass.squaredNorm.squareRoot() } else { residual = try op.rowNorm(b.plus(-1, try op.apply(ls.solution))) }
            let scale = residual == 0 ? 1 : 1 / Verification.ratio(residual, normA: normA, power: 1, times: ls.solution.norm2)
            var eta = (method == .paper ? 0.01 : 0.1) * tolerance / (Double(j) * max(scale, 1))
            if eta < 1e-16 {
                report.notes.append("power stages need backward error \(Format.sci(eta)) < float64 precision; aiming at 1e-16")
                eta = 1e-16
            }
            powerEta = eta
            let powered = try gramPower(ls.solution, eta: eta, finalStart: start)
            x = powered.x
            product = powered.product
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
            let certifiedA = try certifiedNorm?.alone() ?? normA
            Verification.lstsq(residualNorm: pass.squaredNorm.squareRoot(), mtr: pass.gradient, x: x, bNorm: try op.rowNorm(b), power: 0,
                               normA: certifiedA, into: &report)
            report.normA = PowerOfTwo.scale(certifiedA, by: -scaleExponent)
        } else {
            let certifiedA = try Verification.lstsq(op: op, x: x, b: b, power: j, normA: normA, known: product, certified: certifiedNorm,
                                                    fuse: fusesLstsqCertificate, into: &report)
            report.normA = PowerOfTwo.scale(certifiedA, by: -scaleExponent)
        }
        report.seconds.verify = clock.lap()
        if j > 0 && !report.meetsTolerance && (isExact || powerEta > 1e-16) {
            // Each stage's backward error reaches the optimality amplified by up to κ(A)² (a
            // stage's ‖M‖‖y‖ against its ‖c‖): an iterative method that missed repeats the
            // stages that much tighter; an exact one refines its direct answers with CG.
            let eta = isExact ? powerEta : max(powerEta / max(factor.conditionEstimate * factor.conditionEstimate, 1), 1e-16)
            let refined = try refinePower(ls.solution, eta: eta)
            // Per stage, the steps of both runs (the history holds both).
            report.iterations = [ls.iterations] + zip(iterations.dropFirst(), refined.iterations).map { $0 + $1 }
            report.status = ls.status.combined(with: refined.status)
            report.notes.append(isExact ? "the direct power solves missed the tolerance; refined with preconditioned CG"
                                        : "the power stages missed the tolerance; repeated to backward error \(Format.sci(eta))")
            report.seconds.addIterate(clock.lap())
            let certifiedA = try Verification.lstsq(op: op, x: refined.x, b: b, power: j, normA: normA, certified: certifiedNorm,
                                                    fuse: fusesLstsqCertificate, into: &report)
            report.normA = PowerOfTwo.scale(certifiedA, by: -scaleExponent)
            report.seconds.addVerify(clock.lap())
            return finish(refined.x, &report)
        }
        return finish(x, &report)
    }

    /// gram's certificate with ‖A‖ measured by `certified` in the certificate's first AᵀA pass
    /// (or alone when `known` leaves it none: j = 1); the report's ‖A‖ is that one.
    func verifyGram(_ x: [Double], _ b: [Double], known: [Double]?, certified: CertifiedNorm,
                    into report: inout SolveReport) throws(TesseraError) {
        SolveMonitor.enter(.verify)
        let j = power
        var product: [Double], certifiedA: Double
        if let known, j == 1 {
            product = known
            certifiedA = try certified.alone()
        } else {
            (product, certifiedA) = try certified.gram(known ?? x)
            product = try op.applyGramPower(product, j - (known == nil ? 1 : 2))
        }
        Verification.gram(product: product, x: x, b: b, power: j, normA: certifiedA, into: &report)
        report.normA = PowerOfTwo.scale(certifiedA, by: -scaleExponent)
    }

    /// Whether lstsq's certificate for j ≥ 1 may form r and Aᵀr in one fused pass: on the float32
    /// Gram's route, and only where κ̂^{2j+1}·u ≤ 1e-3 — where κ^{2j+1}·u nears 1 the fused form
    /// printed an optimality 7× below the extended-precision one (python/tests/test_oracle.py).
    var fusesLstsqCertificate: Bool {
        certifiedNorm != nil
            && (0...(2 * power)).reduce(Verification.unitRoundoff) { product, _ in product * factor.conditionEstimate } <= 1e-3
    }
}
