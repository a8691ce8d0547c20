import TesseraCore

/// ‖A‖₂ for the certificates when the factor's own ‖R‖ may exceed it (a float32 Gram's R, within
/// ≈ 10⁻⁶ of A's factor; the iteration's targets use ‖R‖): the Rayleigh quotient √(vᵀAᵀAv) at
/// R's dominant right singular vector v (unit), a lower bound on ‖A‖₂ close to it (its error is
/// quadratic in the angle), so every certificate stays an upper bound. The pass that gives it
/// is one the certificate makes anyway: v rides as a second column of the certificate's first
/// AᵀA product (`gram(_:)`, a 2-column block pass costs what a 1-column pass does: both read A
/// once), or — where the certificate has no AᵀA pass of its own (gram j = 1 and lstsq j = 0
/// reuse the solve's last pass) — it takes one pass alone (`alone()`).
struct CertifiedNorm {
    let op: TallOperator
    /// v, unit length.
    let probe: [Double]

    /// AᵀA·y and √(vᵀAᵀAv), in one pass over A.
    func gram(_ y: [Double]) throws(TesseraError) -> (product: [Double], normA: Double) {
        let d = op.cols
        let both = try op.applyGram(block: y + probe, columns: 2)
        return (Array(both[0..<d]), Self.rayleigh(probe, Array(both[d..<(2 * d)])))
    }

    /// √(vᵀAᵀAv) alone: one pass over A.
    func alone() throws(TesseraError) -> Double {
        Self.rayleigh(probe, try op.applyGram(probe))
    }

    static func rayleigh(_ v: [Double], _ w: [Double]) -> Double { max(v.dot(w), 0).squareRoot() }
}
