import TesseraCore
import TesseraKernels

/// The Gram matrix in mixed precision, G₃₂ ≈ AᵀA: the canonical row blocks of each group are
/// gathered, in order, into chunks of up to `singleChunkRows` rows (whole blocks; chunks start at
/// the group's first block), each chunk is rounded to float32 row by row and multiplied by
/// SSYRK/SGEMM — twice DGEMM's rate — into a float32 panel, which is added into the group's
/// partial in float64; groups are summed as in `gram(engine:)`. Chunks depend on (n, d) alone and
/// the float32 copy has one layout whatever A's storage order, so the bits are the same on any
/// thread count, tiling and storage order. Error: |G₃₂ − AᵀA| ≲ (2 + r)·u₃₂·|A|ᵀ|A| entrywise,
/// u₃₂ = 2⁻²⁴ and r ≤ 2,048 the chunk height (the float32 sums run over one chunk only) — good
/// enough for a preconditioner of κ(A) up to ~10³, not for a solve (`TriangularFactor.float32Gram`).
/// Cost: n·d·(d+1) float32 flops, one float32 copy of each chunk (r·d·4 bytes of scratch per
/// worker, and d²·4 for its product). (Chunks of single 256-row blocks, as wide matrices have, ran SSYRK at 3/4 of its speed
/// and spent as long again adding d × d float32 panels.)
extension TiledMatrix {
    /// Rows a float32 chunk gathers (a multiple of every canonical block height).
    public static let singleChunkRows = 2_048

    /// G₃₂ ≈ AᵀA, column-major d × d, both triangles filled. Throws as `gram(engine:)`.
    public func gramInSinglePrecision(engine: Engine, chains: Int? = nil) throws(TesseraError) -> [Double] {
        try gram(engine: engine, chains: chains, singlePrecision: true)
    }

    /// C[0..<hi, lo..<hi] (upper part) = (first ? 0 : C) + float64(XᵀX)[0..<hi, lo..<hi] for the
    /// float32 chunk X (`rows` × hi, row-major, leading dimension hi), its product in `panel`
    /// (float32, room for hi × (hi − lo)).
    static func accumulateGramInSingle(chunk x: UnsafePointer<Float>, rows r: Int, columns: Range<Int>, first: Bool,
                                       into c: UnsafeMutablePointer<Double>, ld: Int, panel p: UnsafeMutablePointer<Float>) {
        let lo = columns.lowerBound, hi = columns.upperBound
        do {
            // X row-major is Xᵀ column-major (hi × r, ld hi): XᵀX = Xᵀ(Xᵀ)ᵀ.
            if lo > 0 {
                BLAS.gemm(.none, .transpose, m: lo, n: hi - lo, k: r, alpha: 1, a: x, lda: hi,
                          b: x + lo, ldb: hi, beta: 0, c: p, ldc: hi)
            }
            BLAS.syrk(.upper, .none, n: hi - lo, k: r, alpha: 1, a: x + lo, lda: hi, beta: 0, c: p + lo, ldc: hi)
            for j in lo..<hi {
                let source = p + (j - lo) * hi, target = c + j * ld
                if first {
                    for i in 0...j { target[i] = Double(source[i]) }
                } else {
                    for i in 0...j { target[i] += Double(source[i]) }
                }
            }
        }
    }
}

extension Tile {
    /// Columns 0..<`columns` of the tile rounded to float32, row by row, into `destination`
    /// (row i at destination + i·columns) whatever the tile's storage order; false when a value
    /// read is NaN or ±Inf. One read of each entry (the rounding is also the non-finite scan).
    @discardableResult
    func roundRowsToSingle(columns: Int, into destination: UnsafeMutablePointer<Float>) -> Bool {
        LayoutCopy.roundToSingleRows(readOnly, ld: ld, rowMajor: order == .rowMajor, rows: rows, cols: columns, into: destination)
    }
}
