import TesseraKernels

/// One panel of the attention kernel, C = exp(A_P·B_Qᵀ) (entrywise exp), for P rows of A and Q
/// rows of B, both with `depth` columns: one GEMM (2·P·Q·depth flops) and P·Q exps, no memory of
/// its own. Every kernel product, stored kernel and column of K in Tessera makes its panels here,
/// so they all have the same bits for the same entries (`VectorExp`'s result for an element never
/// depends on its position, so exp by whole panel or by column agree). Does not throw: the caller
/// has checked that exp cannot overflow (`TiledMatrix.checkKernelOverflow`).
public enum KernelPanel {
    /// C (a.rows × b.rows, column-major, leading dimension ldc) = exp(A·Bᵀ) for tiles A and B
    /// with the same number of columns, each in either storage order.
    public static func compute(a: Tile, b: Tile, into c: UnsafeMutablePointer<Double>, ldc: Int) {
        let rows = a.rows, cols = b.rows
        guard rows > 0, cols > 0 else { return }
        let left = a.operand(transposed: false), right = b.operand(transposed: true)
        BLAS.gemm(left.flag, right.flag, m: rows, n: cols, k: a.cols, alpha: 1, a: left.pointer, lda: left.ld,
                  b: right.pointer, ldb: right.ld, beta: 0, c: c, ldc: ldc)
        if ldc == rows {
            VectorExp.applyInPlace(c, count: rows * cols)
        } else {
            for col in 0..<cols { VectorExp.applyInPlace(c + col * ldc, count: rows) }
        }
    }
}
