import XCTest
import TesseraCore

/// `Format`'s outputs (the CLI's tables and the solvers' messages depend on these exact bytes),
/// `PhiloxStream`'s layout, and the `Interruption` flag.
final class FormatTests: XCTestCase {
    func testBytesInBinaryUnits() {
        XCTAssertEqual(Format.bytes(100), "100 B")
        XCTAssertEqual(Format.bytes(12 << 10), "12 KiB")
        XCTAssertEqual(Format.bytes(300 << 20), "300 MiB")
        XCTAssertEqual(Format.bytes(3 << 29), "1.5 GiB")
        XCTAssertEqual(Format.bytes(UInt64(1.25 * Double(1 << 40))), "1.3 TiB")
    }

    func testDurationInMillisecondsOrTruncatedSeconds() {
        XCTAssertEqual(Format.duration(0.25), "250 ms")
        XCTAssertEqual(Format.duration(0.0004), "0 ms")
        XCTAssertEqual(Format.duration(3.49), "3.4 s")
        XCTAssertEqual(Format.duration(12), "12.0 s")
        XCTAssertEqual(Format.duration(.infinity), "inf s")
    }

    func testFixedSci3AndPadding() {
        XCTAssertEqual(Format.fixed(0.5, 3), "0.500")
        XCTAssertEqual(Format.fixed(12.3456, 3), "12.346")
        XCTAssertEqual(Format.fixed(0.0049, 1), "0.0")
        XCTAssertEqual(Format.fixed(1_234.56, 1), "1234.6")
        XCTAssertEqual(Format.sci3(1.234e-14), "1.23e-14")
        XCTAssertEqual(Format.sci3(0.512), "5.12e-01")
        XCTAssertEqual(Format.sci3(-15.3), "-1.53e+01")
        XCTAssertEqual(Format.sci3(0), "0.0")
        XCTAssertEqual(Format.sci(1.234e-14), "1.2e-14")
        XCTAssertEqual(Format.padded("ab", 5), "ab   ")
        XCTAssertEqual(Format.padded("abcdef", 5), "abcdef ")
    }

    func testEscapeKeepsJSONValid() {
        XCTAssertEqual(Format.escape("a\"b\\c\nd\te"), "a\\\"b\\\\c\\nd e")
    }

    /// The fixed ids keep their values (results written before the table existed keep their
    /// bits), and the ranges that grow (Taylor factors, pivot rounds, sampled rows, sparse-sign
    /// draws) never reach one another.
    func testPhiloxStreamLayout() {
        XCTAssertEqual([PhiloxStream.demoMatrix, PhiloxStream.sketchSigns, PhiloxStream.countSketchBuckets,
                        PhiloxStream.generatorGaussian, PhiloxStream.generatorSolution, PhiloxStream.generatorNoise,
                        PhiloxStream.generatorOrthogonal, PhiloxStream.attentionMatrix, PhiloxStream.attentionSolution,
                        PhiloxStream.lanczosStart, PhiloxStream.nystromTestMatrix],
                       [0, 2, 3, 10, 11, 12, 13, 20, 21, 77, 7_000])
        XCTAssertEqual(PhiloxStream.gaussianSketchRow(5), 5)
        XCTAssertEqual(PhiloxStream.taylorFactor(degree: 3, factor: 7), 3_007)
        XCTAssertEqual(PhiloxStream.taylorColumns(degree: 3, factor: 7), 3_007 + (1 << 32))
        XCTAssertEqual(PhiloxStream.sampledRows(draw: 4), (1 << 40) + 4)
        XCTAssertEqual(PhiloxStream.sparseSignRows(draw: 1), (4 << 32) + 1)
        XCTAssertEqual(PhiloxStream.sparseSignSigns(group: 2), (5 << 32) + 2)
        XCTAssertEqual(PhiloxStream.srhtOutputSign(row: 9), (6 << 32) + 9)
        XCTAssertEqual(PhiloxStream.pivotDraws(round: 3), (1 << 41) + 3)
        // Pivot rounds no longer meet Taylor factors (they used 1_000 + r).
        let taylor = Set((1...6).flatMap { l in (0..<1_000).map { PhiloxStream.taylorFactor(degree: l, factor: $0) } })
        XCTAssertTrue((0..<100_000).allSatisfy { !taylor.contains(PhiloxStream.pivotDraws(round: $0)) })
        XCTAssertFalse(taylor.contains(PhiloxStream.nystromTestMatrix))
        XCTAssertLessThan(PhiloxStream.taylorColumns(degree: 6, factor: 999), PhiloxStream.sparseSignRows(draw: 0))
        XCTAssertLessThan(PhiloxStream.srhtOutputSign(row: Int(UInt32.max)), PhiloxStream.sampledRowsBase)
        XCTAssertLessThan(PhiloxStream.sampledRows(draw: UInt64(UInt32.max)), PhiloxStream.pivotDrawsBase)
    }

    func testInterruptionFlagFirstRequestWins() {
        defer { Interruption.clear() }
        Interruption.clear()
        XCTAssertNil(Interruption.pendingSignal)
        XCTAssertNoThrow(try Interruption.check())
        Interruption.requestStop(signal: 2)
        Interruption.requestStop(signal: 15)
        XCTAssertEqual(Interruption.pendingSignal, 2)
        XCTAssertThrowsError(try Interruption.check()) { XCTAssertEqual($0 as? TesseraError, .interrupted(signal: 2)) }
        Interruption.clear()
        XCTAssertNil(Interruption.pendingSignal)
    }
}
