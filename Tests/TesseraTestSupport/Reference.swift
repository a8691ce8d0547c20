import TesseraCore

/// Shared test references (used by several test targets): small dense matrices, column-major,
/// from Philox generators, and comparisons computed with plain loops in a fixed order.
public enum Reference {
    /// Entry (r, c) of an n × `cols` matrix of standard normals (Philox `seed`, stream 7).
    public static func randomMatrix(rows: Int, cols: Int, seed: UInt64) -> @Sendable (Int, Int) -> Double {
        let g = Philox4x32(seed: seed)
        return { r, c in g.normal(index: UInt64(r * cols + c), stream: 7) }
    }

    /// Entry (r, c) of a matrix whose rows point in random directions with norm `norm`:
    /// norm · z_{r,c}/‖z_r‖ for standard normals z from Philox (`seed`, stream 0) — the attention
    /// tests' A, whose row norms bound exp(AAᵀ)'s entries.
    public static func rowsOfNorm(_ norm: Double, cols d: Int, seed: UInt64) -> @Sendable (Int, Int) -> Double {
        let g = Philox4x32(seed: seed)
        return { r, c in
            var s = 0.0
            for k in 0..<d { let v = g.normal(index: UInt64(r * d + k), stream: 0); s += v * v }
            return norm * g.normal(index: UInt64(r * d + c), stream: 0) / s.squareRoot()
        }
    }

    /// `count` standard normals from Philox (`seed`, `stream`), index 0 ..< count.
    public static func randomVector(count: Int, seed: UInt64, stream: UInt64 = 8) -> [Double] {
        let g = Philox4x32(seed: seed)
        return (0..<count).map { g.normal(index: UInt64($0), stream: stream) }
    }

    /// The rows × cols matrix of `value`, column-major.
    public static func dense(rows: Int, cols: Int, _ value: (Int, Int) -> Double) -> [Double] {
        var a = [Double](repeating: 0, count: rows * cols)
        for j in 0..<cols { for i in 0..<rows { a[i + j * rows] = value(i, j) } }
        return a
    }

    /// max |xᵢ − yᵢ| / max |yᵢ| (y the reference).
    public static func maxRelativeDifference(_ x: [Double], _ y: [Double]) -> Double {
        let scale = y.map(abs).max() ?? 0
        let diff = zip(x, y).map { abs($0 - $1) }.max() ?? 0
        return diff / max(scale, .leastNormalMagnitude)
    }
}
