import TesseraPlatform

/// A non-owning view of a column-major block of doubles: `rows × cols` with leading dimension
/// `ld`. It is how tile kernels see memory.
///
/// Invariant (why `@unchecked Sendable` is sound): the memory is owned by a `PlacedMemory` that
/// outlives every task of the graph using the view, and the task graph lets at most one task
/// write a tile at a time (each tile has one `DataHandle`, and writers are ordered by it).
public struct Tile: @unchecked Sendable {
    public let base: UnsafeMutablePointer<Double>
    public let rows: Int
    public let cols: Int
    public let ld: Int

    public init(base: UnsafeMutablePointer<Double>, rows: Int, cols: Int, ld: Int) {
        self.base = base
        self.rows = rows
        self.cols = cols
        self.ld = ld
    }

    /// Element (i, j) of the tile.
    @inlinable public subscript(i: Int, j: Int) -> Double {
        get { base[i + j * ld] }
        nonmutating set { base[i + j * ld] = newValue }
    }

    public var readOnly: UnsafePointer<Double> { UnsafePointer(base) }
}
