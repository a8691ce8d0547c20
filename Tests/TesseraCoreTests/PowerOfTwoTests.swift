import XCTest
import TesseraCore

final class PowerOfTwoTests: XCTestCase {
    /// x·2^k is exact and reversible across the whole normal range, including exponents no
    /// single double can hold (2^±1100), and saturates like scalbn beyond it.
    func testScalingIsExactAndReversibleAcrossTheRange() {
        let values = [1.0, -1.5, 0.1, 3.0e-300, 1.7e308, -2.2250738585072014e-308, 123456.789]
        for v in values {
            for k in [-1100, -1000, -600, -1, 0, 1, 600, 1000, 1100] {
                let scaled = PowerOfTwo.scale(v, by: k)
                let log2Result = log2(abs(v)) + Double(k)
                if log2Result >= -1022 && log2Result < 1024 {
                    XCTAssertEqual(PowerOfTwo.scale(scaled, by: -k), v, "\(v)·2^\(k) and back")
                    XCTAssertEqual(scaled.significand, v.significand, "\(v)·2^\(k) keeps its significand")
                } else if log2Result >= 1024 {
                    XCTAssertEqual(scaled, v > 0 ? .infinity : -.infinity, "\(v)·2^\(k) overflows")
                } else {
                    XCTAssertLessThan(abs(scaled), 2.2250738585072014e-308, "\(v)·2^\(k) underflows")
                }
            }
        }
    }

    func testNormalizingExponentBringsTheLargestMagnitudeIntoOneToTwo() {
        for m in [1e-310, 3e-300, 0.75, 1.0, 1.999, 2.0, 1e300, 1.7976931348623157e308] {
            let k = PowerOfTwo.normalizingExponent(of: m)
            let normalized = PowerOfTwo.scale(m, by: k)
            XCTAssertTrue(normalized >= 1 && normalized < 2, "\(m) → \(normalized)")
        }
        XCTAssertEqual(PowerOfTwo.normalizingExponent(of: 0), 0)
        XCTAssertEqual(PowerOfTwo.normalizingExponent(of: .infinity), 0)
        XCTAssertEqual(PowerOfTwo.largestMagnitude([1, -7, 3]), 7)
    }
}
