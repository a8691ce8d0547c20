/// What a gram/lstsq solve does when A is numerically rank deficient (some singular values of A
/// at or below rcond·σ₁): return the minimum-norm solution (x = ((AᵀA)⁺)^j b for gram,
/// x = (A(AᵀA)^j)⁺ b for lstsq, both through the truncated SVD of A), or refuse with
/// `TesseraError.rankDeficient` naming the estimated rank. Attention ignores it (see the README).
public enum RankDeficientPolicy: String, Sendable, CaseIterable {
    /// The minimum-norm solution, with the numerical rank in the report (the default, as NumPy's
    /// `lstsq` and LSRN do).
    case minNorm = "min-norm"
    /// Refuse (`TesseraError.rankDeficient`, CLI exit 2), as before this option existed.
    case refuse
}
