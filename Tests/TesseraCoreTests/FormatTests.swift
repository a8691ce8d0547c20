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

    /// Every use's range of stream ids, as intervals: no two overlap (so two uses of one seed
    /// never share numbers), and the ids the generator and demo wrote files with keep their values.
    func testPhiloxStreamRangesAreDisjoint() {
        let big = UInt64(UInt32.max)
        func point(_ v: UInt64) -> ClosedRange<UInt64> { v...v }
        let ranges: [(String, ClosedRange<UInt64>)] = [
            ("demo", point(PhiloxStream.demoMatrix)),
            ("signs", point(PhiloxStream.sketchSigns)),
            ("count-sketch", point(PhiloxStream.countSketchBuckets)),
            ("generator G", point(PhiloxStream.generatorGaussian)),
            ("generator x", point(PhiloxStream.generatorSolution)),
            ("generator noise", point(PhiloxStream.generatorNoise)),
            ("generator Q", point(PhiloxStream.generatorOrthogonal)),
            ("attention A", point(PhiloxStream.attentionMatrix)),
            ("attention x", point(PhiloxStream.attentionSolution)),
            ("Lanczos", point(PhiloxStream.lanczosStart)),
            ("Taylor factors", PhiloxStream.taylorFactor(degree: 2, factor: 0)...PhiloxStream.taylorFactor(degree: 40, factor: 39)),
            ("Taylor columns", PhiloxStream.taylorColumns(degree: 2, factor: 0)...PhiloxStream.taylorColumns(degree: 40, factor: 39)),
            ("sparse-sign rows", PhiloxStream.sparseSignRows(draw: 0)...PhiloxStream.sparseSignRows(draw: big)),
            ("sparse-sign signs", PhiloxStream.sparseSignSigns(group: 0)...PhiloxStream.sparseSignSigns(group: Int(big))),
            ("SRHT output signs", PhiloxStream.srhtOutputSign(row: 0)...PhiloxStream.srhtOutputSign(row: Int(big))),
            ("Nyström", point(PhiloxStream.nystromTestMatrix)),
            ("Gaussian sketch rows", PhiloxStream.gaussianSketchRow(0)...PhiloxStream.gaussianSketchRow(Int(big))),
            ("SRHT sampled rows", PhiloxStream.sampledRows(draw: 0)...PhiloxStream.sampledRows(draw: big)),
            ("pivot draws", PhiloxStream.pivotDraws(round: 0)...PhiloxStream.pivotDraws(round: Int(big))),
        ]
        for (i, a) in ranges.enumerated() {
            for b in ranges[(i + 1)...] { XCTAssertFalse(a.1.overlaps(b.1), "\(a.0) overlaps \(b.0)") }
        }
        XCTAssertEqual([PhiloxStream.generatorGaussian, PhiloxStream.generatorSolution, PhiloxStream.generatorNoise,
                        PhiloxStream.generatorOrthogonal, PhiloxStream.attentionMatrix, PhiloxStream.attentionSolution],
                       [10, 11, 12, 13, 20, 21])
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
