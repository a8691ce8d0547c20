import TesseraCore

/// An n×d matrix that is never stored: entry (r, c) is `value(r, c)`, computed when the block of
/// rows holding it is needed, and thrown away after. What is kept is the recipe (a counter-based
/// random stream, for the problem generator), so a 36 GB matrix costs nothing until an operation
/// runs, and each operation holds one block per worker (`gram`, `streamProduct`).
///
/// Rows are cut into canonical blocks of `blockRows` rows, chosen from (n, d) alone (about
/// `targetBlockBytes` a block, at least `minimumBlockRows` rows, a multiple of 8), never from the
/// thread count, the tile size or the machine: every reduction over the blocks adds in the same
/// order, so results have the same bits everywhere. A block is materialized row-major (entry
/// (r, c) of rows r₀..<r₁ at (r − r₀)·d + c), which is the column-major d×b matrix G_blkᵀ that
/// BLAS takes as it is. Cost of materializing: n·d calls of `value` per pass.
/// `init` throws `invalidArgument` for an empty shape or a block BLAS cannot index.
public struct GeneratedMatrix: Sendable {
    public let rows: Int
    public let cols: Int
    /// Rows per canonical block (the last block may be shorter).
    public let blockRows: Int
    let value: @Sendable (_ row: Int, _ col: Int) -> Double

    /// Bytes a canonical block aims at: large enough for BLAS-3 speed in the per-block SYRK and
    /// GEMM, small enough that one block per worker is little memory.
    public static let targetBlockBytes = 4 << 20

    /// The fewest rows of a block (when d is so large that the target would give fewer).
    public static let minimumBlockRows = 64

    public init(rows: Int, cols: Int, value: @escaping @Sendable (_ row: Int, _ col: Int) -> Double) throws(TesseraError) {
        guard rows >= 1, cols >= 1 else {
            throw .invalidArgument("matrix shape \(rows)×\(cols) is empty; both dimensions must be at least 1")
        }
        _ = try Checked.multiply(rows, cols, "a matrix of \(rows) × \(cols)")
        let b = Self.canonicalBlockRows(rows: rows, cols: cols)
        guard try Checked.multiply(b, cols, "a block of \(b) × \(cols)") <= Int(Int32.max) else {
            throw .invalidArgument("a block of \(b)×\(cols) has more elements than BLAS can index; use fewer columns")
        }
        self.rows = rows
        self.cols = cols
        self.blockRows = b
        self.value = value
    }

    /// The canonical block height for an n×d matrix: ≈ `targetBlockBytes`, at least
    /// `minimumBlockRows`, rounded up to a multiple of 8, at most n.
    public static func canonicalBlockRows(rows n: Int, cols d: Int) -> Int {
        let bySize = max(minimumBlockRows, targetBlockBytes / (8 * max(d, 1)))
        return max(1, min(n, (bySize + 7) / 8 * 8))
    }

    /// Number of blocks, ⌈n / blockRows⌉.
    public var blockCount: Int { Checked.ceilDiv(rows, blockRows) }

    /// The rows of block k.
    public func blockRange(_ k: Int) -> Range<Int> {
        let start = k * blockRows
        return start..<min(start + blockRows, rows)
    }

    /// Writes rows `range` row-major into `out` (range.count × d doubles).
    func fill(_ range: Range<Int>, into out: UnsafeMutablePointer<Double>) {
        let d = cols
        var k = 0
        for r in range {
            for c in 0..<d {
                out[k] = value(r, c)
                k += 1
            }
        }
    }
}
