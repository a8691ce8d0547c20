import TesseraCore
import TesseraRuntime

/// Rescaling A by a power of two, for matrices whose magnitude lies far outside float64's
/// comfortable range (‖A‖ ≈ 1e±300, where AᵀA and the certificates' products over- or
/// underflow): the solvers work on 2^s·A, which has the same bits' worth of information, and
/// map the answer back (`TallSolver`). Both operations are one pass over A, one task per tile.
extension TiledMatrix {
    /// max |a_ij| (0 for a zero matrix). Throws `invalidInput` when A holds NaN/±Inf (the
    /// usual non-finite message), `.interrupted` on a stop. Cost: one read of A.
    public func largestMagnitude(engine: Engine) throws(TesseraError) -> Double {
        let largest = Locked([Double](repeating: 0, count: tiles.count))
        let graph = TaskGraph()
        for (i, storage) in tiles.enumerated() {
            graph.add(name: "largest-magnitude", reads: [storage.handle], domain: storage.domain) { _ in
                try self.requireFinite(i)
                let m = storage.tile.largestMagnitude
                largest.withLock { $0[i] = m }
            }
        }
        try engine.run(graph)
        return largest.withLock { $0.max() ?? 0 }
    }

    /// 2^s·A as Tessera's own tiles (column-major, the same layout and NUMA placement), exact
    /// for every entry that stays a normal number. Throws `invalidInput` for NaN/±Inf in A,
    /// what allocation throws (`resourceLimit`), `.interrupted` on a stop. Memory: n·d doubles;
    /// cost: one read of A and one write of the copy.
    public func scaled(byPowerOfTwo s: Int, engine: Engine) throws(TesseraError) -> TiledMatrix {
        let copy = try TiledMatrix(layout: layout, engine: engine, zeroed: false, name: name, reportsInRowOrder: reportsInRowOrder)
        let graph = TaskGraph()
        for (i, (source, target)) in zip(tiles, copy.tiles).enumerated() {
            graph.place(target.handle, domain: target.domain)
            graph.add(name: "scale-copy", reads: [source.handle], writes: [target.handle]) { _ in
                try self.requireFinite(i)
                source.tile.copyColumnMajor(into: target.tile.base, ld: target.tile.ld)
                target.tile.scaleInPlace(byPowerOfTwo: s)
                target.markFinite()
            }
        }
        try engine.run(graph)
        return copy
    }
}
