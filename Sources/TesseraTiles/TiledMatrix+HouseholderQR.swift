import TesseraCore
import TesseraKernels
import TesseraRuntime

/// The R of a Householder QR of the whole tall A (A = QR, Q never formed), by tiles: the tiles
/// are cut into `householderGroupCount` contiguous groups; one task per group folds its tiles'
/// rows in order, `householderChunkRows` at a time, into the group's R (R ← R of [R; rows], one
/// `dgeqrf` of (d + c) × d per chunk), and the groups' R are combined by a fixed binary tree
/// (R of [R_a; R_b], a 2d × d QR). Unlike a
/// Cholesky of AᵀA it is backward stable for any A, rank deficient included (RᵀR = AᵀA + E with
/// ‖E‖ ≈ u‖A‖², and R's singular values are A's to u‖A‖ absolute), which is what the rank-revealing
/// route of a rank-deficient solve needs. The groups depend on the layout alone, so the bits do not
/// depend on the worker count. Cost ≈ 2n·d²(1 + d/2c) flops (single-threaded LAPACK; the calls
/// are serialized, see `LAPACK`) plus (groups − 1)·(10/3)d³; memory `householderBytes`. Throws
/// what the first pass over A throws (NaN/Inf, `.interrupted`).
extension TiledMatrix {
    /// Bytes the groups' stacks may use together (at least one group is always made).
    public static let householderBudgetBytes = 64 << 20

    /// Rows folded into R by one `dgeqrf`: c = max(d, min(tile height, 512)).
    public var householderChunkRows: Int { max(cols, min(layout.tileRows, 512)) }

    /// Tile groups of the QR: at most 8 (the calls into LAPACK are serialized anyway), and no
    /// more than `householderBudgetBytes` allows.
    public var householderGroupCount: Int {
        let perGroup = max(1, 8 * (cols + householderChunkRows) * cols)
        return max(1, min(layout.tileCount, 8, Self.householderBudgetBytes / perGroup))
    }

    /// Memory of `householderR`: a (d + c) × d stack per group.
    public var householderBytes: UInt64 {
        UInt64(householderGroupCount) &* UInt64(8 * (cols + householderChunkRows)) &* UInt64(cols)
    }

    /// R (d × d, column-major, upper triangular, lower part zero; diagonal of any sign) with
    /// RᵀR = AᵀA to rounding.
    public func householderR(engine: Engine) throws(TesseraError) -> [Double] {
        let d = cols, tileCount = layout.tileCount, groups = householderGroupCount
        let chunk = householderChunkRows, stackRows = d + chunk
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
                    var first = 0
                    while first < tile.rows {
                        let rows = tile.rows(first..<min(first + chunk, tile.rows))
                        rows.copyColumnMajor(into: base + d, ld: stackRows)
                        try tau.withUnsafeMutableBufferPointer { (tb) throws(TesseraError) in
                            try LAPACK.geqrf(m: d + rows.rows, n: d, a: base, lda: stackRows, tau: tb.baseAddress!)
                        }
                        clearBelowDiagonal(base)
                        first += chunk
                        try Interruption.check()
                    }
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
