import TesseraCore
import TesseraTiles

/// The passes over a tiled A the solvers use, each one task graph over A's tiles:
/// Ax (2nd flops), Aᵀu (2nd), AᵀA·y fused (4nd, one pass). Vectors of length n travel as
/// plain arrays (8n bytes, small next to A's 8nd).
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

    /// (AᵀA)^j·y by j fused passes.
    public func applyGramPower(_ y: [Double], _ j: Int) throws(TesseraError) -> [Double] {
        var v = y
        for _ in 0..<j { v = try applyGram(v) }
        return v
    }
}
