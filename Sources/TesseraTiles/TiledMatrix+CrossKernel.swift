import TesseraCore
import TesseraKernels
import TesseraRuntime

/// The cross kernel exp(B·Aᵀ)·α for new rows B (m × d) against this A (n × d), without storing
/// the m × n matrix: what a kernel-ridge model's `predict` needs. One task per tile of B owns its
/// outputs and walks every tile of A in a fixed order, panel by panel (`KernelPanel`: one GEMM
/// and P·Q exps per panel, then a GEMV with α's part): the same bits for any number of workers.
/// Cost 2·m·n·d + 2·m·n flops and m·n exps; memory workers · `kernelPanelRows`² doubles.
/// Throws `invalidInput` when exp could overflow (max‖bᵢ‖·max‖aₖ‖ > 709.78) and what reading a
/// tile throws (NaN/Inf in either matrix).
extension TiledMatrix {
    public func crossKernelMultiply(rows b: TiledMatrix, _ alpha: [Double], engine: Engine) throws(TesseraError) -> [Double] {
        guard b.cols == cols else { throw .invalidArgument("the new rows have \(b.cols) columns, A has \(cols)") }
        guard alpha.count == rows else { throw .invalidArgument("α has length \(alpha.count), A has \(rows) rows") }
        let bound = (try maxRowNormSquared(engine: engine) * b.maxRowNormSquared(engine: engine)).squareRoot()
        guard bound <= VectorExp.overflowThreshold else {
            throw .invalidInput("exp(B·Aᵀ) could overflow: max‖bᵢ‖·max‖aₖ‖ = \(bound) > 709.78; scale both sets of rows down")
        }
        let panel = Swift.min(Self.kernelPanelRows, layout.tileRows, b.layout.tileRows)
        let alphas = try SharedBlock(alpha, engine: engine)
        let scratch = try SharedBlock(rows: panel * panel, cols: engine.workerCount, engine: engine)
        let out = try ColumnBlock(rows: b.rows, cols: 1, engine: engine, rowBlock: Swift.max(b.rows, 1), alignedWith: b.layout)
        let graph = TaskGraph()
        let own = tiles, other = b.tiles, lay = layout
        for i in 0..<other.count {
            let range = b.layout.rowRange(ofTile: i)
            graph.add(name: "cross-kernel", reads: [other[i].handle, alphas.handle] + own.map(\.handle),
                      writes: out.handles(rows: range, cols: 0..<1), domain: other[i].domain) { context in
                try b.requireFinite(i)
                for t in 0..<own.count { try self.requireFinite(t) }
                let bi = other[i].tile, y = out.base + range.lowerBound
                let block = scratch.pointer + context.worker * panel * panel
                y.update(repeating: 0, count: bi.rows)
                for p0 in stride(from: 0, to: bi.rows, by: panel) {
                    let pRows = Swift.min(panel, bi.rows - p0)
                    for t in 0..<own.count {
                        let at = own[t].tile, first = lay.rowRange(ofTile: t).lowerBound
                        for q0 in stride(from: 0, to: at.rows, by: panel) {
                            let qRows = Swift.min(panel, at.rows - q0)
                            KernelPanel.compute(a: bi.rows(p0..<(p0 + pRows)), b: at.rows(q0..<(q0 + qRows)), into: block, ldc: pRows)
                            BLAS.gemv(.none, m: pRows, n: qRows, alpha: 1, a: block, lda: pRows, x: alphas.pointer + first + q0,
                                      beta: 1, y: y + p0)
                        }
                    }
                }
            }
        }
        try engine.run(graph)
        return out.toArray()
    }
}
