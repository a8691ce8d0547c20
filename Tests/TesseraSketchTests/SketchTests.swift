import XCTest
import Tessera
@testable import TesseraSketch

final class SketchTests: XCTestCase {
    static let kinds = SketchKind.allCases

    func matrix(n: Int, d: Int, tileRows: Int, engine: Engine, seed: UInt64 = 3) throws -> TiledMatrix {
        let g = Philox4x32(seed: seed)
        return try TiledMatrix(layout: TileLayout(rows: n, cols: d, tileRows: tileRows), engine: engine) { r, c in
            g.normal(index: UInt64(r * d + c), stream: 0) * (c == 0 ? 100 : 1)
        }
    }

    /// SA by the tiled DAG equals S (materialized column by column) times A.
    func testTiledSketchEqualsDenseSTimesA() throws {
        let engine = try Engine(threads: 2)
        let n = 9_000, d = 6, s = 40
        let a = try matrix(n: n, d: d, tileRows: 700, engine: engine)
        let dense = a.toColumnMajorArray()
        for kind in Self.kinds {
            let op = try SketchDistribution(kind: kind, rows: s, seed: 17).sample(inputRows: n)
            let sa = try op.apply(to: a, engine: engine)
            let sMatrix = op.dense(columns: 0..<n)
            var reference = [Double](repeating: 0, count: s * d)
            BLAS.gemm(.none, .none, m: s, n: d, k: n, alpha: 1, a: sMatrix, lda: s, b: dense, ldb: n, beta: 0, c: &reference, ldc: s)
            let scale = reference.map(abs).max() ?? 1
            let diff = zip(sa, reference).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThanOrEqual(diff / scale, 1e-13, "\(kind)")
        }
    }

    func testSketchBitsIdenticalAcrossThreadCountsAndTileSizes() throws {
        let n = 10_007, d = 5, s = 30
        let one = try Engine(threads: 1), two = try Engine(threads: 2)
        let a1 = try matrix(n: n, d: d, tileRows: 1_000, engine: one)
        let a2 = try matrix(n: n, d: d, tileRows: 333, engine: two)
        for kind in Self.kinds {
            let op = try SketchDistribution(kind: kind, rows: s, seed: 5).sample(inputRows: n)
            let x = try op.apply(to: a1, engine: one).map(\.bitPattern)
            XCTAssertEqual(x, try op.apply(to: a1, engine: two).map(\.bitPattern), "\(kind): threads")
            XCTAssertEqual(x, try op.apply(to: a2, engine: two).map(\.bitPattern), "\(kind): tile size")
        }
    }

    /// Any block of S generated alone equals the same block cut from the whole.
    func testTileOfSGeneratedAloneEqualsCutFromWhole() throws {
        let n = 9_000
        for kind in Self.kinds {
            let op = try SketchDistribution(kind: kind, rows: 24, seed: 8).sample(inputRows: n)
            let whole = op.dense(columns: 0..<n)
            let part = op.dense(columns: 4_090..<4_200)   // crosses an SRHT block boundary
            XCTAssertEqual(part.map(\.bitPattern), Array(whole[(4_090 * 24)..<(4_200 * 24)]).map(\.bitPattern), "\(kind)")
        }
    }

    /// Subspace embedding: for an orthonormal U ∈ ℝ^{n×d}, every singular value of SU lies in
    /// [1 − ε, 1 + ε]. Gaussian: ε = √(d/s) + 3/√s (Davidson–Szarek, failure ≤ 2e^{−4.5});
    /// the structured sketches with s = 12d: ε = 0.6.
    func testSubspaceEmbeddingBoundForEachKind() throws {
        let engine = try Engine(threads: 2)
        let n = 8_192, d = 8, s = 96
        let u = try orthonormal(n: n, d: d, engine: engine)
        for kind in Self.kinds {
            for seed: UInt64 in [1, 2, 3] {
                let op = try SketchDistribution(kind: kind, rows: s, seed: seed).sample(inputRows: n)
                let su = try op.apply(to: u, engine: engine)
                var gram = [Double](repeating: 0, count: d * d)
                BLAS.gemm(.transpose, .none, m: d, n: d, k: s, alpha: 1, a: su, lda: s, b: su, ldb: s, beta: 0, c: &gram, ldc: d)
                let sigma = SymmetricEigenvalues.jacobi(gram, order: d).map { $0.squareRoot() }
                let eps = kind == .gaussian ? (Double(d) / Double(s)).squareRoot() + 3 / Double(s).squareRoot() : 0.6
                XCTAssertGreaterThanOrEqual(sigma.min() ?? 0, 1 - eps, "\(kind) seed \(seed): \(sigma)")
                XCTAssertLessThanOrEqual(sigma.max() ?? .infinity, 1 + eps, "\(kind) seed \(seed): \(sigma)")
            }
        }
    }

    func testSketchOfVectorMatchesSketchOfOneColumnMatrix() throws {
        let engine = try Engine(threads: 2)
        let n = 5_000
        let a = try matrix(n: n, d: 1, tileRows: 512, engine: engine)
        for kind in Self.kinds {
            let op = try SketchDistribution(kind: kind, rows: 20, seed: 2).sample(inputRows: n)
            let viaMatrix = try op.apply(to: a, engine: engine)
            let viaVector = try op.apply(toVector: a.toColumnMajorArray())
            for (x, y) in zip(viaMatrix, viaVector) { XCTAssertEqual(x, y, accuracy: 1e-12 * max(1, abs(y))) }
        }
    }

    func testWalshHadamardIsItsOwnInverseUpToN() {
        var x: [Double] = (0..<16).map { Double($0 * $0 % 7) - 3 }
        let original = x
        x.withUnsafeMutableBufferPointer { WalshHadamard.transform($0.baseAddress!, count: 16) }
        XCTAssertEqual(x[0], original.reduce(0, +))
        x.withUnsafeMutableBufferPointer { WalshHadamard.transform($0.baseAddress!, count: 16) }
        XCTAssertEqual(x.map { $0 / 16 }, original)
    }

    /// An orthonormal basis of a random n×d matrix (Householder QR, then U = A·R⁻¹ twice).
    func orthonormal(n: Int, d: Int, engine: Engine) throws -> TiledMatrix {
        var a = try matrix(n: n, d: d, tileRows: 1024, engine: engine, seed: 99).toColumnMajorArray()
        for _ in 0..<2 {
            var qr = a, tau = [Double](repeating: 0, count: d)
            try LAPACK.geqrf(m: n, n: d, a: &qr, lda: n, tau: &tau)
            BLAS.trsm(left: false, .upper, .none, m: n, n: d, alpha: 1, t: qr, ldt: n, b: &a, ldb: n)
        }
        let frozen = a
        return try TiledMatrix(layout: TileLayout(rows: n, cols: d, tileRows: 1000), engine: engine) { r, c in frozen[r + c * n] }
    }
}

