import CVectorMath

/// Entrywise exp in float32, the attention kernel's mixed-precision panels' exp: an AVX-512 kernel
/// (16 lanes) or an AVX2+FMA one (8 lanes) where the CPU has them (`lanes`, chosen at run time),
/// else the same operations one value at a time — the same bits on all three.
///
/// e^x = 2^k · e^r with k = round(x·log₂e), r = (x − k·ln2_hi) − k·ln2_lo (Cody–Waite, ln2_hi
/// with 9 significant bits so k·ln2_hi is exact), |r| ≤ ½ln 2; e^r by its degree-7 Taylor
/// polynomial (truncation < 6·10⁻⁹ relative) in Horner form with FMA; 2^k from its bits. Inputs are
/// clamped to [−87, 88], where every result is a normal float. Error ≤ `relativeErrorBound`
/// against e^x over [−`maximumArgument`, `maximumArgument`] (`SingleExpTests` checks it against
/// libm's float64 exp on every float32 of a dense sample of that range). Cost ≈ 12 float32 flops
/// per element, 8 elements per instruction.
public enum SingleExp {
    /// The largest |x| the kernel is meant for (it clamps beyond [−87, 88]).
    public static let maximumArgument: Float = 87
    /// |expf(x) − eˣ| ≤ bound · eˣ for |x| ≤ `maximumArgument` (4 float32 units of roundoff, 2.4e-7:
    /// the reduction r loses up to |k|·2⁻³³ and the polynomial and scaling round a few times).
    public static let relativeErrorBound = 4 * Double(Float.ulpOfOne) / 2

    /// y[i] = e^x[i] for i in 0..<count (x and y may be the same memory).
    public static func apply(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        guard count > 0 else { return }
        switch lanes {
        case 16: tessera_expf_avx512(x, y, count)
        case 8: tessera_expf_avx2(x, y, count)
        default: tessera_expf_portable(x, y, count)
        }
    }

    /// float32 lanes of the kernels this CPU runs: 16 (AVX-512F), 8 (AVX2 + FMA) or 1 (portable),
    /// chosen at run time. The exps have the same bits on all three.
    public static let lanes = OpenBLASRuntime.cpuHasAVX512 && VectorExp.useAVX2 ? 16 : VectorExp.useAVX2 ? 8 : 1
}

/// Both halves of the attention kernel's product from one float32 panel of arguments S (rows ×
/// cols, column-major, leading dimension ld) — e = float64(expf(S)) made in registers, never
/// stored:
///     y_rows += e·x_cols   and (when `transposedToo`)   y_cols += eᵀ·x_rows,
/// accumulated in float64; the exps are `SingleExp`'s. The summation order depends on the panel's
/// shape only. Cost rows·cols exps and 4·rows·cols float64 flops, one read of S.
public enum ExpPanelProduct {
    public static func apply(_ s: UnsafePointer<Float>, ld: Int, rows: Int, cols: Int,
                             xRows: UnsafePointer<Double>, xCols: UnsafePointer<Double>,
                             yRows: UnsafeMutablePointer<Double>, yCols: UnsafeMutablePointer<Double>, transposedToo: Bool) {
        guard rows > 0, cols > 0 else { return }
        let both: Int32 = transposedToo ? 1 : 0
        switch SingleExp.lanes {
        case 16: tessera_exp_panel_product_avx512(s, ld, rows, cols, xRows, xCols, yRows, yCols, both)
        case 8: tessera_exp_panel_product_avx2(s, ld, rows, cols, xRows, xCols, yRows, yCols, both)
        default: tessera_exp_panel_product_portable(s, ld, rows, cols, xRows, xCols, yRows, yCols, both)
        }
    }
}
