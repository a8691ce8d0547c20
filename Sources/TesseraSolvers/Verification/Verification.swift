#if canImport(Glibc)
import Glibc
#endif
import TesseraCore
import TesseraKernels

/// The accuracy measures of PAPER.md §2, computed from x by fresh passes over the real operator
/// (never copied from an iteration's recurrence): the certificate every report prints. For
/// gram/lstsq ‖A‖₂ comes from the factor (‖R‖₂); for attention the product is an exact kernel
/// product. Throws what the passes throw (`.interrupted`).
enum Verification {
    static let unitRoundoff = 1.1102230246251565e-16

    /// gram: r = (AᵀA)^j x − b (j passes; one pass for j ≥ 2 with an exact factor, see
    /// `gramPowerOnePass`).
    static func gram(op: TallOperator, exactFactor: UpperTriangular?, x: [Double], b: [Double], power j: Int, normA: Double,
                     known: [Double]? = nil, into report: inout SolveReport) throws(TesseraError) {
        SolveMonitor.enter(.verify)
        var onePass: [Double]? = nil
        if j >= 2, let r = exactFactor {
            onePass = try gramPowerOnePass(op: op, factor: r, block: x, columns: 1, power: j, normA: normA)
        }
        let product: [Double]
        if let onePass {
            product = onePass
        } else if let known {
            product = try op.applyGramPower(known, j - 1)     // AᵀA·x came from a fresh pass already
        } else {
            product = try op.applyGramPower(x, j)
        }
        gram(product: product, x: x, b: b, power: j, normA: normA, into: &report)
    }

    /// gram, from (AᵀA)^j x already computed by fresh passes (e.g. for a whole block at once).
    static func gram(product: [Double], x: [Double], b: [Double], power j: Int, normA: Double, into report: inout SolveReport) {
        let r = product.plus(-1, b)
        let bNorm = b.norm2
        report.relativeResidual = r.norm2 / max(bNorm, .leastNormalMagnitude)
        report.backwardError = ratio(r.norm2, normA: normA, power: 2 * Double(j), times: x.norm2, plus: bNorm)
        report.accuracyFloor = unitRoundoff
    }

    /// ‖A‖^p · c + d for c, d ≥ 0, with ‖A‖^p never formed alone (exp(p·log‖A‖ + log c)): finite
    /// whenever the product is, e.g. ‖A‖ = 1e160, p = 2, c = 1e-300.
    static func magnitude(normA: Double, power p: Double, times c: Double, plus d: Double = 0) -> Double {
        guard normA > 0, c > 0 else { return d }
        return exp(p * log(normA) + log(c)) + d
    }

    /// a / (‖A‖^p · c + d) for a, c, d ≥ 0, with the denominator's logarithm formed by
    /// log-sum-exp, so ‖A‖^p may lie far outside float64 (‖A‖ = 1e160, j = 64) without an
    /// overflowed or underflowed number ever being divided by: 0 when a = 0 (an exact answer);
    /// +∞ — "cannot certify" — when a or ‖A‖ is not finite or the denominator is 0.
    static func ratio(_ a: Double, normA: Double, power p: Double, times c: Double, plus d: Double = 0) -> Double {
        if a == 0 { return 0 }
        guard a.isFinite, normA.isFinite, c.isFinite, d.isFinite else { return .infinity }
        let scaled = normA > 0 && c > 0 ? p * log(normA) + log(c) : -Double.infinity
        let plain = d > 0 ? log(d) : -Double.infinity
        let top = max(scaled, plain)
        guard top > -Double.infinity else { return .infinity }
        let denominator = top + log1p(exp(min(scaled, plain) - top))
        return exp(log(a) - denominator)
    }

