import TesseraCore

/// The minimum-norm solve of a numerically rank-deficient A (the rank-revealing route), one
/// right-hand side at a time, whatever the method: with A = (QU)·Σ·Vᵀ from `TruncatedSVDFactor`
/// and r kept singular values,
/// - gram: x = ((AᵀA)⁺)^j b = V_r·Σ_r^{−2j}·V_rᵀ·b, refined against R (`solvePower`: d² flops
///   per product, no pass over A);
/// - lstsq: y = A⁺b by the semi-normal equations in the kept subspace, y = V_rΣ_r^{−2}V_rᵀAᵀb,
///   corrected from the true residual, y ← y + V_rΣ_r^{−2}V_rᵀAᵀ(b − Ay) (two passes each, at
///   least one and at most four — one correction takes the forward error from κ²u to the
///   problem's own level — until the optimality of the truncated problem meets a tenth of the
///   tolerance; their fixed point is exactly A_r⁺b), then x = V_r·Σ_r^{−2j}·V_rᵀ·y = (A(AᵀA)^j)⁺b
///   (`solvePower`).
/// x lies in span(V_r), orthogonal to the numerical null space, by construction. The
/// verification takes fresh passes over A; its measures are those of the truncated problem: the
/// backward error against V_rV_rᵀb (gram; the part of b outside the numerical range cannot be
/// reached), the optimality ‖V_rᵀMᵀr‖/(‖M‖‖r‖) (lstsq; for j ≥ 1 judged against a float64 floor
/// (2j + 1)·√r times the full-rank route's, as x is formed through the SVD's vectors). Warm starts are ignored, as by the other
/// exact routes; a block is solved column by column.
extension TallSolver {
    func solveMinNorm(_ b: [Double], svd: TruncatedSVDFactor) throws(TesseraError) -> Solution {
        let j = power
        var report = makeReport()
        var clock = Stopwatch()
        let x: [Double]
        if svd.rank == 0 {
            // A = 0 (every singular value dropped): x = 0 is the minimum-norm solution, exactly.
            x = [Double](repeating: 0, count: op.cols)
            report.iterations = Array(repeating: 0, count: plan.kind == .gram ? j : j + 1)
            report.status = .converged
            report.relativeResidual = 1
            if plan.kind == .gram { report.backwardError = 0 } else { report.optimality = 0 }
            report.accuracyFloor = Verification.unitRoundoff
            report.notes.append("A is zero to rcond: every singular value was dropped, and x = 0")
            return finish(x, &report)
        }
        switch plan.kind {
        case .gram:
            x = svd.solvePower(b, power: j)
            report.iterations = Array(repeating: 0, count: j)
            report.status = .converged
            report.seconds.iterate = clock.lap()
            let product = try Verification.gramPower(op: op, exactFactor: svd.r, block: x, columns: 1, power: j, normA: normA)
            let projected = svd.project(b)
            Verification.gram(product: product, x: x, b: projected, power: j, normA: normA, into: &report)
            let bNorm = max(b.norm2, .leastNormalMagnitude)
            report.relativeResidual = product.plus(-1, b).norm2 / bNorm
            let outside = b.plus(-1, projected).norm2 / bNorm
            if outside > 1e-12 {
                report.notes.append("b has a part \(Format.sci(outside)) (relative) outside the numerical range of AᵀA, which no x reaches; the backward error is measured against b's projection onto that range")
            }
        case .lstsq:
            var y = svd.pseudoInversePower(try op.applyTransposed(b), exponent: 2)
            var corrections = 0
            let target = j == 0 ? tolerance : 0.1 * tolerance
            while true {
                let r = b.plus(-1, try op.apply(y))
                let g = try op.applyTransposed(r)
                let rNorm = try op.rowNorm(r)
                let optimality = rNorm == 0 ? 0 : Verification.ratio(svd.project(g).norm2, normA: normA, power: 1, times: rNorm)
                if (optimality <= target && corrections >= 1) || rNorm == 0 || corrections == 4 { break }
                y = y.plus(1, svd.pseudoInversePower(g, exponent: 2))
                corrections += 1
            }
            x = j == 0 ? y : svd.solvePower(y, power: j)
            report.iterations = [corrections] + Array(repeating: 0, count: j)
            report.status = .converged
            report.seconds.iterate = clock.lap()
            // (AᵀA)^j by one block pass each with the exact R (`Verification.gramPower`), as the block route does.
            let product = try Verification.gramPower(op: op, exactFactor: svd.r, block: x, columns: 1, power: j, normA: normA)
            let r = try op.apply(product).plus(-1, b)
            let mtr = try Verification.gramPower(op: op, exactFactor: svd.r, block: op.applyTransposed(r), columns: 1, power: j, normA: normA)
            Verification.lstsq(residualNorm: try op.rowNorm(r), mtr: svd.project(mtr), x: x, bNorm: try op.rowNorm(b), power: j,
                               normA: normA, into: &report)
            // x = V_rΣ_r^{−2j}V_rᵀy leans on r computed singular vectors, each off by ≈ u: along the
            // leading directions its error is ≈ (2j + 1)·√r·u·‖x‖ rather than the u·‖x‖ of a
            // backward-stable triangular solve, and the optimality's float64 floor grows with it.
            if j > 0 { report.accuracyFloor *= Double(2 * j + 1) * Double(svd.rank).squareRoot() }
        }
        report.seconds.verify = clock.lap()
        return finish(x, &report)
    }
}
