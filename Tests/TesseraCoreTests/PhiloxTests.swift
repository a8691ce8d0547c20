import XCTest
@testable import TesseraCore

final class PhiloxTests: XCTestCase {
    /// Known-answer vectors of Philox4x32-10 from the Random123 distribution (kat_vectors).
    func testPhiloxMatchesRandom123KnownAnswers() {
        let zero = Philox4x32(seed: 0).block(SIMD4<UInt32>(0, 0, 0, 0))
        XCTAssertEqual(zero, SIMD4<UInt32>(0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8))
        let ones = Philox4x32(seed: UInt64.max).block(SIMD4<UInt32>(repeating: 0xffff_ffff))
        XCTAssertEqual(ones, SIMD4<UInt32>(0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd))
        let pi = Philox4x32(seed: UInt64(0x299f_31d0) << 32 | 0xa409_3822)
            .block(SIMD4<UInt32>(0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344))
        XCTAssertEqual(pi, SIMD4<UInt32>(0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1))
    }

    /// A value is a function of (seed, index, stream) alone: the same from a fresh generator and
    /// from one that has drawn thousands of other values first, in any query order (a generator
    /// with hidden sequential state would fail the shuffled and reversed orders).
    func testElementDependsOnlyOnSeedIndexAndStream() {
        let indices: [UInt64] = [0, 1, 2, 3, 12_345, 1 << 32, 1 << 40, UInt64.max - 1]
        let fresh = indices.map { Philox4x32(seed: 7).normal(index: $0, stream: 3).bitPattern }
        let used = Philox4x32(seed: 7)
        for i in 0..<5_000 { _ = used.normal(index: UInt64(i * 7 + 1), stream: UInt64(i % 5)) }
        for order in [Array(indices.indices), Array(indices.indices.reversed()), [5, 0, 7, 2, 6, 1, 4, 3]] {
            for k in order {
                XCTAssertEqual(used.normal(index: indices[k], stream: 3).bitPattern, fresh[k], "index \(indices[k])")
            }
        }
        XCTAssertEqual(Set(fresh).count, fresh.count, "neighbouring indices give distinct values")
        let g = Philox4x32(seed: 7)
        XCTAssertNotEqual(g.uniform(index: 5, stream: 0), g.uniform(index: 5, stream: 1))
        XCTAssertNotEqual(g.uniform(index: 5, stream: 0), Philox4x32(seed: 8).uniform(index: 5, stream: 0))
    }

    /// Moments of 200,000 normals within 5 standard errors; uniforms strictly inside (0, 1).
    func testNormalMomentsAndUniformRange() {
        let g = Philox4x32(seed: 2024)
        let n = 200_000
        var sum = 0.0, sumSq = 0.0, sum4 = 0.0
        for i in 0..<n {
            let z = g.normal(index: UInt64(i), stream: 0)
            sum += z; sumSq += z * z; sum4 += z * z * z * z
            let u = g.uniform(index: UInt64(i), stream: 1)
            XCTAssert(u > 0 && u < 1)
        }
        let mean = sum / Double(n), variance = sumSq / Double(n) - mean * mean
        XCTAssertEqual(mean, 0, accuracy: 5 / Double(n).squareRoot())
        XCTAssertEqual(variance, 1, accuracy: 5 * 2.0.squareRoot() / Double(n).squareRoot())
        XCTAssertEqual(sum4 / Double(n), 3, accuracy: 5 * 96.0.squareRoot() / Double(n).squareRoot())
    }

    /// Signs are balanced and serially independent: each of the four (sᵢ, sᵢ₊₁) pairs occurs
    /// 25,000 ± 5σ times in 100,000, and the number of runs is 50,000 ± 5σ (a generator that
    /// alternated or repeated signs would keep the balance and fail these).
    func testSignsAreBalancedAndIndependent() {
        let g = Philox4x32(seed: 1)
        let signs = (0..<100_001).map { g.sign(index: UInt64($0), stream: 9) > 0 }
        let plus = signs.dropLast().filter { $0 }.count
        XCTAssertEqual(Double(plus), 50_000, accuracy: 5 * 158)
        var pairs = [0, 0, 0, 0]
        for i in 0..<100_000 { pairs[(signs[i] ? 2 : 0) + (signs[i + 1] ? 1 : 0)] += 1 }
        for count in pairs { XCTAssertEqual(Double(count), 25_000, accuracy: 5 * 137, "\(pairs)") }
        let runs = 1 + (1..<100_000).filter { signs[$0] != signs[$0 - 1] }.count
        XCTAssertEqual(Double(runs), 50_000, accuracy: 5 * 158)
    }
}

final class CheckedArithmeticTests: XCTestCase {
    func testOverflowBecomesResourceLimitError() {
        XCTAssertThrowsError(try Checked.multiply(Int.max / 2, 3, "test size")) { error in
            guard case .resourceLimit(let m) = error as? TesseraError else { return XCTFail("\(error)") }
            XCTAssertTrue(m.contains("test size"))
        }
        XCTAssertEqual(try Checked.product([3, 4, 5], "p"), 60)
        XCTAssertThrowsError(try Checked.int32(Int(Int32.max) + 1, "the row count")) { error in
            guard case .invalidArgument(let m) = error as? TesseraError else { return XCTFail("\(error)") }
            XCTAssertTrue(m.contains("the row count"), m)
        }
        XCTAssertEqual(Checked.ceilDiv(10, 3), 4)
    }
}
