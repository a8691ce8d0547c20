import CVectorMath

/// Both halves of a symmetric product from one stored block: for a block K_IJ (rows × cols,
/// column-major, leading dimension ld) of a symmetric K,
///     y_I += K_IJ·x_J   and (when `transposedToo`)   y_J += K_IJᵀ·x_I,
/// reading each element of K_IJ once — the product over the upper triangle's blocks then costs
/// one pass over n²/2 stored numbers. AVX2+FMA where the CPU has it, else plain C; the summation
/// order depends on the block's shape only. Cost 4·rows·cols flops, rows·cols loads.
public enum SymmetricBlockProduct {
    public static func apply(_ k: UnsafePointer<Double>, ld: Int, rows: Int, cols: Int,
                             xRows: UnsafePointer<Double>, xCols: UnsafePointer<Double>,
                             yRows: UnsafeMutablePointer<Double>, yCols: UnsafeMutablePointer<Double>, transposedToo: Bool) {
        guard rows > 0, cols > 0 else { return }
        if VectorExp.useAVX2 {
            tessera_symmetric_block_gemv_avx2(k, ld, rows, cols, xRows, xCols, yRows, yCols, transposedToo ? 1 : 0)
        } else {
            tessera_symmetric_block_gemv_portable(k, ld, rows, cols, xRows, xCols, yRows, yCols, transposedToo ? 1 : 0)
        }
    }
}
