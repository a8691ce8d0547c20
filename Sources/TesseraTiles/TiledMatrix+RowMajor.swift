import TesseraCore
import TesseraRuntime

/// Row-major blocks of rows in and out of a tiled matrix: a `TiledMatrix` is a `RowBlockSink`
/// (so `GeneratedMatrix.streamProduct` can fill it), and `copyRows(_:toRowMajor:)` reads rows
/// back out in C order (so a writer can stream it to a file one block at a time). Both convert
/// between the tiles' layout and row-major order (`Tile.copyRowMajor` reading): rows.count·d moves.
/// They throw nothing.
extension TiledMatrix: RowBlockSink {
    /// The handles of the tiles holding `rows`.
    public func handles(forRows rows: Range<Int>) -> [DataHandle] {
        guard !rows.isEmpty else { return [] }
        return (tileIndices(of: rows)).map { tiles[$0].handle }
    }

    /// Stores rows `rows` (row-major) into the tiles that hold them (Tessera's own tiles: a view
    /// of someone else's memory is never written, so this does nothing to one).
    public func write(rows: Range<Int>, rowMajor values: UnsafePointer<Double>) {
        let d = cols
        guard !isView else { return }
        for t in tileIndices(of: rows) {
            tiles[t].markWritten()
            let tile = tiles[t].tile, first = layout.rowRange(ofTile: t).lowerBound
            let lo = max(rows.lowerBound, first), hi = min(rows.upperBound, first + tile.rows)
            for r in lo..<hi {
                let source = values + (r - rows.lowerBound) * d
                for c in 0..<d { tile[r - first, c] = source[c] }
            }
        }
    }

    /// Copies rows `rows` into `out`, row-major (rows.count × d doubles).
    public func copyRows(_ rows: Range<Int>, toRowMajor out: UnsafeMutablePointer<Double>) {
        let d = cols
        for t in tileIndices(of: rows) {
            let tile = tiles[t].tile, first = layout.rowRange(ofTile: t).lowerBound
            let lo = max(rows.lowerBound, first), hi = min(rows.upperBound, first + tile.rows)
            tile.rows((lo - first)..<(hi - first)).copyRowMajor(into: out + (lo - rows.lowerBound) * d, ld: d)
        }
    }

    /// The tiles that hold `rows` (non-empty, within the matrix).
    private func tileIndices(of rows: Range<Int>) -> ClosedRange<Int> {
        (rows.lowerBound / layout.tileRows)...((rows.upperBound - 1) / layout.tileRows)
    }
}
