import TesseraCore

/// The accuracy measures of PAPER.md §2, computed from x by fresh passes over the real A (never
/// copied from an iteration's recurrence). ‖A‖₂ comes from the factor (‖R‖₂).
enum Verification {
    static let unitRoundoff = 1.1102230246251565e-16

    /// gram: r = (AᵀA)^j x − b (j passes).
    static func gram(op: TallOperator, x: [Double], b: [Double], power j: Int, normA: Double,
                     into report: inout SolveReport) throws(TesseraError) {
        gram(product: try op.applyGramPower(x, j), x: x, b: b, power: j, normA: normA, into: &report)
    }

    /// gram, from (AᵀA)^j x already computed by fresh passes (e.g. for a whole block at once).
    static func gram(product: [Double], x: [Double], b: [Double], power j: Int, normA: Double, into report: inout SolveReport) {
        let r = product.plus(-1, b)
        let bNorm = b.norm2
        report.relativeResidual = r.norm2 / max(bNorm, .leastNormalMagnitude)
        report.backwardError = r.norm2 / (pow(normA, 2 * Double(j)) * x.norm2 + bNorm)
        report.accuracyFloor = unitRoundoff
    }

    /// lstsq: r = A(AᵀA)^j x − b and Mᵀr = (AᵀA)^j Aᵀ r (2j + 2 passes).
    static func lstsq(op: TallOperator, x: [Double], b: [Double], power j: Int, normA: Double,
                      into report: inout SolveReport) throws(TesseraError) {
        let r = try op.apply(op.applyGramPower(x, j)).plus(-1, b)
        let mtr = try op.applyGramPower(op.applyTransposed(r), j)
        lstsq(residualNorm: r.norm2, mtr: mtr, x: x, b: b, power: j, normA: normA, into: &report)
    }

    /// lstsq, from ‖r‖ and Mᵀr already computed by fresh passes (e.g. for a whole block at once).
    static func lstsq(residualNorm rNorm: Double, mtr: [Double], x: [Double], b: [Double], power j: Int, normA: Double,
                      into report: inout SolveReport) {
        report.relativeResidual = rNorm / max(b.norm2, .leastNormalMagnitude)
        let normM = pow(normA, 2 * Double(j) + 1)
        report.optimality = rNorm == 0 ? 0 : mtr.norm2 / (normM * rNorm)
        report.accuracyFloor = rNorm == 0 ? unitRoundoff : unitRoundoff * normM * x.norm2 / rNorm
    }
}

#if canImport(Glibc)
import Glibc
#endif
