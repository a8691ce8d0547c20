import CVectorMath

/// w = AᵀA·y for one column-major tile A (rows × cols, leading dimension ld), reading A from
/// memory once: rows are taken in panels of `panelRows` (384) rows, and for each panel
/// t = A_p·y, then w += A_pᵀ·t while the panel is still in cache. Two GEMVs over the whole tile
/// read it twice (the second time from L3 or memory). This is the inner kernel of the gram
/// verification and of CG. AVX2+FMA where the CPU has it, else plain C; the summation order
/// depends on (rows, cols) alone. Cost 4·rows·cols flops, rows·cols loads from memory.
///
/// It beats two OpenBLAS `dgemv`s while a 384-row panel fits in L2, so `fusedPays(cols:)` limits
/// it to d ≤ 256 (docs/BENCHMARKS.md has the measurements); wider tiles keep the two
/// GEMVs.
public enum GramVectorProduct {
    /// Rows per panel: 384 (3 KiB of each column, long enough for the prefetchers).
    public static func panelRows(cols: Int) -> Int { 384 }

    /// Whether the fused kernel beats two GEMVs at this width (measured: d ≤ 256).
    public static func fusedPays(cols: Int) -> Bool { cols <= 256 }

    /// Columns of a block for which the fused kernel is used (each panel stays in cache while it
    /// is applied to all of them); wider blocks go through two GEMMs per tile.
    public static let maxBlockColumns = 8

    /// W = AᵀA·Y for a block Y (cols × m, column-major): each panel read from memory once and
    /// applied to the m columns while in cache; column k gets the same bits as `apply` on y_k.
    /// `scratch` must hold min(rows, panelRows(cols)) doubles; `w` (cols × m) is overwritten.
    public static func apply(block a: UnsafePointer<Double>, ld: Int, rows: Int, cols: Int, columns m: Int,
                             y: UnsafePointer<Double>, scratch: UnsafeMutablePointer<Double>, w: UnsafeMutablePointer<Double>) {
        guard cols > 0, m > 0 else { return }
        let panel = panelRows(cols: cols)
        if VectorExp.useAVX2 {
            tessera_gram_gemm_avx2(a, ld, rows, cols, panel, m, y, scratch, w)
        } else {
            tessera_gram_gemm_portable(a, ld, rows, cols, panel, m, y, scratch, w)
        }
    }

    /// `scratch` must hold min(rows, panelRows(cols)) doubles; `w` (cols) is overwritten.
    public static func apply(_ a: UnsafePointer<Double>, ld: Int, rows: Int, cols: Int, y: UnsafePointer<Double>,
                             scratch: UnsafeMutablePointer<Double>, w: UnsafeMutablePointer<Double>) {
        guard cols > 0 else { return }
        let panel = panelRows(cols: cols)
        if VectorExp.useAVX2 {
            tessera_gram_gemv_avx2(a, ld, rows, cols, panel, y, scratch, w)
        } else {
            tessera_gram_gemv_portable(a, ld, rows, cols, panel, y, scratch, w)
        }
    }

    /// W = AᵀA·Y for a row-major tile A (rows × cols, row r at a + r·ld) and a block Y (cols × m,
    /// column-major, m ≤ `maxBlockColumns`): for each row t_k = a_r·y_k, then w_k += t_k·a_r
    /// while the row is in L1 (AVX2+FMA where the CPU has it). `w` (cols × m) is overwritten;
    /// the summation order depends on (rows, cols) alone. Cost 4·rows·cols·m flops.
    public static func applyRows(_ a: UnsafePointer<Double>, ld: Int, rows: Int, cols: Int, columns m: Int,
                                 y: UnsafePointer<Double>, w: UnsafeMutablePointer<Double>) {
        guard cols > 0, m > 0 else { return }
        precondition(m <= maxBlockColumns, "applyRows takes at most \(maxBlockColumns) columns")
        if VectorExp.useAVX2 {
            tessera_gram_rows_gemm_avx2(a, ld, rows, cols, m, y, w)
        } else {
            tessera_gram_rows_gemm_portable(a, ld, rows, cols, m, y, w)
        }
    }

    /// For a row-major tile A (rows × cols, row r at a + r·ld): z = Aᵀ(b − A·x) and the return
    /// value ‖b − A·x‖², each row read from memory once (t_r = b_r − a_r·x, then z += t_r·a_r
    /// while the row is in L1; AVX2+FMA where the CPU has it). The least-squares gradient and
    /// residual in one pass. `z` (cols) is overwritten; b holds the tile's rows entries.
    public static func residualGradientRows(_ a: UnsafePointer<Double>, ld: Int, rows: Int, cols: Int,
                                            x: UnsafePointer<Double>, b: UnsafePointer<Double>,
                                            z: UnsafeMutablePointer<Double>) -> Double {
        guard cols > 0 else { return (0..<rows).reduce(0) { $0 + b[$1] * b[$1] } }
        var squares = 0.0
        if VectorExp.useAVX2 {
            tessera_residual_gradient_rows_avx2(a, ld, rows, cols, x, b, z, &squares)
        } else {
            tessera_residual_gradient_rows_portable(a, ld, rows, cols, x, b, z, &squares)
        }
        return squares
    }
}
