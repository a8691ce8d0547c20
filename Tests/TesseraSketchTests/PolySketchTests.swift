import XCTest
import Tessera
#if canImport(Glibc)
import Glibc
#endif
@testable import TesseraSketch

/// TensorSRHT and PolySketch (Ahle et al. 2020): unbiasedness over seeds, the variance bound by
/// degree, a spectral approximation of the exact tensor features on small n, and the
/// seed/global-index discipline (a row's sketch depends on that row and the seed alone).
final class PolySketchTests: XCTestCase {
    static func unit(_ d: Int, seed: UInt64) -> [Double] {
        let g = Philox4x32(seed: seed)
        let v = (0..<d).map { g.normal(index: UInt64($0), stream: 3) }
        let norm = v.map { $0 * $0 }.reduce(0, +).squareRoot()
        return v.map { $0 / norm }
    }

    /// Two rows x, y as a 2 × d column-major array.
    static func pair(_ x: [Double], _ y: [Double]) -> [Double] { (0..<x.count).flatMap { [x[$0], y[$0]] } }

    static func inner(_ z: [Double], rows n: Int, _ i: Int, _ j: Int) -> Double {
        stride(from: 0, to: z.count, by: n).map { z[$0 + i] * z[$0 + j] }.reduce(0, +)
    }

    /// E⟨z(u, v), z(u′, v′)⟩ = ⟨u, u′⟩⟨v, v′⟩ for TensorSRHT, and E⟨Qx, Qy⟩ = ⟨x, y⟩^ℓ for
    /// PolySketch, ℓ = 2, 3, 5: the mean over 400 seeds within 5 standard errors.
    func testUnbiasedOverSeeds() throws {
        let d = 6
        let x = Self.unit(d, seed: 1), y = Self.unit(d, seed: 2).enumerated().map { $0.element + 0.8 * x[$0.offset] }
        let xy = zip(x, y).map { $0 * $1 }.reduce(0, +)
        let rows = Self.pair(x, y)
        func check(_ name: String, expected: Double, _ sample: (UInt64) throws -> Double) rethrows {
            let s = try (0..<400).map { try sample(UInt64($0)) }
            let mean = s.reduce(0, +) / Double(s.count)
            let sd = (s.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(s.count - 1)).squareRoot()
            XCTAssertGreaterThan(sd, 0, "\(name): a sketch that does not vary over seeds tests nothing")
            XCTAssertEqual(mean, expected, accuracy: 5 * sd / Double(s.count).squareRoot(), name)
        }
        try check("TensorSRHT", expected: xy * xy) { seed in
            let t = try TensorSRHT(leftWidth: d, rightWidth: d, outputs: 16, seed: seed, stream: 9)
            return Self.inner(try t.apply(left: rows, right: rows, rows: 2), rows: 2, 0, 1)
        }
        for l in [2, 3, 5] {
            try check("PolySketch degree \(l)", expected: pow(xy, Double(l))) { seed in
                let q = try PolySketch(degree: l, inputWidth: d, outputs: 16, seed: seed)
                return Self.inner(try q.apply(rows, rows: 2), rows: 2, 0, 1)
            }
        }
    }

    /// Var‖Qx‖² for a unit x grows polynomially (about linearly) in the degree: at most 12·ℓ/m for
    /// ℓ = 2, 4, 8 (NumPy measured 2.7–7·ℓ/m; a product of ℓ independently sketched factors
    /// grows like 3^ℓ).
    func testVarianceBoundByDegree() throws {
        let d = 16, m = 64
        let x = Self.unit(d, seed: 7)
        for l in [2, 4, 8] {
            let s = try (0..<300).map { seed -> Double in
                let z = try PolySketch(degree: l, inputWidth: d, outputs: m, seed: UInt64(seed)).apply(x, rows: 1)
                return z.map { $0 * $0 }.reduce(0, +)
            }
            let mean = s.reduce(0, +) / Double(s.count)
            let variance = s.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(s.count - 1)
            XCTAssertGreaterThan(variance, 0)
            XCTAssertLessThanOrEqual(variance, 12 * Double(l) / Double(m), "degree \(l)")
        }
    }

