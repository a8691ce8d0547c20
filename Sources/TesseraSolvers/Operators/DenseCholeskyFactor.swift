import TesseraCore
import TesseraTiles

/// K + λI = UᵀU formed whole and factored, for the direct attention method: K[:, 0..<n] tile by
/// tile (one GEMM + exp per tile, n²d flops and n² exps), λ added on the diagonal, then
/// `TiledCholesky` on the task graph (n³/3 flops; the same bits for any number of workers).
/// Memory n² doubles. `solve` costs two triangular solves, 2n² flops.
public struct DenseCholeskyFactor: Sendable {
    /// U in the upper triangle of an n × n block.
    let factor: ColumnBlock
    public let order: Int

    /// Factors K + λI of `kernel`. Throws `numerical` when K + λI is not numerically positive
    /// definite, with advice; allocation errors as they come.
    public init(kernel: KernelOperator) throws(TesseraError) {
        let n = kernel.order
        let k = try ColumnBlock(rows: n, cols: n, engine: kernel.engine, alignedWith: kernel.matrix.layout)
        try kernel.fillColumns(Array(0..<n), into: k)
        k.addToDiagonal(kernel.ridge, order: n)
        do {
            try k.factorCholesky(order: n, engine: kernel.engine)
        } catch {
            guard case .numerical = error else { throw error }
            // A singular K + λI (duplicated rows with λ = 0) is the input's doing: exit 2, C's
            // TESSERA_NUMERICAL, Python's LinAlgError, with what to change.
            throw .rankDeficient("K + λI is not numerically positive definite (λ = \(kernel.ridge); duplicated rows?); add a ridge, e.g. --ridge 1e-6, or use --method pcg")
        }
        factor = k
        order = n
    }

    /// x = (K + λI)⁻¹b = U⁻¹U⁻ᵀb. Throws `invalidArgument` when b's length is not n.
    public func solve(_ b: [Double]) throws(TesseraError) -> [Double] {
        try factor.solveUpperNormal(b, order: order)
    }
}

extension KernelOperator {
    /// K + λI formed and factored whole (`DenseCholeskyFactor`).
    public func denseCholesky() throws(TesseraError) -> DenseCholeskyFactor {
        try DenseCholeskyFactor(kernel: self)
    }
}
