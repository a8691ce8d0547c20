import XCTest
import TesseraCore
import TesseraKernels
#if canImport(Glibc)
import Glibc
#endif

/// `VectorExp` against libm: accuracy over the whole non-overflowing range, the edges
/// (overflow, underflow, NaN, ±∞), and agreement between the array and scalar paths.
final class VectorExpTests: XCTestCase {
    /// Units in the last place between a and the libm reference b.
    func ulps(_ a: Double, _ b: Double) -> Double {
        if a == b { return 0 }
        return abs(a - b) / b.ulp
    }

    func testVectorExpWithinTwoUlpOfLibm() {
        let g = Philox4x32(seed: 12)
        var worst = 0.0
        let count = 400_000
        var xs = (0..<count).map { -700 + 1409.7 * g.uniform(index: UInt64($0), stream: 0) }
        xs += (0..<count).map { -2 + 4 * g.uniform(index: UInt64($0), stream: 1) }   // the attention range
        xs += [0, 1, -1, 1e-300, -1e-300, 709.78, -708.39, 0.5 * log(2.0), -0.5 * log(2.0)]
        var ys = [Double](repeating: 0, count: xs.count)
        xs.withUnsafeBufferPointer { x in ys.withUnsafeMutableBufferPointer { VectorExp.apply(x.baseAddress!, $0.baseAddress!, count: x.count) } }
        for (x, y) in zip(xs, ys) { worst = max(worst, ulps(y, Glibc.exp(x))) }
        XCTAssertLessThanOrEqual(worst, 2, "max ulp error \(worst)")
        XCTAssertEqual(VectorExp.exp(710), .infinity)
        XCTAssertEqual(VectorExp.exp(-746), 0)
        XCTAssertTrue(VectorExp.exp(.nan).isNaN)
        XCTAssertEqual(VectorExp.exp(-.infinity), 0)
        // Gradual underflow stays close to libm.
        XCTAssertEqual(VectorExp.exp(-740), Glibc.exp(-740), accuracy: Glibc.exp(-740) * 1e-10)
    }

    /// The scalar kernel (the portable path) is within 2 ulp of libm on random arguments too.
    func testScalarExpWithinTwoUlpOfLibm() {
        let g = Philox4x32(seed: 13)
        var worst = 0.0
        for i in 0..<200_000 {
            let x = -745 + 1454.7 * g.uniform(index: UInt64(i), stream: 0)
            worst = max(worst, ulps(VectorExp.exp(x), Glibc.exp(x)))
        }
        XCTAssertLessThanOrEqual(worst, 2, "max ulp error \(worst)")
    }

    /// Arrays mixing overflowing, underflowing, NaN and ordinary values (the AVX2 kernel sends
    /// such groups of 4 to libm): every entry is right, the in-place form gives the same bits,
    /// and lengths that are not a multiple of 4 leave nothing out.
    func testArraysWithEdgeValuesAndRaggedLengths() {
        let specials: [Double] = [800, -800, .nan, .infinity, -.infinity, 709.9, -745.2, 0.25]
        for count in [1, 3, 5, 8, 13] {
            let xs = (0..<count).map { specials[$0 % specials.count] }
            var ys = [Double](repeating: -1, count: count)
            xs.withUnsafeBufferPointer { x in ys.withUnsafeMutableBufferPointer { VectorExp.apply(x.baseAddress!, $0.baseAddress!, count: count) } }
            var inPlace = xs
            inPlace.withUnsafeMutableBufferPointer { VectorExp.applyInPlace($0.baseAddress!, count: count) }
            for (k, x) in xs.enumerated() {
                let expected = Glibc.exp(x)
                if expected.isNaN { XCTAssertTrue(ys[k].isNaN, "exp(\(x))"); continue }
                if expected == 0 || expected.isInfinite { XCTAssertEqual(ys[k], expected, "exp(\(x))"); continue }
                XCTAssertLessThanOrEqual(ulps(ys[k], expected), 2, "exp(\(x))")
            }
            XCTAssertEqual(inPlace.map(\.bitPattern), ys.map(\.bitPattern), "count \(count)")
        }
        XCTAssertEqual(VectorExp.exp(VectorExp.overflowThreshold.nextUp), .infinity)
    }
}
