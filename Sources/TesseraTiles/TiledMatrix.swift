import TesseraCore
import TesseraKernels
import TesseraPlatform
import TesseraRuntime

/// A tall n×d matrix as row tiles (`TileLayout`). Tiles are either Tessera's own (column-major,
/// each in a `TileStorage` requested from the NUMA domain that will process it, filled by task
/// graphs so that each is first touched there) or views of memory the caller owns, in C or
/// Fortran order (`init(viewing:layout:engine:)`: no copy). Every tiled operation works on both.
///
/// Entries are checked for NaN/±Inf by the first pass that reads them, not up front: each task
/// that reads a tile calls `requireFinite(_:)` first, which scans the tile once (while it is
/// being read anyway) and, when any tile holds a non-finite value, throws `invalidInput` naming
/// `name` and the first such entry in the source's order — the same message whichever task and
/// thread found it.
/// Memory: n·d doubles plus one allocation per tile when owned; nothing when a view.
public final class TiledMatrix: Sendable {
    public let layout: TileLayout
    public let tiles: [MatrixTile]
    /// How errors name the matrix: the file it came from, or "A".
    public let name: String
    /// The order in which "the first non-finite entry" is counted: row by row (C order, and
    /// Tessera's own tiles) or column by column (Fortran order).
    public let reportsInRowOrder: Bool

    public var rows: Int { layout.rows }
    public var cols: Int { layout.cols }

    /// Allocates owned tiles, tile i on domain `layout.domain(ofTile: i, …)`: zeroed unless
    /// `zeroed` is false (for a caller that writes every entry before reading, as `copyIn` does).
    public init(layout: TileLayout, engine: Engine, zeroed: Bool = true, name: String = "A",
                reportsInRowOrder: Bool = true) throws(TesseraError) {
        self.layout = layout
        self.name = name
        self.reportsInRowOrder = reportsInRowOrder
        var list: [MatrixTile] = []
        list.reserveCapacity(layout.tileCount)
        for i in 0..<layout.tileCount {
            let d = layout.domain(ofTile: i, domainCount: engine.profile.domainCount)
            list.append(MatrixTile(storage: try TileStorage(rows: layout.rowCount(ofTile: i), cols: layout.cols, domain: d,
                                                            profile: engine.profile, zeroed: zeroed)))
        }
        tiles = list
    }

    /// A matrix whose tiles are views of `source` (float64, C or Fortran order), which must
    /// stay alive and unchanged while the matrix lives (`source.owner` is retained). Nothing is
    /// copied or read here. Throws `invalidArgument` when the source is not float64, not aligned
    /// for doubles, its shape differs from `layout`'s, or (Fortran order) its row count exceeds
    /// the 32-bit BLAS leading dimension; callers copy (`copyIn`) instead.
    public init(viewing source: RawMatrix, layout: TileLayout, engine: Engine, name: String) throws(TesseraError) {
        guard source.kind == .float64, Int(bitPattern: source.base) % MemoryLayout<Double>.alignment == 0 else {
            throw .invalidArgument("\(name): only aligned float64 memory can be used in place")
        }
        guard source.rows == layout.rows, source.cols == layout.cols else {
            throw .invalidArgument("\(name) is \(source.rows)×\(source.cols), the layout is \(layout.rows)×\(layout.cols)")
        }
        let ld = source.ld
        guard ld >= (source.rowMajor ? source.cols : source.rows), ld <= Int(Int32.max) else {
            throw .invalidArgument("\(name): a leading dimension of \(ld) is below the \(source.rowMajor ? "column" : "row") count or beyond BLAS's 32-bit integers")
        }
        self.layout = layout
        self.name = name
        reportsInRowOrder = source.rowMajor
        let base = UnsafeMutablePointer(mutating: source.base.assumingMemoryBound(to: Double.self))
        let owner: any AnyObject & Sendable = source.owner ?? EmptyOwner()
        tiles = (0..<layout.tileCount).map { i in
            let range = layout.rowRange(ofTile: i)
            let tile = source.rowMajor
                ? Tile(base: base + range.lowerBound * ld, rows: range.count, cols: layout.cols, ld: ld, order: .rowMajor)
                : Tile(base: base + range.lowerBound, rows: range.count, cols: layout.cols, ld: ld, order: .columnMajor)
            return MatrixTile(view: tile, domain: layout.domain(ofTile: i, domainCount: engine.profile.domainCount), owner: owner)
        }
    }

    /// A matrix whose entry (i, j) is `value(i, j)` (global indices), filled by one task per tile.
    public convenience init(layout: TileLayout, engine: Engine,
                            value: @escaping @Sendable (_ row: Int, _ col: Int) -> Double) throws(TesseraError) {
        try self.init(layout: layout, engine: engine)
        let graph = TaskGraph()
        for (i, storage) in tiles.enumerated() {
            let tile = storage.tile, first = layout.rowRange(ofTile: i).lowerBound
            graph.place(storage.handle, domain: storage.domain)
            graph.add(name: "fill", writes: [storage.handle]) { _ in
                for j in 0..<tile.cols { for r in 0..<tile.rows { tile[r, j] = value(first + r, j) } }
            }
        }
        try engine.run(graph)
    }

    /// Whether the tiles are views of memory Tessera does not own.
    public var isView: Bool { tiles.first?.isView ?? false }

    /// Entry (i, j), for tests and small reads.
    public subscript(i: Int, j: Int) -> Double {
        let t = i / layout.tileRows
        return tiles[t].tile[i - t * layout.tileRows, j]
    }

    /// The whole matrix as a column-major array (n·d doubles): for tests and small matrices.
    public func toColumnMajorArray() -> [Double] {
        var out = [Double](repeating: 0, count: rows * cols)
        out.withUnsafeMutableBufferPointer { buffer in
            for (t, storage) in tiles.enumerated() {
                storage.tile.copyColumnMajor(into: buffer.baseAddress! + layout.rowRange(ofTile: t).lowerBound, ld: rows)
            }
        }
        return out
    }
}

/// The owner of a view whose memory the caller keeps alive by other means.
final class EmptyOwner: Sendable {}
