import TesseraCore
import TesseraPlatform
import TesseraRuntime

/// A tall n×d matrix stored as row tiles (`TileLayout`), each tile in its own `TileStorage`
/// requested from the NUMA domain that will process it. Filling and copying run as task graphs,
/// so each tile is first touched by a worker of its own domain.
/// Memory: n·d doubles plus one allocation per tile.
public final class TiledMatrix: Sendable {
    public let layout: TileLayout
    public let tiles: [TileStorage]

    public var rows: Int { layout.rows }
    public var cols: Int { layout.cols }

    /// Allocates tiles, tile i on domain `layout.domain(ofTile: i, …)`: zeroed unless `zeroed` is
    /// false (for a caller that writes every entry before reading, as `copyIn` does).
    public init(layout: TileLayout, engine: Engine, zeroed: Bool = true) throws(TesseraError) {
        self.layout = layout
        var list: [TileStorage] = []
        list.reserveCapacity(layout.tileCount)
        for i in 0..<layout.tileCount {
            let d = layout.domain(ofTile: i, domainCount: engine.profile.domainCount)
            list.append(try TileStorage(rows: layout.rowCount(ofTile: i), cols: layout.cols, domain: d, profile: engine.profile,
                                        zeroed: zeroed))
        }
        tiles = list
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

    /// Entry (i, j), for tests and small reads.
    public subscript(i: Int, j: Int) -> Double {
        let t = i / layout.tileRows
        return tiles[t].tile[i - t * layout.tileRows, j]
    }

    /// The whole matrix as a column-major array (n·d doubles): for tests and small matrices.
    public func toColumnMajorArray() -> [Double] {
        var out = [Double](repeating: 0, count: rows * cols)
        for (t, storage) in tiles.enumerated() {
            let first = layout.rowRange(ofTile: t).lowerBound, tile = storage.tile
            for j in 0..<cols { for r in 0..<tile.rows { out[j * rows + first + r] = tile[r, j] } }
        }
        return out
    }
}
