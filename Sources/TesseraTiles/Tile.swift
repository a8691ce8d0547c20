import TesseraCore
import TesseraKernels
import TesseraPlatform

/// A non-owning view of a dense `rows × cols` block of doubles with leading dimension `ld`, in
/// either storage order (`StorageOrder`): column-major (Tessera's own tiles, Fortran-order input)
/// or row-major (a C-order `.npy` or NumPy array used in place). It is how tile kernels see
/// memory; `operand(transposed:)` gives BLAS the block or its transpose with the right flag, so
/// every kernel takes both orders without a copy.
///
/// Invariant (why `@unchecked Sendable` is sound): the memory is owned by a `PlacedMemory` (or,
/// for a view, by the owner its `MatrixTile` retains) that outlives every task of the graph
/// using the view, and the task graph lets at most one task write a tile at a time (each tile
/// has one `DataHandle`, and writers are ordered by it). Views of memory Tessera does not own are
/// never written.
public struct Tile: @unchecked Sendable {
    public let base: UnsafeMutablePointer<Double>
    public let rows: Int
    public let cols: Int
    public let ld: Int
    public let order: StorageOrder

    public init(base: UnsafeMutablePointer<Double>, rows: Int, cols: Int, ld: Int, order: StorageOrder = .columnMajor) {
        self.base = base
        self.rows = rows
        self.cols = cols
        self.ld = ld
        self.order = order
    }

    /// Element (i, j) of the tile.
    @inlinable public subscript(i: Int, j: Int) -> Double {
        get { order == .columnMajor ? base[i + j * ld] : base[i * ld + j] }
        nonmutating set {
            if order == .columnMajor { base[i + j * ld] = newValue } else { base[i * ld + j] = newValue }
        }
    }

    public var readOnly: UnsafePointer<Double> { UnsafePointer(base) }

    /// Rows `range` of the tile, as a tile (no copy).
    public func rows(_ range: Range<Int>) -> Tile {
        let offset = order == .columnMajor ? range.lowerBound : range.lowerBound * ld
        return Tile(base: base + offset, rows: range.count, cols: cols, ld: ld, order: order)
    }

    /// Columns `range` of the tile, as a tile (no copy).
    public func columns(_ range: Range<Int>) -> Tile {
        let offset = order == .columnMajor ? range.lowerBound * ld : range.lowerBound
        return Tile(base: base + offset, rows: rows, cols: range.count, ld: ld, order: order)
    }

    /// The BLAS operand for op(T) = T (`transposed` false) or Tᵀ: the flag, the pointer and the
    /// leading dimension. A row-major T is stored as the column-major Tᵀ, so its flag is flipped.
    public func operand(transposed: Bool) -> (flag: BLAS.Transpose, pointer: UnsafePointer<Double>, ld: Int) {
        let flip = order == .rowMajor
        return (transposed != flip ? .transpose : .none, readOnly, ld)
    }

    /// y ← α·op(T)·x + β·y, op(T) = T (`transposed` false: x has `cols` entries, y `rows`) or Tᵀ.
    public func gemv(transposed: Bool, alpha: Double = 1, x: UnsafePointer<Double>, beta: Double,
                     y: UnsafeMutablePointer<Double>) {
        let (storedRows, storedCols) = order == .columnMajor ? (rows, cols) : (cols, rows)
        let (flag, a, lda) = operand(transposed: transposed)
        BLAS.gemv(flag, m: storedRows, n: storedCols, alpha: alpha, a: a, lda: lda, x: x, beta: beta, y: y)
    }

    /// Copies the tile into `destination` as a column-major block (leading dimension `ldd` ≥ rows).
    public func copyColumnMajor(into destination: UnsafeMutablePointer<Double>, ld ldd: Int) {
        if order == .columnMajor {
            for j in 0..<cols { (destination + j * ldd).update(from: base + j * ld, count: rows) }
        } else {
            LayoutCopy.rowsToColumns(readOnly, ld: ld, rows: rows, cols: cols, into: destination, ld: ldd)
        }
    }

    /// Copies the tile into `destination` as a row-major block (leading dimension `ldd` ≥ cols).
    public func copyRowMajor(into destination: UnsafeMutablePointer<Double>, ld ldd: Int) {
        if order == .rowMajor {
            for i in 0..<rows { (destination + i * ldd).update(from: base + i * ld, count: cols) }
        } else {
            for j in 0..<cols { let col = base + j * ld; for i in 0..<rows { destination[i * ldd + j] = col[i] } }
        }
    }

    /// Whether any entry is NaN or ±Inf (one read of each entry).
    public var hasNonFinite: Bool {
        order == .columnMajor ? NonFiniteScan.any(readOnly, run: rows, runs: cols, stride: ld)
                              : NonFiniteScan.any(readOnly, run: cols, runs: rows, stride: ld)
    }

    /// The first NaN/±Inf in row order (row by row) or column order, as (row, column).
    public func firstNonFinite(rowOrder: Bool) -> (row: Int, col: Int)? {
        if rowOrder {
            for r in 0..<rows { for j in 0..<cols where !self[r, j].isFinite { return (r, j) } }
        } else {
            for j in 0..<cols { for r in 0..<rows where !self[r, j].isFinite { return (r, j) } }
        }
        return nil
    }
}

extension Tile {
    /// max |t_ij| (0 for an empty tile): one read of each entry.
    public var largestMagnitude: Double {
        let (run, runs) = order == .columnMajor ? (rows, cols) : (cols, rows)
        var m = 0.0
        for r in 0..<runs {
            let start = readOnly + r * ld
            for k in 0..<run { m = Swift.max(m, abs(start[k])) }
        }
        return m
    }

    /// Every entry times 2^s (`PowerOfTwo.scale`): exact while the results stay normal numbers.
    public func scaleInPlace(byPowerOfTwo s: Int) {
        let (run, runs) = order == .columnMajor ? (rows, cols) : (cols, rows)
        for r in 0..<runs {
            let start = base + r * ld
            for k in 0..<run { start[k] = PowerOfTwo.scale(start[k], by: s) }
        }
    }
}
