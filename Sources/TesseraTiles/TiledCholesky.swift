import TesseraCore
import TesseraKernels
import TesseraRuntime

/// Cholesky factorization M = UᵀU of a dense symmetric positive definite n×n matrix, as a task
/// graph over b×b tiles of its upper triangle (right-looking, as in PLASMA):
///
///     for k in 0..<T:  POTRF  U_kk = chol(M_kk)
///                      TRSM   U_kj = U_kk⁻ᵀ M_kj             (j > k)
///                      SYRK   M_jj −= U_kjᵀ U_kj             (j > k)
///                      GEMM   M_ij −= U_kiᵀ U_kj             (k < i < j)
///
/// Each task is one single-threaded BLAS/LAPACK call on a tile; the graph's write-after-write
/// edges apply the updates of every tile in the order k = 0, 1, …, so the factor has the same
/// bits for any number of workers (it depends on n and b only). Cost n³/3 flops, no memory
/// beyond M; the strictly lower triangle is left untouched.
public enum TiledCholesky {
    /// Factors `matrix` (column-major n×n, leading dimension n) in place into U. Throws
    /// `numerical` naming the tile whose pivot was not positive.
    public static func factor(_ matrix: SharedBlock, order n: Int, blockSize: Int = 256, engine: Engine) throws(TesseraError) {
        guard n > 0 else { return }
        guard matrix.storage.rows * matrix.storage.cols >= n * n, blockSize >= 1 else {
            throw .internalFailure("TiledCholesky: the block holds fewer than n² entries or the tile size is not positive")
        }
        let b = blockSize, tiles = Checked.ceilDiv(n, b)
        let base = TilePointer(matrix.pointer)
        var handles: [[DataHandle]] = []
        for _ in 0..<tiles { handles.append((0..<tiles).map { _ in DataHandle.make() }) }
        func start(_ t: Int) -> Int { t * b }
        func size(_ t: Int) -> Int { min(b, n - t * b) }
        let graph = TaskGraph()
        for k in 0..<tiles {
            let bk = size(k), rowsK = start(k)
            let kk = base.at(row: start(k), col: start(k), ld: n)
            graph.add(name: "potrf", writes: [handles[k][k]], priority: 3 * tiles - 3 * k + 2) { _ in
                do { try LAPACK.potrf(upper: true, n: bk, a: kk.pointer, lda: n) } catch {
                    throw TesseraError.numerical("the matrix is not numerically positive definite (pivot in rows \(rowsK)..<\(rowsK + bk))")
                }
            }
            for j in (k + 1)..<max(k + 1, tiles) {
                let kj = base.at(row: start(k), col: start(j), ld: n), bj = size(j)
                graph.add(name: "trsm", reads: [handles[k][k]], writes: [handles[k][j]], priority: 3 * tiles - 3 * k + 1) { _ in
                    BLAS.trsm(left: true, .upper, .transpose, m: bk, n: bj, alpha: 1, t: kk.pointer, ldt: n, b: kj.pointer, ldb: n)
                }
            }
            for j in (k + 1)..<max(k + 1, tiles) {
                let kj = base.at(row: start(k), col: start(j), ld: n), bj = size(j)
                for i in (k + 1)...j {
                    let ki = base.at(row: start(k), col: start(i), ld: n), ij = base.at(row: start(i), col: start(j), ld: n), bi = size(i)
                    let urgent = i == k + 1 ? 3 * tiles - 3 * k : 0
                    graph.add(name: i == j ? "syrk" : "gemm", reads: [handles[k][i], handles[k][j]], writes: [handles[i][j]], priority: urgent) { _ in
                        if i == j {
                            BLAS.syrk(.upper, .transpose, n: bj, k: bk, alpha: -1, a: kj.pointer, lda: n, beta: 1, c: ij.pointer, ldc: n)
                        } else {
                            BLAS.gemm(.transpose, .none, m: bi, n: bj, k: bk, alpha: -1, a: ki.pointer, lda: n,
                                      b: kj.pointer, ldb: n, beta: 1, c: ij.pointer, ldc: n)
                        }
                    }
                }
            }
        }
        try engine.run(graph)
    }
}

/// The address of a tile inside a `SharedBlock`, passed to tasks. Sound to share because the
/// task graph gives each tile one writer at a time (its handle's write edges) and the block
/// outlives the graph run.
struct TilePointer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Double>
    init(_ pointer: UnsafeMutablePointer<Double>) { self.pointer = pointer }
    func at(row: Int, col: Int, ld: Int) -> TilePointer { TilePointer(pointer + row + col * ld) }
}
