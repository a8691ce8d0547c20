import TesseraCore
import TesseraKernels
import TesseraRuntime

/// A read-only n × d matrix in memory Tessera does not own — a memory-mapped `.npy`, a caller's
/// buffer — in C (row-major) or Fortran (column-major) order, of any `ElementKind`.
///
/// Invariant (why `@unchecked Sendable` is sound): the owner keeps the memory alive and unchanged
/// until the graph that reads it has finished (`copyIn` returns only then).
public struct RawMatrix: @unchecked Sendable {
    public let base: UnsafeRawPointer
    public let kind: ElementKind
    public let rows: Int
    public let cols: Int
    public let rowMajor: Bool
    /// The leading dimension: the distance between consecutive rows (C order, ≥ cols) or
    /// columns (Fortran order, ≥ rows) in elements.
    public let ld: Int
    /// Called by each copy task with the global rows it has finished reading, so that the
    /// owner may drop those pages (a mapping's `MADV_DONTNEED`); nil: nothing to do.
    public let finishedRows: (@Sendable (Range<Int>) -> Void)?
    /// What keeps the memory alive, retained by a `TiledMatrix` that views it (the mapped
    /// file); nil when the caller guarantees the lifetime some other way.
    public let owner: (any AnyObject & Sendable)?

    public init(base: UnsafeRawPointer, kind: ElementKind, rows: Int, cols: Int, rowMajor: Bool,
                ld: Int? = nil, finishedRows: (@Sendable (Range<Int>) -> Void)? = nil,
                owner: (any AnyObject & Sendable)? = nil) {
        self.base = base
        self.kind = kind
        self.rows = rows
        self.cols = cols
        self.rowMajor = rowMajor
        self.ld = ld ?? (rowMajor ? cols : rows)
        self.finishedRows = finishedRows
        self.owner = owner
    }
}

extension TiledMatrix {
    /// Overwrites the matrix with `source` (same n × d), one task per tile on the tile's domain:
    /// each converts its rows to float64, lays them out column-major and checks them for NaN/±Inf
    /// in the same pass (`LayoutCopy`), so the source is read once, in parallel, and no scan runs
    /// before it. Returns the first non-finite entry in the source's own order (row by row for C
    /// order, column by column for Fortran order) as (row, column), or nil when all are finite;
    /// the tiles are complete either way. Throws `.invalidArgument` when the shapes differ.
    @discardableResult
    public func copyIn(_ source: RawMatrix, engine: Engine) throws(TesseraError) -> (row: Int, col: Int)? {
        guard source.rows == rows, source.cols == cols else {
            throw .invalidArgument("the source matrix is \(source.rows)×\(source.cols), the tiles hold \(rows)×\(cols)")
        }
        let firstBad = Locked([Int: (row: Int, col: Int)]())
        let graph = TaskGraph()
        let n = rows, d = cols
        guard !isView else { throw .internalFailure("copyIn: \(name) is a view of memory Tessera does not own") }
        for (i, storage) in tiles.enumerated() {
            let tile = storage.tile, range = layout.rowRange(ofTile: i)
            graph.place(storage.handle, domain: storage.domain)
            graph.add(name: "copy-in", writes: [storage.handle]) { _ in
                let finite = LayoutCopy.copy(from: source.base, kind: source.kind, rowMajor: source.rowMajor, rows: n, cols: d,
                                             sourceLD: source.ld, firstRow: range.lowerBound, count: range.count,
                                             into: tile.base, ld: tile.ld)
                source.finishedRows?(range)
                if finite {
                    storage.markFinite()
                } else {
                    storage.markWritten()
                    if let bad = tile.firstNonFinite(rowOrder: source.rowMajor) {
                        firstBad.withLock { $0[i] = (range.lowerBound + bad.row, bad.col) }
                    }
                }
            }
        }
        try engine.run(graph)
        let found = firstBad.withLock { $0 }
        if source.rowMajor { return found.min { $0.key < $1.key }?.value }
        return found.values.min { ($0.col, $0.row) < ($1.col, $1.row) }
    }
}
