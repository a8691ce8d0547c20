import COpenBLAS
import TesseraCore

/// Thin, typed wrappers over the CBLAS routines Tessera's tile kernels use. Matrices are
/// column-major with a leading dimension; dimensions are `Int` and narrowed to the 32-bit BLAS
/// integer here (tile layouts guarantee they fit, and a violation traps as a programmer error).
/// Each call runs on the calling thread with OpenBLAS's own thread count (1 inside the runtime).
public enum BLAS {
    public enum Transpose: Sendable { case none, transpose }
    public enum Triangle: Sendable { case upper, lower }

    @inline(__always) static func i32(_ v: Int) -> Int32 {
        precondition(v >= 0 && v <= Int(Int32.max), "BLAS dimension \(v) out of 32-bit range")
        return Int32(v)
    }
    @inline(__always) static func cblas(_ t: Transpose) -> CBLAS_TRANSPOSE {
        t == .none ? CblasNoTrans : CblasTrans
    }
    @inline(__always) static func cblas(_ t: Triangle) -> CBLAS_UPLO {
        t == .upper ? CblasUpper : CblasLower
    }

    /// C ← α·op(A)·op(B) + β·C, C ∈ ℝ^{m×n}, k the inner dimension. Cost 2mnk.
    public static func gemm(_ ta: Transpose, _ tb: Transpose, m: Int, n: Int, k: Int,
                            alpha: Double, a: UnsafePointer<Double>, lda: Int,
                            b: UnsafePointer<Double>, ldb: Int,
                            beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) {
        cblas_dgemm(CblasColMajor, cblas(ta), cblas(tb), i32(m), i32(n), i32(k),
                    alpha, a, i32(lda), b, i32(ldb), beta, c, i32(ldc))
    }

    /// One triangle of C ← α·op(A)ᵀ-product + β·C: with `.transpose`, C = α·AᵀA + βC for
    /// A ∈ ℝ^{k×n}; with `.none`, C = α·AAᵀ + βC for A ∈ ℝ^{n×k}. Cost n²k.
    public static func syrk(_ uplo: Triangle, _ trans: Transpose, n: Int, k: Int,
                            alpha: Double, a: UnsafePointer<Double>, lda: Int,
                            beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) {
        cblas_dsyrk(CblasColMajor, cblas(uplo), cblas(trans), i32(n), i32(k),
                    alpha, a, i32(lda), beta, c, i32(ldc))
    }

    /// `gemm` in float32 (SGEMM): twice the flop rate of DGEMM on the same cores, with float32's
    /// unit roundoff 6e-8 (the mixed-precision Gram preconditioner).
    public static func gemm(_ ta: Transpose, _ tb: Transpose, m: Int, n: Int, k: Int,
                            alpha: Float, a: UnsafePointer<Float>, lda: Int,
                            b: UnsafePointer<Float>, ldb: Int,
                            beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasColMajor, cblas(ta), cblas(tb), i32(m), i32(n), i32(k),
                    alpha, a, i32(lda), b, i32(ldb), beta, c, i32(ldc))
    }

    /// `syrk` in float32 (SSYRK).
    public static func syrk(_ uplo: Triangle, _ trans: Transpose, n: Int, k: Int,
                            alpha: Float, a: UnsafePointer<Float>, lda: Int,
                            beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_ssyrk(CblasColMajor, cblas(uplo), cblas(trans), i32(n), i32(k),
                    alpha, a, i32(lda), beta, c, i32(ldc))
    }

    /// y ← α·op(A)·x + β·y, A ∈ ℝ^{m×n}. Cost 2mn.
    public static func gemv(_ t: Transpose, m: Int, n: Int, alpha: Double,
                            a: UnsafePointer<Double>, lda: Int, x: UnsafePointer<Double>,
                            beta: Double, y: UnsafeMutablePointer<Double>) {
        cblas_dgemv(CblasColMajor, cblas(t), i32(m), i32(n), alpha, a, i32(lda), x, 1, beta, y, 1)
    }

    /// y ← α·x + y over `count` contiguous elements.
    public static func axpy(count: Int, alpha: Double, x: UnsafePointer<Double>, y: UnsafeMutablePointer<Double>) {
        cblas_daxpy(i32(count), alpha, x, 1, y, 1)
    }

    /// y ← α·x + y with strides (e.g. a row of a column-major matrix has stride = ld).
    public static func axpy(count: Int, alpha: Double, x: UnsafePointer<Double>, strideX: Int,
                            y: UnsafeMutablePointer<Double>, strideY: Int) {
        cblas_daxpy(i32(count), alpha, x, i32(strideX), y, i32(strideY))
    }

    /// B ← α·op(T)⁻¹·B (`left`) or α·B·op(T)⁻¹ (right) for triangular T ∈ ℝ^{k×k}, B ∈ ℝ^{m×n}.
    /// Cost m·n·k (k the triangle's order).
    public static func trsm(left: Bool, _ uplo: Triangle, _ trans: Transpose, m: Int, n: Int, alpha: Double,
                            t: UnsafePointer<Double>, ldt: Int, b: UnsafeMutablePointer<Double>, ldb: Int) {
        cblas_dtrsm(CblasColMajor, left ? CblasLeft : CblasRight, cblas(uplo), cblas(trans), CblasNonUnit,
                    i32(m), i32(n), alpha, t, i32(ldt), b, i32(ldb))
    }

    /// x ← op(T)⁻¹·x for triangular T ∈ ℝ^{n×n} (no singularity check: see `LAPACK.trtrs`). Cost n².
    public static func trsv(_ uplo: Triangle, _ trans: Transpose, n: Int, t: UnsafePointer<Double>, ldt: Int,
                            x: UnsafeMutablePointer<Double>) {
        cblas_dtrsv(CblasColMajor, cblas(uplo), cblas(trans), CblasNonUnit, i32(n), t, i32(ldt), x, 1)
    }

    /// x ← op(T)·x for triangular T ∈ ℝ^{n×n}. Cost n².
    public static func trmv(_ uplo: Triangle, _ trans: Transpose, n: Int, t: UnsafePointer<Double>, ldt: Int,
                            x: UnsafeMutablePointer<Double>) {
        cblas_dtrmv(CblasColMajor, cblas(uplo), cblas(trans), CblasNonUnit, i32(n), t, i32(ldt), x, 1)
    }

    /// x ← α·x over `count` contiguous elements.
    public static func scal(count: Int, alpha: Double, x: UnsafeMutablePointer<Double>) {
        cblas_dscal(i32(count), alpha, x, 1)
    }

    /// xᵀy over `count` contiguous elements.
    public static func dot(count: Int, _ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>) -> Double {
        cblas_ddot(i32(count), x, 1, y, 1)
    }

    /// ‖x‖₂ over `count` contiguous elements (scaled, no overflow).
    public static func nrm2(count: Int, _ x: UnsafePointer<Double>) -> Double {
        cblas_dnrm2(i32(count), x, 1)
    }
}
