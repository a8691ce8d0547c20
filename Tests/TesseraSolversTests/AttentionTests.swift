import XCTest
import Tessera
import TesseraTestSupport
#if canImport(Glibc)
import Glibc
#endif

final class AttentionTests: XCTestCase {
    /// A with rows of norm `norm` in random directions.
    func matrix(n: Int, d: Int, norm: Double, seed: UInt64, engine: Engine, tileRows: Int = 200) throws -> TiledMatrix {
        try TiledMatrix(layout: TileLayout(rows: n, cols: d, tileRows: tileRows), engine: engine,
                        value: Reference.rowsOfNorm(norm, cols: d, seed: seed))
    }

    /// Dense reference: (K + λI)x = b by LAPACK Cholesky on K built with libm exp.
    func denseSolve(_ a: TiledMatrix, ridge: Double, b: [Double]) throws -> [Double] {
        let n = a.rows, d = a.cols, values = a.toColumnMajorArray()
        var k = [Double](repeating: 0, count: n * n)
        for j in 0..<n { for i in 0..<n {
            var dot = 0.0
            for c in 0..<d { dot += values[i + c * n] * values[j + c * n] }
            k[i + j * n] = Glibc.exp(dot) + (i == j ? ridge : 0)
        } }
        try LAPACK.potrf(n: n, a: &k, lda: n)
        var x = b
        BLAS.trsv(.upper, .transpose, n: n, t: k, ldt: n, x: &x)
        BLAS.trsv(.upper, .none, n: n, t: k, ldt: n, x: &x)
        return x
    }

    /// The stored upper triangle (blocks of 128 rows, n not a multiple) gives the products of the
    /// on-the-fly kernel to 1e-13 relative, with the same bits on 1 and 2 workers.
    func testStoredKernelProductMatchesOnTheFlyAndIsThreadIndependent() throws {
        let n = 1_000, d = 8, ridge = 0.25
        var bits: [[UInt64]] = []
        for threads in [1, 2] {
            let engine = try Engine(threads: threads)
            let a = try matrix(n: n, d: d, norm: 1.2, seed: 11, engine: engine, tileRows: 300)
            let g = Philox4x32(seed: 2)
            let x = (0..<n).map { g.normal(index: UInt64($0), stream: 4) }
            let onTheFly = try KernelOperator(matrix: a, engine: engine, ridge: ridge)
            let stored = try StoredKernel(matrix: a, engine: engine, blockRows: 128)
            let reference = try onTheFly.apply(x), y = try stored.multiply(x, ridge: ridge, engine: engine)
            XCTAssertLessThanOrEqual(y.plus(-1, reference).norm2 / reference.norm2, 1e-13)
            XCTAssertEqual(try onTheFly.storing().apply(x).count, n)
            bits.append(y.map(\.bitPattern))
        }
        XCTAssertEqual(bits[0], bits[1])
    }

    /// K·X for a block X equals the single-vector products column by column (1e-13), and
    /// randomized Nyström's factor reproduces K on its range: FFᵀ ≼ K, trace gap = residual trace.
    func testKernelBlockProductAndNystromFactor() throws {
        let engine = try Engine(threads: 2)
        let n = 700, d = 6, k = 40
        let a = try matrix(n: n, d: d, norm: 1, seed: 4, engine: engine, tileRows: 160)
        let g = Philox4x32(seed: 8)
        let xs = (0..<(n * k)).map { g.normal(index: UInt64($0), stream: 2) }
        let x = try ColumnBlock(xs, rows: n, cols: k, engine: engine), y = try ColumnBlock(rows: n, cols: k, engine: engine)
        try a.kernelMultiply(block: x, columns: k, into: y, engine: engine)
        let kernel = try KernelOperator(matrix: a, engine: engine, ridge: 0)
        let blockY = y.toArray()
        for c in [0, 17, k - 1] {
            let reference = try kernel.apply(Array(xs[(c * n)..<((c + 1) * n)]))
            let got = Array(blockY[(c * n)..<((c + 1) * n)])
            XCTAssertLessThanOrEqual(got.plus(-1, reference).norm2 / reference.norm2, 1e-13, "column \(c)")
        }
        let f = try RandomizedNystrom.factor(kernel: kernel, rank: 60, seed: 3)
        let factor = f.factor
        var frobenius = 0.0
        for v in factor { frobenius += v * v }
        let trace = try kernel.diagonal().reduce(0, +)
        XCTAssertEqual(f.residualTrace, trace - frobenius, accuracy: 1e-9 * trace)
        XCTAssertGreaterThan(frobenius, 0.5 * trace)          // the leading Taylor layers are captured
        // FFᵀ ≼ K: for random v, vᵀ(K − FFᵀ)v ≥ −1e-9·vᵀKv.
        for s in 0..<3 {
            let v = (0..<n).map { g.normal(index: UInt64($0), stream: 10 + UInt64(s)) }
            let kv = try kernel.apply(v)
            var ftv = [Double](repeating: 0, count: 60)
            for c in 0..<60 { for i in 0..<n { ftv[c] += factor[i + c * n] * v[i] } }
            let quad = v.dot(kv), low = ftv.dot(ftv)
            XCTAssertGreaterThanOrEqual(quad - low, -1e-9 * quad, "sample \(s)")
        }
    }

