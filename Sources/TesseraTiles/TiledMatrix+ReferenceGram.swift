import TesseraCore
import TesseraKernels
import TesseraRuntime

extension TiledMatrix {
    /// The reference against which the tiled Gram matrix is checked and timed: G = AᵀA by one
    /// OpenBLAS `dsyrk` call on a dense column-major copy of A, with OpenBLAS's own thread
    /// count set to `threads` for the call (and back to 1, the runtime's setting, after).
    ///
    /// Returns G (d × d, column-major; only the upper triangle i ≤ j is computed, the strict
    /// lower triangle is 0) and the seconds the `dsyrk` call took (the copy is not timed).
    /// Cost n·d² flops in BLAS plus an n × d copy (8·n·d bytes). Throws `invalidArgument` when
    /// n exceeds the 32-bit BLAS integer (one call cannot index that many rows).
    public func referenceGramBySingleSYRK(threads: Int) throws(TesseraError) -> (gram: [Double], seconds: Double) {
        let n = rows, d = cols
        guard n <= Int(Int32.max) else {
            throw .invalidArgument("one dsyrk call indexes at most \(Int32.max) rows; the matrix has \(n)")
        }
        let dense = toColumnMajorArray()
        var reference = [Double](repeating: 0, count: d * d)
        OpenBLASRuntime.setThreadCount(threads)
        defer { OpenBLASRuntime.setThreadCount(1) }
        let t0 = MonotonicClock.nanoseconds()
        dense.withUnsafeBufferPointer { src in
            reference.withUnsafeMutableBufferPointer { dst in
                guard let a = src.baseAddress, let c = dst.baseAddress else { return }
                BLAS.syrk(.upper, .transpose, n: d, k: n, alpha: 1, a: a, lda: n, beta: 0, c: c, ldc: d)
            }
        }
        let seconds = Double(MonotonicClock.nanoseconds() - t0) / 1e9
        return (reference, seconds)
    }
}
