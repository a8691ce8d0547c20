import TesseraCore
import TesseraTiles

/// The passes over a tiled A the solvers use, each one task graph over A's tiles:
/// Ax (2nd flops), Aᵀu (2nd), AᵀA·y fused (4nd, one pass), Aᵀ(b − Ax) with ‖b − Ax‖ fused (4nd,
/// one pass), and their block forms. Vectors of
/// length n travel as plain arrays (8n bytes, small next to A's 8nd), held by rows: in a
/// distributed engine only this process's rows are meaningful, the rest zero (`heldRows`), and
/// their norms go through `rowNorm` (`TiledMatrix+RowVectors.swift`). Throws what the tile
/// layer throws (`.interrupted`, allocation failures).
public struct TallOperator: Sendable {
    public let matrix: TiledMatrix
    public let engine: Engine

    public var rows: Int { matrix.rows }
    public var cols: Int { matrix.cols }

    public init(matrix: TiledMatrix, engine: Engine) {
        self.matrix = matrix
        self.engine = engine
    }

    public func apply(_ x: [Double]) throws(TesseraError) -> [Double] { try matrix.multiply(x, engine: engine).toArray() }

    public func applyTransposed(_ u: [Double]) throws(TesseraError) -> [Double] {
        try matrix.transposeMultiply(TiledVector(u, layout: matrix.layout, engine: engine), engine: engine)
    }

    public func applyGram(_ y: [Double]) throws(TesseraError) -> [Double] { try matrix.gramMultiply(y, engine: engine) }

    /// ‖u‖₂ for u ∈ ℝⁿ held by rows, the same bits on any process count (`rowVectorNorm`).
    public func rowNorm(_ u: [Double]) throws(TesseraError) -> Double { try matrix.rowVectorNorm(u, engine: engine) }

    /// b ∈ ℝⁿ as this process holds it: b itself alone, its owned rows (zeros elsewhere) distributed.
    public func heldRows(of b: [Double]) -> [Double] { matrix.restrictToHeldRows(b, engine: engine) }

    /// (AᵀA)^j·y by j fused passes.
    public func applyGramPower(_ y: [Double], _ j: Int) throws(TesseraError) -> [Double] {
        var v = y
        for _ in 0..<j { v = try applyGram(v) }
        return v
    }

    /// AᵀA·Y for a block Y ∈ ℝ^{d×m} (column-major): one fused pass.
    public func applyGram(block y: [Double], columns m: Int) throws(TesseraError) -> [Double] {
        try matrix.gramMultiply(block: y, columns: m, engine: engine)
    }

    /// Aᵀ(b − Ax) and ‖b − Ax‖² for x ∈ ℝ^d, b ∈ ℝⁿ in one pass over A (the least-squares
    /// gradient and residual; `TiledMatrix.residualGradient`).
    public func residualGradient(_ x: [Double], _ b: [Double]) throws(TesseraError) -> (gradient: [Double], squaredNorm: Double) {
        let rhs = try SharedBlock(columns: [b], engine: engine)
        let pass = try matrix.residualGradient(block: x, rhs: rhs, columns: 1, engine: engine)
        return (pass.gradient, pass.squaredNorms.first ?? 0)
    }

    /// The symmetric operator AᵀA on ℝ^d.
    public var gram: GramOperator { GramOperator(op: self) }
}

/// G = AᵀA on ℝ^d, one fused pass over A per application (4nd flops).
public struct GramOperator: LinearOperator, Sendable {
    public let op: TallOperator
    public var dimension: Int { op.cols }
    public func apply(_ x: [Double]) throws(TesseraError) -> [Double] { try op.applyGram(x) }
}
