import TesseraCore
import TesseraKernels
import TesseraRuntime

/// The Gram matrix of a `GeneratedMatrix`, in one pass that materializes each block once.
///
/// M = G (or G·T⁻¹ for an upper-triangular T, the refinement pass of Cholesky-QR2); the pass
/// returns MᵀM (d×d) and, for Y ∈ ℝ^{n×k} given row-major, MᵀY (d×k). The canonical blocks are
/// cut into `gramGroupCount` contiguous groups; one task per group fills each of its blocks into
/// its own scratch, in order, applies T⁻ᵀ to it when asked (a TRSM), and adds its SYRK (and GEMM
/// with Y) into the group's partial; the partials are summed by a fixed binary tree. Groups
/// depend on (n, d, k) alone, so the order of every addition does: the same bits on any number
/// of threads. Cost: n·d²(+ n·d² with T, + 2ndk) flops and n·d evaluations of the entries.
/// Memory: G partials of d² + dk doubles (G bounded by `gramPartialBudgetBytes`) and one block
/// of b·d doubles per running task. Throws `internalFailure` for a T or Y of the wrong size.
extension GeneratedMatrix {
    /// Bytes the group partials may use; bounds the group count for wide matrices.
    public static let gramPartialBudgetBytes = 256 << 20

    /// Number of accumulation groups for an n×d matrix and k extra columns:
    /// min(64, blocks, budget / (8(d² + dk))), at least 1.
    public static func gramGroupCount(rows n: Int, cols d: Int, extraColumns k: Int = 0) -> Int {
        let blocks = Checked.ceilDiv(n, canonicalBlockRows(rows: n, cols: d))
        let (perPartial, overflow) = (8 * d).multipliedReportingOverflow(by: d + k)
        return overflow ? 1 : max(1, min(64, blocks, gramPartialBudgetBytes / max(perPartial, 1)))
    }

    /// (MᵀM, MᵀY) with M = G, or G·T⁻¹ when `rightInverse` = T (column-major d×d, upper triangle
    /// read). MᵀM is column-major with both triangles filled; MᵀY is column-major d×k, empty when
    /// k = 0. `y` holds Y row-major (n·k values).
    public func gram(rightInverse: [Double]? = nil, transposeTimes y: [Double] = [], columns k: Int = 0,
                     engine: Engine) throws(TesseraError) -> (gram: [Double], transposeProduct: [Double]) {
        let d = cols, n = rows, b = blockRows
        if let t = rightInverse, t.count != d * d { throw .internalFailure("generated gram: the triangle is not \(d)×\(d)") }
        guard k >= 0, y.count == n * k else { throw .internalFailure("generated gram: Y holds \(y.count) values, not \(n)×\(k)") }
        let groups = Self.gramGroupCount(rows: n, cols: d, extraColumns: k), blocks = blockCount, count = d * d + d * k
        var partials: [SharedBlock] = []
        for g in 0..<groups {
            let domain = g * engine.profile.domainCount / groups
            partials.append(try SharedBlock(rows: count, engine: engine, domain: domain))
        }
        let triangle = try rightInverse.map { (t) throws(TesseraError) in try SharedBlock(t, engine: engine) }
        let values = y, matrix = self
        let graph = TaskGraph()
        for g in 0..<groups {
            let partial = partials[g], mine = (g * blocks / groups)..<((g + 1) * blocks / groups)
            graph.place(partial.handle, domain: partial.storage.domain)
            graph.add(name: "generated-gram", reads: triangle.map { [$0.handle] } ?? [], writes: [partial.handle]) { _ in
                var scratch = [Double](repeating: 0, count: b * d)
                try scratch.withUnsafeMutableBufferPointer { (buffer) throws(TesseraError) in
                    let block = buffer.baseAddress!
                    for (step, index) in mine.enumerated() {
                        try Interruption.check()   // a group runs many blocks: stop between them
                        let range = matrix.blockRange(index), beta = step == 0 ? 0.0 : 1.0
                        matrix.fill(range, into: block)
                        if let triangle {   // block ← T⁻ᵀ·G_blkᵀ = (G_blk·T⁻¹)ᵀ
                            BLAS.trsm(left: true, .upper, .transpose, m: d, n: range.count, alpha: 1,
                                      t: triangle.pointer, ldt: d, b: block, ldb: d)
                        }
                        BLAS.syrk(.upper, .none, n: d, k: range.count, alpha: 1, a: block, lda: d,
                                  beta: beta, c: partial.pointer, ldc: d)
                        if k > 0 {
                            values.withUnsafeBufferPointer { yb in
                                BLAS.gemm(.none, .transpose, m: d, n: k, k: range.count, alpha: 1, a: block, lda: d,
                                          b: yb.baseAddress! + range.lowerBound * k, ldb: k,
                                          beta: beta, c: partial.pointer + d * d, ldc: d)
                            }
                        }
                    }
                }
            }
        }
        let frozen = partials
        graph.addTreeReduction(name: "generated-gram-sum", handles: partials.map(\.handle), priority: 1) { into, from in
            BLAS.axpy(count: count, alpha: 1, x: frozen[from].pointer, y: frozen[into].pointer)
        }
        try engine.run(graph)
        var sum = partials[0].toArray()
        for j in 0..<d { for i in (j + 1)..<max(j + 1, d) { sum[i + j * d] = sum[j + i * d] } }
        let product = Array(sum[(d * d)...])
        sum.removeLast(d * k)
        return (sum, product)
    }
}
