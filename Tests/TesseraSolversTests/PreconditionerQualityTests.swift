import XCTest
import Tessera
import TesseraTestSupport

/// The sketch preconditioners do their job: κ(AR⁻¹), from an independent dense SVD (one-sided
/// Jacobi, `JacobiSVD`), stays below a stated bound for every sketch kind at the default size
/// (s = 4d) whatever κ(A) ∈ {1e2, 1e4, 1e6}; and pcg's iteration count does not grow with κ(A).
/// A degraded sketch that still converged slowly would fail both.
final class PreconditionerQualityTests: XCTestCase {
    let n = 4_000, d = 24

    /// Bound on κ(AR⁻¹) for s = 4d. A subspace embedding with distortion ε gives
    /// (1 + ε)/(1 − ε); for a Gaussian sketch ε ≈ √(d/s) = 1/2, so about 3. Measured here
    /// (n = 4,000, d = 24, seed 9): 2.68 Gaussian, 2.65 SRHT, 2.58 CountSketch, 2.44 sparse sign,
    /// the same at every κ(A). 4 fails a sketch that lost rank, scaling or rows.
    static let conditionBound = 4.0

    func testPreconditionedConditionIsBoundedForEverySketchKind() throws {
        let engine = try Engine(threads: 2)
        for kappa in [1e2, 1e4, 1e6] {
            let p = try ProblemGenerator.make(.gram, rows: n, cols: d, condition: kappa, power: 1, seed: 4, engine: engine)
            let dense = p.matrix.toColumnMajorArray()
            let sigmaA = JacobiSVD.singularValues(dense, rows: n, cols: d)
            XCTAssertEqual(sigmaA[0] / sigmaA[d - 1], kappa, accuracy: 0.05 * kappa, "the generator's κ(A)")
            for kind in SketchKind.allCases {
                let factor = try TriangularFactor.sketched(p.matrix, distribution: SketchDistribution(kind: kind, rows: 4 * d, seed: 9),
                                                           engine: engine)
                // B = A·R⁻¹, row by row: Rᵀ·bᵢ = aᵢ.
                var b = [Double](repeating: 0, count: n * d)
                for i in 0..<n {
                    var row = (0..<d).map { dense[i + $0 * n] }
                    factor.r.solveTransposed(&row)
                    for j in 0..<d { b[i + j * n] = row[j] }
                }
                let sigma = JacobiSVD.singularValues(b, rows: n, cols: d)
                let condition = sigma[0] / sigma[d - 1]
                XCTAssertLessThanOrEqual(condition, Self.conditionBound, "\(kind) κ(A)=\(kappa): κ(AR⁻¹) = \(condition)")
                XCTAssertGreaterThanOrEqual(condition, 1)
            }
        }
    }

    /// pcg on gram (j = 1) and lstsq (j = 0) to 1e-12: at most 40 iterations whatever κ(A), and
    /// at κ(A) = 1e6 at most 1.5× the count at 1e2 (lstsq may restart LSQR once where rounding at
    /// κ·u makes its own estimate optimistic) — the count depends on κ(AR⁻¹), not on κ(A),
    /// where an unpreconditioned CG would need ≈ κ(A) times more.
    func testPCGIterationCountsDoNotGrowWithTheCondition() throws {
        let engine = try Engine(threads: 2)
        for problem in [TallProblem.gram, .lstsq] {
            let j = problem == .gram ? 1 : 0
            var counts: [Int] = []
            for kappa in [1e2, 1e4, 1e6] {
                let p = try ProblemGenerator.make(problem, rows: n, cols: d, condition: kappa, power: j, seed: 5, engine: engine)
                var options = SolveOptions()
                options.method = .pcg
                let report = try TallSolver(matrix: p.matrix, engine: engine, problem: .tall(problem, power: j), options: options)
                    .solve(p.rhs).report
                XCTAssertTrue(report.converged, report.text)
                let iterations = report.iterations.reduce(0, +)
                XCTAssertLessThanOrEqual(iterations, 40, "\(problem) κ=\(kappa)")
                counts.append(iterations)
            }
            XCTAssertLessThanOrEqual(Double(counts[2]), 1.5 * Double(counts[0]), "\(problem): iterations at κ = 1e2, 1e4, 1e6: \(counts)")
        }
    }
}