    /// On n = 40 rows (d = 4), PolySketch of degree 3 with m = 2,048 outputs approximates the Gram
    /// matrix G = (AAᵀ)^{∘3} of the exact tensor features A^{⊗3}: the eigenvalues of
    /// (G + I)^{-1/2}(QQᵀ + I)(G + I)^{-1/2} lie in [0.6, 1.4] (NumPy: 0.77–1.23 over seeds).
    func testSpectralApproximationAgainstExactTensorFeatures() throws {
        let n = 40, d = 4, m = 2_048
        let g = Philox4x32(seed: 5)
        let a = (0..<(n * d)).map { g.normal(index: UInt64($0), stream: 1) * 0.5 }
        var exact = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n {
            var dot = 0.0
            for c in 0..<d { dot += a[i + c * n] * a[j + c * n] }
            exact[i + j * n] = dot * dot * dot + (i == j ? 1 : 0)
        } }
        let z = try PolySketch(degree: 3, inputWidth: d, outputs: m, seed: 11).apply(a, rows: n)
        var p = [Double](repeating: 0, count: n * n)
        BLAS.gemm(.none, .transpose, m: n, n: n, k: m, alpha: 1, a: z, lda: n, b: z, ldb: n, beta: 0, c: &p, ldc: n)
        for i in 0..<n { p[i + i * n] += 1 }
        try LAPACK.potrf(upper: true, n: n, a: &exact, lda: n)
        for j in 0..<n { for i in (j + 1)..<n { exact[i + j * n] = 0 } }
        BLAS.trsm(left: true, .upper, .transpose, m: n, n: n, alpha: 1, t: exact, ldt: n, b: &p, ldb: n)
        BLAS.trsm(left: false, .upper, .none, m: n, n: n, alpha: 1, t: exact, ldt: n, b: &p, ldb: n)
        let eig = SymmetricEigenvalues.jacobi(p, order: n)
        XCTAssertGreaterThanOrEqual(eig.min() ?? 0, 0.6, "\(eig.min() ?? 0)")
        XCTAssertLessThanOrEqual(eig.max() ?? 9, 1.4, "\(eig.max() ?? 0)")
    }

    /// A row's sketch is a function of (seed, that row): sketching rows 3…9 alone gives the same
    /// bits as rows 3…9 of the sketch of all 12; another seed gives other values.
    func testRowSketchDependsOnTheRowAndSeedOnly() throws {
        let n = 12, d = 5, m = 24
        let g = Philox4x32(seed: 8)
        let a = (0..<(n * d)).map { g.normal(index: UInt64($0), stream: 2) }
        let part = (0..<d).flatMap { c in (3..<10).map { a[$0 + c * n] } }
        let q = try PolySketch(degree: 3, inputWidth: d, outputs: m, seed: 4)
        let whole = try q.apply(a, rows: n), alone = try q.apply(part, rows: 7)
        for k in 0..<m { for i in 0..<7 { XCTAssertEqual(alone[i + k * 7], whole[3 + i + k * n]) } }
        let other = try PolySketch(degree: 3, inputWidth: d, outputs: m, seed: 5).apply(a, rows: n)
        XCTAssertNotEqual(other, whole)
    }

    func testInvalidShapesThrow() {
        XCTAssertThrowsError(try PolySketch(degree: 1, inputWidth: 3, outputs: 4, seed: 0))
        XCTAssertThrowsError(try TensorSRHT(leftWidth: 0, rightWidth: 3, outputs: 4, seed: 0, stream: 0))
        XCTAssertThrowsError(try PolySketch(degree: 2, inputWidth: 3, outputs: 4, seed: 0).apply([1, 2], rows: 1))
    }
}
