import TesseraCore
import TesseraRuntime

/// Where a matrix produced block of rows by block of rows goes (`GeneratedMatrix.streamProduct`):
/// a `TiledMatrix` being filled, or a `.npy` file being written (`NpyRowSink` in `TesseraIO`).
///
/// `write(rows:rowMajor:)` receives rows r₀..<r₁ of an n×d matrix, row-major (entry (r, c) at
/// (r − r₀)·d + c), and may be called from several tasks at once for disjoint rows; `handles`
/// names the data a write of those rows touches, so that the task graph orders writes that share
/// storage (a tile holding rows of two blocks) and places the task beside it. A sink with no
/// shared storage (a file written with `pwrite` at the rows' offset) returns none, the default. Errors are
/// `TesseraError`s (an `io` error for a file); the first one ends the pass.
public protocol RowBlockSink: Sendable {
    /// The handles a write of `rows` touches.
    func handles(forRows rows: Range<Int>) -> [DataHandle]

    /// Stores rows `rows` given row-major (rows.count × d doubles at `values`).
    func write(rows: Range<Int>, rowMajor values: UnsafePointer<Double>) throws(TesseraError)
}

extension RowBlockSink {
    /// None: a sink whose writes share no storage.
    public func handles(forRows rows: Range<Int>) -> [DataHandle] { [] }
}
