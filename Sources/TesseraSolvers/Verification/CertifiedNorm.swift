import TesseraCore

/// ‖A‖₂ for the certificates when the factor's own ‖R‖ may exceed it (a float32 Gram's R, within
/// ≈ 10⁻⁶ of A's factor; the iteration's targets use ‖R‖): the Rayleigh quotient √(vᵀAᵀAv) at
/// R's dominant right singular vector v (unit), a lower bound on ‖A‖₂ close to it (its error is
/// quadratic in the angle), so every certificate stays an upper bound. The pass that gives it
/// is one the certificate makes anyway: v rides as a second column of the certificate's first
/// AᵀA product (`gram(_:)`, a 2-column block pass costs what a 1-column pass does: both read A
/// once), or — where the certificate has no AᵀA pass of its own (gram j = 1 and lstsq j = 0
/// reuse the solve's last pass) — it takes one pass alone (`alone()`).
struct CertifiedNorm: Sendable {
    let op: TallOperator
    /// v, unit length.
    let probe: [Double]
    /// √(vᵀAᵀAv) once measured: later right-hand sides reuse it (it is the same lower bound).
    let measured = Locked<Double?>(nil)

    /// AᵀA·y and √(vᵀAᵀAv), in one pass over A.
    func gram(_ y: [Double]) throws(TesseraError) -> (product: [Double], normA: Double) {
        let d = op.cols
        let both = try op.applyGram(block: y + probe, columns: 2)
        let normA = Self.rayleigh(probe, Array(both[d..<(2 * d)]))
        measured.withLock { $0 = $0 ?? normA }
        return (Array(both[0..<d]), normA)
    }

    /// √(vᵀAᵀAv) alone: one pass over A the first time (none once measured).
    func alone() throws(TesseraError) -> Double {
        if let known = measured.withLock({ $0 }) { return known }
        let normA = Self.rayleigh(probe, try op.applyGram(probe))
        measured.withLock { $0 = $0 ?? normA }
        return normA
    }

    /// √(vᵀw) for w = AᵀA·v, v of unit length: ‖Av‖, a lower bound on ‖A‖₂.
    static func rayleigh(_ v: [Double], _ w: [Double]) -> Double { max(v.dot(w), 0).squareRoot() }
}
