import TesseraCore
import TesseraKernels
import TesseraRuntime

/// The R of a Householder QR of the whole tall A (A = QR, Q never formed), by tiles: the tiles
/// are cut into `householderGroupCount` contiguous groups; one task per group folds its tiles in
/// order into the group's R (R ← R of [R; A_t], one `dgeqrf` of (d + t) × d per tile), and the
/// groups' R are combined by a fixed binary tree (R of [R_a; R_b], a 2d × d QR). Unlike a
/// Cholesky of AᵀA it is backward stable for any A, rank deficient included (RᵀR = AᵀA + E with
/// ‖E‖ ≈ u‖A‖², and R's singular values are A's to u‖A‖ absolute), which is what the rank-revealing
/// route of a rank-deficient solve needs. The groups depend on the layout alone, so the bits do not
/// depend on the worker count. Cost 2n·d² flops (single-threaded LAPACK; the calls are serialized,
/// see `LAPACK`) plus (groups − 1)·(10/3)d³; memory groups × (d + max(t, d)) × d doubles. Throws what
/// the first pass over A throws (NaN/Inf, `.interrupted`).
extension TiledMatrix {
    /// Tile groups of the QR (at most 8: the calls into LAPACK are serialized anyway).
    public var householderGroupCount: Int { max(1, min(layout.tileCount, 8)) }

    /// R (d × d, column-major, upper triangular, lower part zero; diagonal of any sign) with
    /// RᵀR = AᵀA to rounding.
    public func householderR(engine: Engine) throws(TesseraError) -> [Double] {
        let d = cols, tileCount = layout.tileCount, groups = householderGroupCount
        let stackRows = d + max(layout.tileRows, d)
        var buffers: [SharedBlock] = []
        for g in 0..<groups {
            let firstTile = g * tileCount / groups
            buffers.append(try SharedBlock(rows: stackRows * d, engine: engine, domain: tiles[firstTile].domain, zeroed: true))
        }
        let graph = TaskGraph()
        let storages = tiles
        /// Zeroes the strictly lower part of the top d × d block (the reflectors `dgeqrf` left there).
        @Sendable func clearBelowDiagonal(_ base: UnsafeMutablePointer<Double>) {
            for j in 0..<d { for i in (j + 1)..<max(j + 1, d) { base[i + j * stackRows] = 0 } }
        }
        for g in 0..<groups {
            let buffer = buffers[g]
            graph.place(buffer.handle, domain: buffer.storage.domain)
            let range = (g * tileCount / groups)..<((g + 1) * tileCount / groups)
            graph.add(name: "tsqr", reads: range.map { storages[$0].handle }, writes: [buffer.handle]) { _ in
                var tau = [Double](repeating: 0, count: d)
                let base = buffer.pointer
                for t in range {
                    try self.requireFinite(t)
                    let tile = storages[t].tile
                    tile.copyColumnMajor(into: base + d, ld: stackRows)
                    try tau.withUnsafeMutableBufferPointer { (tb) throws(TesseraError) in
                        try LAPACK.geqrf(m: d + tile.rows, n: d, a: base, lda: stackRows, tau: tb.baseAddress!)
                    }
                    clearBelowDiagonal(base)
                }
            }
        }
        let frozen = buffers
        graph.addTreeReduction(name: "tsqr-combine", handles: buffers.map(\.handle), priority: 1) { into, from in
            let top = frozen[into].pointer, other = frozen[from].pointer
            for j in 0..<d {
                for i in 0..<d { top[d + i + j * stackRows] = i <= j ? other[i + j * stackRows] : 0 }
            }
            var tau = [Double](repeating: 0, count: d)
            try tau.withUnsafeMutableBufferPointer { (tb) throws(TesseraError) in
                try LAPACK.geqrf(m: 2 * d, n: d, a: top, lda: stackRows, tau: tb.baseAddress!)
            }
            clearBelowDiagonal(top)
        }
        try engine.run(graph)
        let all = buffers[0].pointer
        var r = [Double](repeating: 0, count: d * d)
        for j in 0..<d { for i in 0...j { r[i + j * d] = all[i + j * stackRows] } }
        return r
    }
}
