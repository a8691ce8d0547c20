import XCTest
import Foundation
import TesseraIO

/// A float64 `.npy` is used in place (its tiles are views of the mapping), so a solve's memory
/// budget covers only what Tessera holds — factors, sketches, n-vectors — and A may be larger
/// than the budget (out of core when A is larger than memory). A file that must be converted
/// (float32) is copied, so the same budget refuses it.
final class InPlaceInputTests: CLITestCase {
    func testASolveRunsWithABudgetSmallerThanAWhenAIsUsedInPlace() throws {
        let dir = path("big")
        let n = 200_000, d = 40                                    // A: 64 MB
        XCTAssertEqual(try run(["generate", "lstsq", "--rows", "\(n)", "--cols", "\(d)", "--power", "0", "--output-dir", dir]).status, 0)
        let truth = try NpyArray(path: dir + "/x_true.npy").toArray()
        for method in ["cholesky", "pcg"] {
            let r = try run(["solve", "lstsq", "--power", "0", "--matrix", dir + "/A.npy", "--rhs", dir + "/b.npy", "--method", method,
                             "--memory-budget", "24M", "--output", dir + "/x-\(method).npy", "--quiet"])
            XCTAssertEqual(r.status, 0, "\(method): \(r.stderr)")
            let x = try NpyArray(path: dir + "/x-\(method).npy").toArray()
            let error = zip(x, truth).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
            XCTAssertLessThan(error / truth.map { $0 * $0 }.reduce(0, +).squareRoot(), 1e-8, method)
        }
        // The same A as float32 needs a converted float64 copy (64 MB of tiles): over the budget.
        let a = try NpyArray(path: dir + "/A.npy").toArray()
        let header = Array("{'descr': '<f4', 'fortran_order': False, 'shape': (\(n), \(d)), }".utf8)
        var file: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        let pad = (64 - (10 + header.count + 1) % 64) % 64
        let length = header.count + pad + 1
        file += [UInt8(length & 0xff), UInt8(length >> 8)] + header + [UInt8](repeating: 0x20, count: pad) + [0x0a]
        for v in a { withUnsafeBytes(of: Float(v).bitPattern.littleEndian) { file += $0 } }
        FileManager.default.createFile(atPath: dir + "/A32.npy", contents: Data(file))
        let refused = try run(["solve", "lstsq", "--power", "0", "--matrix", dir + "/A32.npy", "--rhs", dir + "/b.npy",
                               "--memory-budget", "24M", "--output", dir + "/x32.npy"])
        XCTAssertEqual(refused.status, 2, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("memory budget"), refused.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/x32.npy"))
    }
}
