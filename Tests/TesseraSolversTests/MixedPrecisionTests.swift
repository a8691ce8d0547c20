import XCTest
import Tessera
import TesseraTestSupport

/// `Precision.mixed`: pcg preconditioned by the float32 Gram's factor reaches the certificates of
/// the float64 route, in a few passes, with the same bits on 1 and 2 workers; it falls back to
/// float64 where κ(A) makes a float32 Gram useless; the planner picks it only for large d.
final class MixedPrecisionTests: XCTestCase {
    /// A = U·diag(1 … 1/κ)·Vᵀ-like: columns scaled geometrically, mixed by a fixed rotation.
    private func matrix(rows n: Int, cols d: Int, condition: Double, engine: Engine) throws -> TiledMatrix {
        let base = Reference.randomMatrix(rows: n, cols: d, seed: 81)
        return try TiledMatrix(layout: try TileLayout(rows: n, cols: d, tileRows: 1_024), engine: engine) { i, j in
            base(i, j) * pow(condition, -Double(j) / Double(d - 1))
        }
    }

    func testMixedReachesTheFloat64CertificatesInAFewPasses() throws {
        let two = try Engine(threads: 2), one = try Engine(threads: 1)
        let n = 4_000, d = 120
        for condition in [10.0, 300.0] {
            let a2 = try matrix(rows: n, cols: d, condition: condition, engine: two)
            let a1 = try matrix(rows: n, cols: d, condition: condition, engine: one)
            for problem in [Problem.gram(power: 1), .gram(power: 2), .lstsq(power: 0), .lstsq(power: 1)] {
                let label = "\(problem) κ ≈ \(condition)"
                let b = Reference.randomVector(count: problem.rightHandSideLength(rows: n, cols: d), seed: 82)
                var mixed = SolveOptions()
                mixed.precision = .mixed
                let solver = try TallSolver(matrix: a2, engine: two, problem: problem, options: mixed)
                XCTAssertEqual(solver.factor.origin, .float32Gram, label)
                let s = try solver.solve(b)
                XCTAssertTrue(s.report.converged, "\(label): \(s.report.text)")
                XCTAssertLessThanOrEqual(s.report.iterations.reduce(0, +), 12 * max(1, problem.power ?? 1), label)
                var exact = SolveOptions()
                exact.method = .cholesky
                let reference = try TallSolver(matrix: a2, engine: two, problem: problem, options: exact).solve(b)
                XCTAssertLessThan(Reference.maxRelativeDifference(s.x, reference.x), 1e-8 * condition, label)
                // The certificates' ‖A‖, measured in their own pass (a Rayleigh quotient, from
                // below), agrees with the exact factor's ‖R‖.
                XCTAssertEqual(s.report.normA, reference.report.normA, accuracy: 1e-6 * reference.report.normA, label)
                let serial = try TallSolver(matrix: a1, engine: one, problem: problem, options: mixed).solve(b)
                XCTAssertEqual(serial.x, s.x, "\(label): the same bits on 1 and 2 workers")
            }
        }
    }

    /// Columns scaled over six orders: float32 rounding is relative per entry, the factor absorbs
    /// the scaling, so mixed precision keeps working where κ(A) itself is 1e6.
    func testColumnScalingDoesNotStopMixedPrecision() throws {
        let engine = try Engine(threads: 2)
        let a = try matrix(rows: 3_000, cols: 60, condition: 1e6, engine: engine)
        var options = SolveOptions()
        options.precision = .mixed
        let solver = try TallSolver(matrix: a, engine: engine, problem: .lstsq(power: 0), options: options)
        XCTAssertEqual(solver.factor.origin, .float32Gram)
        let s = try solver.solve(Reference.randomVector(count: 3_000, seed: 84))
        XCTAssertTrue(s.report.converged, s.report.text)
        XCTAssertLessThanOrEqual(s.report.iterations.reduce(0, +), 10, s.report.text)
    }

