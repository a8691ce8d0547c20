import XCTest
import Tessera
import TesseraTestSupport

/// Magnitudes far from 1 are solved at unit scale (`UnitScaling`): because 2^k scaling is exact,
/// A·2^k and b·2^k give exactly — to the bit — the unit-scale answer times 2^{(1−e)k}, with the
/// same certificate, or say that x is not a float64.
final class UnitScalingTests: XCTestCase {
    func testScaledProblemsGiveTheUnitScaleBitsScaledBack() throws {
        let engine = try Engine(threads: 2)
        let n = 3_000, d = 8
        let raw = Reference.dense(rows: n, cols: d, Reference.randomMatrix(rows: n, cols: d, seed: 31))
        let unitA = PowerOfTwo.scale(raw, by: PowerOfTwo.normalizingExponent(of: PowerOfTwo.largestMagnitude(raw)))
        let layout = try TileLayout(rows: n, cols: d, tileRows: 1_024)
        for (problem, e) in [(Problem.gram(power: 1), 2), (.gram(power: 2), 4), (.lstsq(power: 0), 1), (.lstsq(power: 1), 3)] {
            let length = problem.rightHandSideLength(rows: n, cols: d)
            let rawB = Reference.randomVector(count: length, seed: 32)
            let unitB = PowerOfTwo.scale(rawB, by: PowerOfTwo.normalizingExponent(of: PowerOfTwo.largestMagnitude(rawB)))
            for method in [SolveMethod.cholesky, .direct, .pcg, .paper] {
                var options = SolveOptions()
                options.method = method
                let unit = try TiledMatrix(layout: layout, engine: engine) { unitA[$0 + $1 * n] }
                let reference = try TallSolver(matrix: unit, engine: engine, problem: problem, options: options).solve(unitB)
                XCTAssertTrue(reference.report.converged, "\(problem) \(method)")
                for k in [700, -700] {
                    let label = "\(problem) \(method) A·2^\(k), b·2^\(k)"
                    let scaled = try TiledMatrix(layout: layout, engine: engine) { PowerOfTwo.scale(unitA[$0 + $1 * n], by: k) }
                    let solver = try TallSolver(matrix: scaled, engine: engine, problem: problem, options: options)
                    XCTAssertEqual(solver.scaleExponent, -k, label)
                    let solution = try solver.solve(PowerOfTwo.scale(unitB, by: k))
                    let back = (1 - e) * k
                    XCTAssertEqual(solution.report.relativeResidual, reference.report.relativeResidual, label)
                    XCTAssertEqual(solution.report.accuracy, reference.report.accuracy, label)
                    XCTAssertEqual(solution.report.normA, PowerOfTwo.scale(reference.report.normA, by: k), label)
                    if abs(back) < 1_000 {
                        XCTAssertTrue(solution.report.converged, label)
                        XCTAssertEqual(solution.x, PowerOfTwo.scale(reference.x, by: back), label)
                    } else {
                        XCTAssertFalse(solution.report.converged, label)
                        XCTAssertFalse(solution.report.solutionRepresentable, label)
                        XCTAssertTrue(solution.report.notes.contains { $0.contains("not representable in float64") }, label)
                    }
                }
            }
        }
    }

    func testOrdinaryMagnitudesAreNotRescaled() throws {
        let engine = try Engine(threads: 2)
        let matrix = try TiledMatrix(layout: try TileLayout(rows: 2_000, cols: 6, tileRows: 512), engine: engine,
                                     value: Reference.randomMatrix(rows: 2_000, cols: 6, seed: 5))
        let solver = try TallSolver(matrix: matrix, engine: engine, problem: .lstsq(power: 1))
        XCTAssertEqual(solver.scaleExponent, 0)
        XCTAssertTrue(solver.op.matrix === matrix, "no copy of A for an A of ordinary magnitude")
        let b = Reference.randomVector(count: 2_000, seed: 6)
        XCTAssertFalse(try solver.solve(b).report.notes.contains { $0.contains("unit scale") })
    }
}