    func testPCGAndDirectReachTenToMinusTenAndAgreeWithDenseCholesky() throws {
        let engine = try Engine(threads: 2)
        let n = 1_200, d = 16
        let a = try matrix(n: n, d: d, norm: 1, seed: 3, engine: engine)
        let g = Philox4x32(seed: 5)
        let b = (0..<n).map { g.normal(index: UInt64($0), stream: 9) }
        for ridge in [1e-3, 0.1] {
            let reference = try denseSolve(a, ridge: ridge, b: b)
            for method in [SolveMethod.pcg, .direct, nil] {
                var options = SolveOptions()
                options.method = method
                options.rank = 300
                let s = try AttentionSolver(matrix: a, engine: engine, problem: .attention(ridge: ridge), options: options).solve(b)
                XCTAssertLessThanOrEqual(s.report.relativeResidual, 1e-10, "\(method?.rawValue ?? "auto") λ=\(ridge):\n\(s.report.text)")
                XCTAssertTrue(s.report.converged)
                let diff = s.x.plus(-1, reference).norm2 / reference.norm2
                XCTAssertLessThanOrEqual(diff, 1e-6, "\(method?.rawValue ?? "auto") λ=\(ridge)")
            }
            var nystrom = SolveOptions()
            nystrom.method = .pcg
            nystrom.lowRank = .nystrom
            nystrom.rank = 300
            let s = try AttentionSolver(matrix: a, engine: engine, problem: .attention(ridge: ridge), options: nystrom).solve(b)
            XCTAssertLessThanOrEqual(s.report.relativeResidual, 1e-10, "nystrom λ=\(ridge):\n\(s.report.text)")
            XCTAssertTrue(s.report.text.contains("randomized Nyström rank 300"), s.report.text)
            XCTAssertLessThanOrEqual(s.x.plus(-1, reference).norm2 / reference.norm2, 1e-6, "nystrom λ=\(ridge)")
        }
    }

    func testZeroRidgeOnIllConditionedKernelEndsCleanlyWithAdvice() throws {
        let engine = try Engine(threads: 2)
        let a = try matrix(n: 1_000, d: 2, norm: 0.5, seed: 8, engine: engine)   // nearly dependent rows
        var options = SolveOptions()
        options.method = .pcg
        options.rank = 20
        options.maxIterations = 40
        let g = Philox4x32(seed: 4)
        let b = (0..<1_000).map { g.normal(index: UInt64($0), stream: 0) }   // reaches K's tiny eigenvalues
        let s = try AttentionSolver(matrix: a, engine: engine, problem: .attention(ridge: 0), options: options).solve(b)
        XCTAssertFalse(s.report.converged, s.report.text)
        XCTAssertNotEqual(s.report.status, .converged)
        XCTAssertTrue(s.report.notes.joined().contains("--ridge"), s.report.text)
        XCTAssertTrue(s.x.allSatisfy(\.isFinite))
    }

    func testOverflowAndBadOptionsAreRefused() throws {
        let engine = try Engine(threads: 2)
        let big = try matrix(n: 100, d: 4, norm: 30, seed: 1, engine: engine, tileRows: 50)
        XCTAssertThrowsError(try AttentionSolver(matrix: big, engine: engine, problem: .attention(ridge: 0))) { e in
            XCTAssertTrue(((e as? TesseraError)?.message ?? "").contains("would overflow"))
        }
        let a = try matrix(n: 100, d: 4, norm: 1, seed: 1, engine: engine, tileRows: 50)
        XCTAssertThrowsTesseraError(try AttentionSolver(matrix: a, engine: engine, problem: .attention(ridge: -1)), "ridge must be a finite number ≥ 0")
        var options = SolveOptions()
        options.method = .direct
        options.memoryBudget = 1_000
        XCTAssertThrowsError(try AttentionSolver(matrix: a, engine: engine, problem: .attention(ridge: 0), options: options)) { e in
            XCTAssertTrue(((e as? TesseraError)?.message ?? "").contains("memory budget"))
        }
        XCTAssertThrowsTesseraError(try AttentionSolver(matrix: a, engine: engine, problem: .attention(ridge: 0)).solve([1, 2, 3]), "needs")
    }

    /// RPCholesky: the residual K − FFᵀ stays positive semidefinite on the diagonal, its trace
    /// falls with the rank, and F·Fᵀ reproduces the pivot columns of K exactly.
    func testRandomlyPivotedCholeskyApproximatesTheKernel() throws {
        let engine = try Engine(threads: 2)
        let a = try matrix(n: 600, d: 6, norm: 1, seed: 2, engine: engine)
        let kernel = try KernelOperator(matrix: a, engine: engine, ridge: 0)
        let total = try kernel.diagonal().reduce(0, +)
        let r50 = try RandomlyPivotedCholesky.factor(kernel: kernel, rank: 50, blockSize: 10, seed: 1)
        let r200 = try RandomlyPivotedCholesky.factor(kernel: kernel, rank: 200, blockSize: 50, seed: 1)
        XCTAssertLessThan(r50.residualTrace, 0.5 * total)
        XCTAssertLessThan(r200.residualTrace, r50.residualTrace)
        let pivot = r200.pivots[7]
        let column = try kernel.columns([pivot])
        for i in stride(from: 0, to: 600, by: 37) {
            var ff = 0.0
            for c in 0..<r200.rank { ff += r200.factor[i + c * 600] * r200.factor[pivot + c * 600] }
            XCTAssertEqual(ff, column[i], accuracy: 1e-9 * abs(column[i]))
        }
    }
}
