import Tessera

/// Small dense references, column-major, computed with plain loops in a fixed order.
enum Reference {
    static func randomMatrix(rows: Int, cols: Int, seed: UInt64) -> @Sendable (Int, Int) -> Double {
        let g = Philox4x32(seed: seed)
        return { r, c in g.normal(index: UInt64(r * cols + c), stream: 7) }
    }

    static func dense(rows: Int, cols: Int, _ value: (Int, Int) -> Double) -> [Double] {
        var a = [Double](repeating: 0, count: rows * cols)
        for j in 0..<cols { for i in 0..<rows { a[i + j * rows] = value(i, j) } }
        return a
    }

    static func maxRelativeDifference(_ x: [Double], _ y: [Double]) -> Double {
        let scale = y.map(abs).max() ?? 0
        let diff = zip(x, y).map { abs($0 - $1) }.max() ?? 0
        return diff / max(scale, .leastNormalMagnitude)
    }
}