    /// (AᵀA)^j X for a block X ∈ ℝ^{d×m} (column-major) by ONE block pass over the real A, given
    /// an exact factor R (G = RᵀR equals M = AᵀA up to rounding, as after `direct` or `cholesky`).
    ///
    /// The probes V₀ = X, V_k = G·V_{k−1} are known before the pass, so one pass gives
    /// W_k = M·V_k for all k at once (a block of j·m columns). Then u₁ = W₀ = MX and
    /// u_{k+1} = W_k + G(u_k − V_k): the only term not taken from A is (M − G)(u_k − V_k), a product
    /// of two rounding-level quantities, ≈ δ²‖M‖^{k+1}‖X‖ with δ = ‖M − G‖/‖M‖. δ is measured
    /// from the same pass (‖W_k − G·V_k‖ per probe); above `onePassAgreementLimit` (a factor that is
    /// not exact, or a Gram matrix formed wrongly) the answer is `nil` and the caller goes back to
    /// j successive passes. Cost: one pass over A (4ndjm flops, memory-bound for small jm) and
    /// 2j triangular products per column (d² each), instead of j passes.
    static func gramPowerOnePass(op: TallOperator, factor r: UpperTriangular, block x: [Double], columns m: Int,
                                 power j: Int, normA: Double) throws(TesseraError) -> [Double]? {
        let d = op.cols
        guard j >= 1, m >= 1, x.count == d * m else { return nil }
        if j == 1 { return try op.matrix.gramMultiply(block: x, columns: m, engine: op.engine) }
        func column(_ block: [Double], _ i: Int) -> [Double] { Array(block[(i * d)..<((i + 1) * d)]) }
        // Column k·m + c of `probes` is V_k's column c = G^k x_c; the same column of `gProbes` is G·V_k.
        var probes = x, gProbes: [Double] = []
        for k in 0..<j {
            for c in 0..<m { gProbes += r.normalTimes(column(probes, k * m + c)) }
            if k + 1 < j { probes += gProbes[(k * m * d)..<((k + 1) * m * d)] }
        }
        let w = try op.matrix.gramMultiply(block: probes, columns: j * m, engine: op.engine)
        for i in 0..<(j * m) {
            let disagreement = column(w, i).plus(-1, column(gProbes, i)).norm2
            let allowed = onePassAgreementLimit * magnitude(normA: normA, power: 2, times: column(probes, i).norm2)
            guard disagreement <= allowed else { return nil }
        }
        var u = Array(w[0..<(d * m)])
        for k in 1..<j {
            var next: [Double] = []
            for c in 0..<m {
                let correction = r.normalTimes(column(u, c).plus(-1, column(probes, k * m + c)))
                next += zip(column(w, k * m + c), correction).map(+)
            }
            u = next
        }
        return u
    }

    /// The largest ‖(AᵀA − RᵀR)v‖/(‖A‖²‖v‖) seen on the probes for which the one-pass power is
    /// trusted: its neglected term is then ≲ 10⁻²⁰ relative, far below float64's 10⁻¹⁶. A
    /// backward-stable factor gives ≈ 10⁻¹⁶·d.
    static let onePassAgreementLimit = 1e-10

    /// (AᵀA)^j X: one block pass when the factor is exact (`gramPowerOnePass`), otherwise (or when
    /// the factor disagrees with A) j successive block passes.
    static func gramPower(op: TallOperator, exactFactor r: UpperTriangular?, block x: [Double], columns m: Int,
                          power j: Int, normA: Double) throws(TesseraError) -> [Double] {
        SolveMonitor.enter(.verify)
        if let r, let onePass = try gramPowerOnePass(op: op, factor: r, block: x, columns: m, power: j, normA: normA) {
            return onePass
        }
        var product = x
        for _ in 0..<j { product = try op.matrix.gramMultiply(block: product, columns: m, engine: op.engine) }
        return product
    }

