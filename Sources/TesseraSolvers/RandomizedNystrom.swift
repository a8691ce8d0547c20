import TesseraCore
import TesseraKernels
import TesseraTiles

/// The randomized Nyström approximation K ≈ F·Fᵀ (Frangella, Tropp, Udell 2023, "Randomized
/// Nyström preconditioning"): a Gaussian test matrix Ω ∈ ℝ^{n×k} (entries N(0, 1/n) from
/// Philox, so the columns are nearly orthonormal), Y = KΩ by one block product over the
/// kernel's panels, the Cholesky factor C of ΩᵀY = CᵀC (a growing diagonal shift if it is
/// numerically singular), and F = Y·C⁻¹, so that FFᵀ = Y(ΩᵀKΩ)⁻¹Yᵀ. The residual trace
/// trace(K) − ‖F‖²_F sets the Woodbury shift as for randomly pivoted Cholesky.
///
/// Cost 2n²(d + k) flops and n² exps for KΩ — far more than randomly pivoted Cholesky's
/// n·k·(d + k), which is why that is the default — plus n·k² for C⁻¹; memory 2·n·k.
public enum RandomizedNystrom {
    public static func factor(kernel: KernelOperator, rank requested: Int, seed: UInt64) throws(TesseraError) -> RandomlyPivotedCholesky {
        let n = kernel.order, engine = kernel.engine
        let k = max(1, min(requested, n))
        let rng = Philox4x32(seed: seed)
        let scale = 1 / Double(n).squareRoot()
        let omega = try SharedBlock(rows: n, cols: k, engine: engine, zeroed: false)
        try engine.forEachBlock(of: n, size: RandomlyPivotedCholesky.rowBlock, name: "nystrom-test-matrix") { r0, rows in
            for c in 0..<k {
                for i in r0..<(r0 + rows) {
                    omega.pointer[i + c * n] = scale * rng.normal(index: UInt64(c) * UInt64(n) + UInt64(i), stream: 7_000)
                }
            }
        }
        try Interruption.check()
        let y = try SharedBlock(rows: n, cols: k, engine: engine)
        try kernel.matrix.kernelMultiply(block: omega, columns: k, into: y, engine: engine)
        try Interruption.check()
        var core = [Double](repeating: 0, count: k * k)                 // ΩᵀY, k × k
        BLAS.gemm(.transpose, .none, m: k, n: k, k: n, alpha: 1, a: omega.pointer, lda: n,
                  b: y.pointer, ldb: n, beta: 0, c: &core, ldc: k)
        for j in 0..<k { for i in 0..<j { let s = (core[i + j * k] + core[j + i * k]) / 2; core[i + j * k] = s; core[j + i * k] = s } }
        let c = try SharedBlock(RandomlyPivotedCholesky.robustCholesky(core, order: k), engine: engine)
        try engine.forEachBlock(of: n, size: RandomlyPivotedCholesky.rowBlock, name: "nystrom-solve") { r0, rows in
            BLAS.trsm(left: false, .upper, .none, m: rows, n: k, alpha: 1, t: c.pointer, ldt: k, b: y.pointer + r0, ldb: n)
        }
        var norms = 0.0
        for i in 0..<(n * k) { norms += y.pointer[i] * y.pointer[i] }
        let trace = kernel.diagonal().reduce(0, +)
        return RandomlyPivotedCholesky(block: y, rank: k, order: n, residualTrace: max(0, trace - norms))
    }
}
