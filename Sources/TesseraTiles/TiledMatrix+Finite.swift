import TesseraCore
import TesseraRuntime

/// NaN/±Inf detection inside the first pass that reads A: every task that reads tile i calls
/// `requireFinite(i)` before it does. The first call scans the tile (one read, while the tile is
/// being read anyway; later calls are one atomic load). When a tile holds a non-finite value,
/// the whole matrix is scanned for the first one in the source's order, so that the error is the
/// same whichever task found it first.
extension TiledMatrix {
    /// Throws `invalidInput` ("A.npy holds a non-finite value at row r, column c; …") when tile
    /// i, or any tile, holds NaN/±Inf.
    public func requireFinite(_ i: Int) throws(TesseraError) {
        guard !tiles[i].scanIsFinite() else { return }
        throw nonFiniteError()
    }

    /// Records that the rows of these canonical block groups were read and found finite by a
    /// pass that scans as it reads (float32 rounding): tiles lying wholly inside them are not
    /// scanned again.
    func markFinite(rowsOf groups: [Range<Int>], blockRows: Int) {
        for blocks in groups where !blocks.isEmpty {
            let covered = (blocks.lowerBound * blockRows)..<min(blocks.upperBound * blockRows, rows)
            for t in tiles(touchedBy: blocks, blockRows: blockRows) {
                let own = layout.rowRange(ofTile: t)
                if own.lowerBound >= covered.lowerBound && own.upperBound <= covered.upperBound { tiles[t].markFinite() }
            }
        }
    }

    /// Scans every tile not yet scanned (one task per tile) and throws like `requireFinite`:
    /// for an operation that reads A outside a task graph.
    public func requireAllFinite(engine: Engine) throws(TesseraError) {
        let graph = TaskGraph()
        for (i, tile) in tiles.enumerated() {
            graph.add(name: "finite-check", reads: [tile.handle], domain: tile.domain) { _ in try self.requireFinite(i) }
        }
        try engine.run(graph)
    }

    /// The error for the first non-finite entry in the source's order.
    func nonFiniteError() -> TesseraError {
        var first: (row: Int, col: Int)? = nil
        for (i, tile) in tiles.enumerated() where !tile.scanIsFinite() {
            guard let bad = tile.tile.firstNonFinite(rowOrder: reportsInRowOrder) else { continue }
            let candidate = (row: layout.rowRange(ofTile: i).lowerBound + bad.row, col: bad.col)
            if reportsInRowOrder { first = candidate; break }
            if first.map({ (candidate.col, candidate.row) < ($0.col, $0.row) }) ?? true { first = candidate }
        }
        guard let first else { return .internalFailure("\(name): a tile was marked non-finite but holds no NaN/Inf") }
        return .invalidInput("\(name) holds a non-finite value at row \(first.row), column \(first.col); remove or replace NaN/Inf entries")
    }
}
