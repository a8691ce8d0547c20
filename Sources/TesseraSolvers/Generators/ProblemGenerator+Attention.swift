import TesseraCore
import TesseraTiles

extension ProblemGenerator {
    /// A ∈ ℝ^{n×d} whose rows have norm `rowNorm` in Philox-random directions: entry (r, c) is
    /// rowNorm·g(r·d + c)/‖g(r·d ..< r·d + d)‖ for the normal stream `stream` of `seed` (each row's
    /// length drawn once). The attention test problems of the CLI, the demo and the benchmarks.
    /// Cost: 2n·d normals; memory: A (n·d) and the n lengths. Throws `invalidArgument` for a
    /// row norm that is not finite and positive, and what `TileLayout` throws.
    public static func attentionMatrix(rows n: Int, cols d: Int, rowNorm: Double = 1, seed: UInt64, stream: UInt64,
                                       engine: Engine, tileRows: Int? = nil) throws(TesseraError) -> TiledMatrix {
        guard rowNorm > 0, rowNorm.isFinite else { throw .invalidArgument("--row-norm must be positive (got \(rowNorm))") }
        let rng = Philox4x32(seed: seed)
        let layout = try TileLayout(rows: n, cols: d, tileRows: tileRows ?? engine.recommendedTileRows(rows: n, cols: d).tileRows)
        let lengths = (0..<n).map { r in
            (0..<d).reduce(0.0) { s, k in let v = rng.normal(index: UInt64(r * d + k), stream: stream); return s + v * v }.squareRoot()
        }
        return try TiledMatrix(layout: layout, engine: engine) { r, c in
            rowNorm * rng.normal(index: UInt64(r * d + c), stream: stream) / lengths[r]
        }
    }
}