    /// lstsq: r = A(AᵀA)^j x − b and Mᵀr = (AᵀA)^j Aᵀ r (one fused pass for j = 0, else 2j + 2, or
    /// 2j + 1 with `certified`).
    /// `known`: AᵀA·x from the fresh pass that confirmed the last power stage at this very x — the
    /// same kernel on the same x, so the same bits as the first pass here would give (j ≥ 1).
    /// `certified`: ‖A‖ is measured here (`CertifiedNorm`, with the first AᵀA pass on Aᵀr for
    /// j ≥ 1, alone for j = 0) instead of `normA`; returns the ‖A‖ the certificate used.
    /// `fuse`: r and Aᵀr in one pass for j ≥ 1 — only where κ^{2j+1}·u ≪ 1 (see below).
    @discardableResult
    static func lstsq(op: TallOperator, x: [Double], b: [Double], power j: Int, normA given: Double,
                      known: [Double]? = nil, certified: CertifiedNorm? = nil, fuse: Bool = false,
                      into report: inout SolveReport) throws(TesseraError) -> Double {
        SolveMonitor.enter(.verify)
        // j = 0: r and Aᵀr in one fused pass. j ≥ 1: r = A(AᵀA)^j x − b and Mᵀr = (AᵀA)^j Aᵀr by
        // separate passes (2j + 2), from x itself: where κ^{2j+1}·u ≥ 1 the fused and reused forms
        // printed an optimality 7× below the extended-precision one (python/tests/test_oracle.py,
        // κ = 1e8, j = 2), while this form stays within 2× of it.
        let bNorm = try op.rowNorm(b)
        if j == 0 {
            let pass = try op.residualGradient(x, b)
            let normA = try certified?.alone() ?? given
            lstsq(residualNorm: pass.squaredNorm.squareRoot(), mtr: pass.gradient, x: x, bNorm: bNorm, power: 0, normA: normA, into: &report)
            return normA
        }
        let powered: [Double]
        if let known { powered = try op.applyGramPower(known, j - 1) } else { powered = try op.applyGramPower(x, j) }
        var gradient: [Double], rNorm: Double
        if fuse {
            // Far from the uncertifiable regime above: r and Aᵀr in one fused pass.
            let pass = try op.residualGradient(powered, b)       // Aᵀ(b − Ay) = −Aᵀr, ‖r‖²
            rNorm = pass.squaredNorm.squareRoot()
            gradient = pass.gradient
        } else {
            let r = try op.apply(powered).plus(-1, b)
            rNorm = try op.rowNorm(r)
            gradient = try op.applyTransposed(r)
        }
        var mtr: [Double], normA = given
        if let certified {
            // The first AᵀA pass carries ‖A‖'s probe.
            (mtr, normA) = try certified.gram(gradient)
            mtr = try op.applyGramPower(mtr, j - 1)
        } else {
            mtr = try op.applyGramPower(gradient, j)
        }
        lstsq(residualNorm: rNorm, mtr: mtr, x: x, bNorm: bNorm, power: j, normA: normA, into: &report)
        return normA
    }

    /// lstsq, from ‖r‖ and Mᵀr already computed by fresh passes (e.g. for a whole block at once).
    /// `bNorm`: ‖b‖₂ (`TallOperator.rowNorm`, b held by rows).
    static func lstsq(residualNorm rNorm: Double, mtr: [Double], x: [Double], bNorm: Double, power j: Int, normA: Double,
                      into report: inout SolveReport) {
        report.relativeResidual = rNorm / max(bNorm, .leastNormalMagnitude)
        let p = 2 * Double(j) + 1
        report.optimality = rNorm == 0 ? 0 : ratio(mtr.norm2, normA: normA, power: p, times: rNorm)
        // u·‖M‖‖x‖/‖r‖ = u / (‖r‖/(‖M‖‖x‖)), without forming ‖M‖.
        let inverseFloor = ratio(rNorm, normA: normA, power: p, times: x.norm2)
        report.accuracyFloor = rNorm == 0 ? unitRoundoff : (inverseFloor > 0 ? unitRoundoff / inverseFloor : .infinity)
    }

    /// attention: ‖(K + λI)x − b‖/‖b‖ by one fresh exact product.
    static func attention(kernel: KernelOperator, x: [Double], b: [Double]) throws(TesseraError) -> Double {
        SolveMonitor.enter(.verify)
        return try kernel.apply(x).plus(-1, b).norm2 / max(b.norm2, .leastNormalMagnitude)
    }
}