    /// A·H with the Householder reflection H = I − 2vvᵀ/‖v‖², v = (1, …, 1): κ(A) in a basis
    /// that no column scaling undoes.
    private func rotated(rows n: Int, cols d: Int, condition: Double, engine: Engine) throws -> TiledMatrix {
        let scaled = try matrix(rows: n, cols: d, condition: condition, engine: engine).toColumnMajorArray()
        var rotated = scaled
        for i in 0..<n {
            var dot = 0.0
            for j in 0..<d { dot += scaled[i + j * n] }
            for j in 0..<d { rotated[i + j * n] -= 2 * dot / Double(d) }
        }
        let values = rotated
        return try TiledMatrix(layout: try TileLayout(rows: n, cols: d, tileRows: 1_024), engine: engine) { values[$0 + $1 * n] }
    }

    /// Forced float32 (--precision mixed) where κ(A) = 1e4 with log-spaced singular values in a
    /// random basis (the generator's A, seed 1 as `tessera generate`): the corrected
    /// semi-normal steps contract too slowly, hand over to LSQR from their best point (more
    /// steps than their cap of 6), and the solve still meets the float64 certificate; on κ = 1e4
    /// by column scaling alone they converge by themselves.
    func testSlowSemiNormalStepsHandOverToLSQR() throws {
        let engine = try Engine(threads: 2)
        let p = try ProblemGenerator.make(.lstsq, rows: 3_000, cols: 60, condition: 1e4, power: 1, seed: 1, engine: engine)
        let scaled = try matrix(rows: 3_000, cols: 60, condition: 1e4, engine: engine)
        for (label, a, handsOver) in [("generated", p.matrix, true), ("column-scaled", scaled, false)] {
            var options = SolveOptions()
            options.precision = .mixed
            let solver = try TallSolver(matrix: a, engine: engine, problem: .lstsq(power: 1), options: options)
            XCTAssertEqual(solver.factor.origin, .float32Gram, label)
            let s = try solver.solve(p.rhs)
            XCTAssertTrue(s.report.converged, s.report.text)
            if handsOver {
                XCTAssertGreaterThan(s.report.iterations[0], 6, "LSQR took over: \(s.report.text)")
            } else {
                XCTAssertLessThanOrEqual(s.report.iterations[0], 6, "the semi-normal steps alone: \(s.report.text)")
            }
            // κ(A(AᵀA))·u ≈ 1e-4: x itself is not determined to more than that, the certificate
            // is — to the tolerance or to the floor float64 can certify for this x (reported).
            XCTAssertLessThanOrEqual(s.report.optimality ?? .infinity, max(1e-12, s.report.accuracyFloor), label)
        }
    }

    /// κ = 1e6 in a rotated basis (no column scaling to absorb): the float32 Gram is useless (or
    /// not positive definite) and the solve takes the float64 route, saying so.
    func testAnIllConditionedAFallsBackToFloat64() throws {
        let engine = try Engine(threads: 2)
        let n = 3_000, d = 60
        let a = try rotated(rows: n, cols: d, condition: 1e6, engine: engine)
        var options = SolveOptions()
        options.precision = .mixed
        let solver = try TallSolver(matrix: a, engine: engine, problem: .gram(power: 1), options: options)
        XCTAssertNotEqual(solver.factor.origin, .float32Gram)
        let s = try solver.solve(Reference.randomVector(count: 60, seed: 83))
        XCTAssertTrue(s.report.converged, s.report.text)
        XCTAssertTrue(s.report.notes.contains { $0.contains("float32 Gram") && $0.contains("float64 route") }, s.report.notes.joined(separator: "\n"))
    }

    func testThePlannerPicksMixedOnlyWhereTheGramDominates() {
        let planner = TallPlanner()
        let wide = planner.choose(.gram, power: 1, rows: 125_000, cols: 2_000, workers: 2, options: SolveOptions())
        XCTAssertEqual(wide.precision, .mixed, wide.reason)
        XCTAssertEqual(wide.method, .pcg)
        let narrow = planner.choose(.gram, power: 1, rows: 1_000_000, cols: 256, workers: 2, options: SolveOptions())
        XCTAssertEqual(narrow.precision, .double, narrow.reason)
        var double = SolveOptions()
        double.precision = .double
        XCTAssertEqual(planner.choose(.gram, power: 1, rows: 125_000, cols: 2_000, workers: 2, options: double).precision, .double)
        var forced = SolveOptions()
        forced.method = .cholesky
        XCTAssertEqual(planner.choose(.lstsq, power: 0, rows: 125_000, cols: 2_000, workers: 2, options: forced).precision, .double)
    }
}
