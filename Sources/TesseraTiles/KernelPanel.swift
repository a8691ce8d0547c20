import TesseraKernels

/// One panel of the attention kernel, C = exp(A_P·B_Qᵀ) (entrywise exp), for P rows of A and Q
/// rows of B, both with `depth` columns: one GEMM (2·P·Q·depth flops) and P·Q exps, no memory of
/// its own. Every kernel product, stored kernel and column of K in Tessera makes its panels here,
/// so they all have the same bits for the same entries (`VectorExp`'s result for an element never
/// depends on its position, so exp by whole panel or by column agree). Does not throw: the caller
/// has checked that exp cannot overflow (`TiledMatrix.checkKernelOverflow`).
public enum KernelPanel {
    /// C (rows × cols, leading dimension ldc) = exp(A·Bᵀ) for A (rows × depth, lda) and B (cols ×
    /// depth, ldb), all column-major.
    public static func compute(a: UnsafePointer<Double>, lda: Int, rows: Int,
                               b: UnsafePointer<Double>, ldb: Int, cols: Int, depth: Int,
                               into c: UnsafeMutablePointer<Double>, ldc: Int) {
        guard rows > 0, cols > 0 else { return }
        BLAS.gemm(.none, .transpose, m: rows, n: cols, k: depth, alpha: 1, a: a, lda: lda,
                  b: b, ldb: ldb, beta: 0, c: c, ldc: ldc)
        if ldc == rows {
            VectorExp.applyInPlace(c, count: rows * cols)
        } else {
            for col in 0..<cols { VectorExp.applyInPlace(c + col * ldc, count: rows) }
        }
    }
}
