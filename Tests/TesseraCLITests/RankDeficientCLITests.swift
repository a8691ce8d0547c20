import XCTest
import Foundation
import TesseraIO
import Tessera

/// `tessera solve` on a rank-deficient A: exit 0 with the minimum-norm x, a warning line on
/// stderr naming the rank, the rank in the report; the answer equals the one for A with the
/// duplicated column removed by hand (split evenly over the two equal columns), as NumPy's
/// lstsq gives it.
final class RankDeficientCLITests: CLITestCase {
    func testMinimumNormMatchesTheColumnRemovedByHand() throws {
        let n = 600, d = 5
        // Column 4 duplicates column 1; the reduced A has columns 0…3.
        var state: UInt64 = 12_345
        func next() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53) - 0.5
        }
        var reduced = [Double](), full = [Double]()
        for _ in 0..<n {
            let row = (0..<(d - 1)).map { _ in next() }
            reduced += row
            full += row + [row[1]]
        }
        let b = (0..<n).map { _ in next() }
        try NpyWriter.write(reduced, shape: [n, d - 1], to: path("reduced.npy"))
        try NpyWriter.write(full, shape: [n, d], to: path("full.npy"))
        try NpyWriter.write(b, shape: [n], to: path("b.npy"))
        let byHand = try run(["solve", "lstsq", "--matrix", path("reduced.npy"), "--rhs", path("b.npy"), "--power", "0",
                              "--output", path("x-reduced.npy"), "--quiet"])
        XCTAssertEqual(byHand.status, 0, byHand.stderr)
        XCTAssertFalse(byHand.stderr.contains("warning"), byHand.stderr)
        let y = try NpyArray(path: path("x-reduced.npy")).toArray()
        let expected = [y[0], y[1] / 2, y[2], y[3], y[1] / 2]
        for method in ["auto", "paper", "pcg", "direct", "cholesky"] {
            let r = try run(["solve", "lstsq", "--matrix", path("full.npy"), "--rhs", path("b.npy"), "--power", "0", "--method", method,
                             "--output", path("x.npy"), "--report", path("r.json")])
            XCTAssertEqual(r.status, 0, "\(method): \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertTrue(r.stderr.hasPrefix("tessera: warning: A is numerically rank deficient (rank 4 of 5 columns"), r.stderr)
            XCTAssertTrue(r.stdout.contains("rank         4 of 5"), r.stdout)
            let report = try String(contentsOfFile: path("r.json"), encoding: .utf8)
            XCTAssertTrue(report.contains("\"rank\": 4") && report.contains("\"rank_route\": \"householder-qr-svd\""), report)
            let x = try NpyArray(path: path("x.npy")).toArray()
            let error = zip(x, expected).map { abs($0 - $1) }.max() ?? 1
            XCTAssertLessThanOrEqual(error, 1e-12 * (expected.map(abs).max() ?? 1), "\(method): \(x) vs \(expected)")
        }
        let refused = try run(["solve", "lstsq", "--matrix", path("full.npy"), "--rhs", path("b.npy"), "--power", "0",
                               "--rank-deficient", "refuse", "--output", path("x-refused.npy")])
        XCTAssertEqual(refused.status, 2, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("rank deficient: estimated rank 4 of 5"), refused.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("x-refused.npy")))
    }
}
