import TesseraCore
import TesseraKernels

/// The Gram matrix in mixed precision, G₃₂ ≈ AᵀA: each canonical row block is rounded to
/// float32 (in its own storage order) and multiplied by SSYRK/SGEMM — twice DGEMM's rate — into a
/// float32 panel, which is added into the block's group partial in float64; groups are summed as
/// in `gram(engine:)` (the same blocks, groups, panels and tree, so the same bits on any thread
/// count and tiling). Error: |G₃₂ − AᵀA| ≲ (2 + r)·u₃₂·|A|ᵀ|A| entrywise, u₃₂ = 2⁻²⁴ and r ≤ 2,048
/// the block height (the float32 sums run over one block only) — good enough for a
/// preconditioner of κ(A) up to ~10³, not for a solve (`TriangularFactor.float32Gram`). Cost:
/// n·d·(d+1) float32 flops, one float32 copy of each block (r·d·4 bytes of scratch per task).
extension TiledMatrix {
    /// G₃₂ ≈ AᵀA, column-major d × d, both triangles filled. Throws as `gram(engine:)`.
    public func gramInSinglePrecision(engine: Engine, chains: Int? = nil) throws(TesseraError) -> [Double] {
        try gram(engine: engine, chains: chains, singlePrecision: true)
    }

    /// C[0..<hi, lo..<hi] (upper part) = (first ? 0 : C) + float64(A₃₂ᵀA₃₂)[0..<hi, lo..<hi]: the
    /// block rounded to float32 in `single` (its own storage order, so BLAS packs the same numbers
    /// either way), its product in `panel` (float32, hi × (hi − lo)).
    static func accumulateGramInSingle(_ a: Tile, columns: Range<Int>, first: Bool, into c: UnsafeMutablePointer<Double>, ld: Int,
                                       single: inout [Float], panel: inout [Float]) {
        let lo = columns.lowerBound, hi = columns.upperBound, r = a.rows
        if single.count < r * hi { single = [Float](repeating: 0, count: r * hi) }
        if panel.count < hi * (hi - lo) { panel = [Float](repeating: 0, count: hi * (hi - lo)) }
        single.withUnsafeMutableBufferPointer { sb in
            panel.withUnsafeMutableBufferPointer { pb in
                guard let s = sb.baseAddress, let p = pb.baseAddress else { return }
                let packed = a.columns(0..<hi).roundedToSingle(into: s)
                // op(X)ᵀop(X) with X the block: a column-major block is r × hi (ld r), a row-major
                // one is stored as its transpose, hi × r (ld hi).
                let columnMajor = a.order == .columnMajor
                let (flagLeft, flagRight): (BLAS.Transpose, BLAS.Transpose) = columnMajor ? (.transpose, .none) : (.none, .transpose)
                func at(_ col: Int) -> UnsafePointer<Float> { UnsafePointer(columnMajor ? packed.base + col * r : packed.base + col) }
                if lo > 0 {
                    BLAS.gemm(flagLeft, flagRight, m: lo, n: hi - lo, k: r, alpha: 1, a: at(0), lda: packed.ld,
                              b: at(lo), ldb: packed.ld, beta: 0, c: p, ldc: hi)
                }
                BLAS.syrk(.upper, flagLeft, n: hi - lo, k: r, alpha: 1, a: at(lo), lda: packed.ld, beta: 0, c: p + lo, ldc: hi)
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
}

extension Tile {
    /// The tile rounded to float32 in `destination`, in the tile's own storage order, packed
    /// (leading dimension rows for column-major, cols for row-major); returns the packed block's
    /// base and leading dimension. One read of each entry.
    func roundedToSingle(into destination: UnsafeMutablePointer<Float>) -> (base: UnsafeMutablePointer<Float>, ld: Int) {
        let (run, runs) = order == .columnMajor ? (rows, cols) : (cols, rows)
        for k in 0..<runs {
            let source = readOnly + k * ld, target = destination + k * run
            for i in 0..<run { target[i] = Float(source[i]) }
        }
        return (destination, run)
    }
}
