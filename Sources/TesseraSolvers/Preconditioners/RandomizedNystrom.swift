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
/// n·k·(d + k), which is why that is the default — plus n·k² for C⁻¹; memory 2·n·k. Throws
/// `interrupted` on a stop signal, `numerical` if ΩᵀY stays singular after shifting.
public enum RandomizedNystrom {
    public static func factor(kernel: KernelOperator, rank requested: Int, seed: UInt64) throws(TesseraError) -> LowRankFactor {
        let n = kernel.order, engine = kernel.engine, layout = kernel.matrix.layout
        let k = max(1, min(requested, n))
        let rng = Philox4x32(seed: seed)
        let scale = 1 / Double(n).squareRoot()
        let omega = try ColumnBlock(rows: n, cols: k, engine: engine, zeroed: false, alignedWith: layout)
        try omega.fillByRowBlocks(name: "nystrom-test-matrix", engine: engine) { i, c in
            scale * rng.normal(index: UInt64(c) * UInt64(n) + UInt64(i), stream: PhiloxStream.nystromTestMatrix)
        }
        try Interruption.check()
        let y = try ColumnBlock(rows: n, cols: k, engine: engine, alignedWith: layout)
        try kernel.matrix.kernelMultiply(block: omega, columns: k, into: y, engine: engine)
        try Interruption.check()
        var core = try omega.transposedTimes(y, columns: k)                 // ΩᵀY, k × k
        for j in 0..<k { for i in 0..<j { let s = (core[i + j * k] + core[j + i * k]) / 2; core[i + j * k] = s; core[j + i * k] = s } }
        let c = try RandomlyPivotedCholesky.robustCholesky(core, order: k)
        try y.solveRightUpper(columns: 0..<k, by: c, name: "nystrom-solve", engine: engine)
        let norms = y.sumOfSquares(columns: 0..<k)
        let trace = try kernel.diagonal().reduce(0, +)
        return LowRankFactor(block: y, rank: k, order: n, residualTrace: max(0, trace - norms))
    }
}
