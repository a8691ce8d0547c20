import XCTest
import Tessera
@testable import TesseraSolvers

/// The verification's one-pass power (AᵀA)^j X (probes G^k X through A together, G = RᵀR):
/// equal to plain loops over the dense A (an oracle that shares no code with the tiled passes)
/// to rounding with an exact factor, refused (nil, so the caller falls back to successive
/// passes, which agree with the plain loops too) with a factor that is not A's.
final class OnePassVerificationTests: XCTestCase {
    func testOnePassPowerMatchesSuccessivePassesAndRefusesAWrongFactor() throws {
        let engine = try Engine(threads: 2)
        let p = try ProblemGenerator.make(.gram, rows: 20_000, cols: 16, condition: 1e3, power: 1, seed: 9, engine: engine, tileRows: 1_024)
        let d = 16, m = 2
        let g = Philox4x32(seed: 5)
        let x = (0..<(d * m)).map { g.normal(index: UInt64($0), stream: 1) }
        // The oracle: (AᵀA)^j X by plain loops over the dense A, sharing no code with the tiled passes.
        let n = 20_000, dense = p.matrix.toColumnMajorArray()
        func plainLoops(_ j: Int) -> [Double] {
            var product = x
            for _ in 0..<j {
                var next = [Double](repeating: 0, count: d * m)
                for c in 0..<m {
                    for r in 0..<n {
                        var t = 0.0
                        for k in 0..<d { t += dense[r + k * n] * product[k + c * d] }
                        for k in 0..<d { next[k + c * d] += dense[r + k * n] * t }
                    }
                }
                product = next
            }
            return product
        }
        func successive(_ j: Int) throws -> [Double] {
            var product = x
            for _ in 0..<j { product = try p.matrix.gramMultiply(block: product, columns: m, engine: engine) }
            return product
        }
        for method in [SolveMethod.cholesky, .direct] {
            var options = SolveOptions()
            options.method = method
            let solver = try TallSolver(matrix: p.matrix, engine: engine, problem: .gram(power: 1), options: options)
            XCTAssertNotNil(solver.exactFactor, "\(method)")
            for j in [1, 2, 3] {
                let reference = plainLoops(j)
                XCTAssertLessThanOrEqual(try successive(j).plus(-1, reference).norm2 / reference.norm2, 1e-13, "successive passes j=\(j)")
                let onePass = try XCTUnwrap(Verification.gramPowerOnePass(op: solver.op, factor: solver.factor.r, block: x, columns: m,
                                                                          power: j, normA: solver.normA), "\(method) j=\(j)")
                XCTAssertLessThanOrEqual(onePass.plus(-1, reference).norm2 / reference.norm2, 1e-13, "\(method) j=\(j)")
            }
            // A factor off by 10⁻⁶ (far above rounding, far below what a residual test would notice
            // at j = 1) is detected, and the public path falls back to the successive passes' bits.
            let wrong = UpperTriangular(values: solver.factor.r.values.map { $0 * (1 + 1e-6) }, order: d)
            XCTAssertNil(try Verification.gramPowerOnePass(op: solver.op, factor: wrong, block: x, columns: m, power: 3, normA: solver.normA))
            let fallback = try Verification.gramPower(op: solver.op, exactFactor: wrong, block: x, columns: m, power: 3, normA: solver.normA)
            XCTAssertEqual(fallback, try successive(3))
            XCTAssertLessThanOrEqual(fallback.plus(-1, plainLoops(3)).norm2 / plainLoops(3).norm2, 1e-13, "the fallback against the plain loops")
        }
        // A sketch preconditioner is not an exact factor: the solver does not offer it, and the
        // agreement test would refuse it anyway.
        var options = SolveOptions()
        options.method = .pcg
        let sketched = try TallSolver(matrix: p.matrix, engine: engine, problem: .gram(power: 1), options: options)
        XCTAssertNil(sketched.exactFactor)
        XCTAssertNil(try Verification.gramPowerOnePass(op: sketched.op, factor: sketched.factor.r, block: x, columns: m, power: 2, normA: sketched.normA))
    }
}
