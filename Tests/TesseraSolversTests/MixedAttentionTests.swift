import XCTest
import Tessera
@testable import TesseraSolvers
import TesseraTestSupport

/// Mixed-precision attention (`Precision.mixed` for `pcg`): float32-panel products within their
/// stated entrywise bound and thread-independent; refinement reaches the float64 certificate with
/// the same bits on 1 and 2 workers; long rows fall back to float64 products; a refinement step
/// that does not halve the exact residual hands over to float64 PCG; the planner's choice.
final class MixedAttentionTests: XCTestCase {
    func matrix(n: Int, d: Int, norm: Double, engine: Engine, tileRows: Int = 300) throws -> TiledMatrix {
        try TiledMatrix(layout: TileLayout(rows: n, cols: d, tileRows: tileRows), engine: engine,
                        value: Reference.rowsOfNorm(norm, cols: d, seed: 61))
    }

    func options(precision: Precision?) -> SolveOptions {
        var o = SolveOptions()
        o.precision = precision
        o.mayStoreKernel = false
        o.method = .pcg
        o.rank = 200
        return o
    }

    /// |K̃x − Kx| ≤ singleEntryError·(K|x|) entrywise (K > 0), ragged tiles; the same bits on 1
    /// and 2 workers; and K̃ is not K (the test would pass vacuously otherwise).
    func testSinglePanelProductsWithinTheirBoundAndThreadIndependent() throws {
        let n = 1_537, d = 24, norm = 1.5
        var bits: [[UInt64]] = []
        for threads in [1, 2] {
            let engine = try Engine(threads: threads)
            // Tiles of 1,100 rows: a diagonal block spans several 512-row panels, so its panels
            // above the diagonal serve both of their row ranges.
            let a = try matrix(n: n, d: d, norm: norm, engine: engine, tileRows: 1_100)
            let exact = try KernelOperator(matrix: a, engine: engine, ridge: 0)
            let single = try exact.inSinglePrecision()
            let x = Reference.randomVector(count: n, seed: 62)
            let y = try single.apply(x), reference = try exact.apply(x), magnitude = try exact.apply(x.map(abs))
            let bound = KernelOperator.singleEntryError(maxRowNormSquared: norm * norm, cols: d)
            var worst = 0.0
            for i in 0..<n { worst = max(worst, abs(y[i] - reference[i]) / magnitude[i]) }
            XCTAssertLessThanOrEqual(worst, bound)
            XCTAssertGreaterThan(worst, 1e-12, "float32 panels should differ from the exact K")
            bits.append(y.map(\.bitPattern))
        }
        XCTAssertEqual(bits[0], bits[1])
    }

    /// The mixed solve meets the same tolerance as float64 pcg, certified by an exact product, in
    /// refinement steps the report names; x agrees with float64's to the conditioning; same bits
    /// on 1 and 2 workers.
    func testMixedRefinementReachesTheFloat64Certificate() throws {
        let n = 700, d = 8, b = Reference.randomVector(count: n, seed: 63)
        var xs: [[Double]] = []
        for threads in [1, 2] {
            let engine = try Engine(threads: threads)
            let a = try matrix(n: n, d: d, norm: 1, engine: engine, tileRows: 256)
            let mixed = try AttentionSolver(matrix: a, engine: engine, problem: .attention(ridge: 1e-3), options: options(precision: .mixed))
            XCTAssertEqual(mixed.plan.precision, .mixed)
            let s = try mixed.solve(b)
            XCTAssertTrue(s.report.converged, s.report.text)
            XCTAssertLessThanOrEqual(s.report.relativeResidual, 1e-10)
            XCTAssertTrue(s.report.iteration?.hasPrefix("mixed: ") ?? false, s.report.iteration ?? "nil")
            XCTAssertFalse(s.report.iteration?.contains("float64 PCG finished") ?? true, "refinement alone must converge")
            XCTAssertGreaterThan(s.report.kernelProducts[.singlePanels]?.count ?? 0, 0)
            let double = try AttentionSolver(matrix: a, engine: engine, problem: .attention(ridge: 1e-3), options: options(precision: .double))
            XCTAssertEqual(double.plan.precision, .double)
            let reference = try double.solve(b)
            XCTAssertNil(reference.report.iteration)
            XCTAssertLessThanOrEqual(Reference.maxRelativeDifference(s.x, reference.x), 1e-5)
            xs.append(s.x)
        }
        XCTAssertEqual(xs[0].map(\.bitPattern), xs[1].map(\.bitPattern))
    }

    /// Rows with ‖aᵢ‖² beyond float32 exp's range: planned mixed, run in float64, and the reason says why.
    func testLongRowsFallBackToFloat64Products() throws {
        let engine = try Engine(threads: 2)
        let n = 800, a = try matrix(n: n, d: 8, norm: 10, engine: engine, tileRows: 200)
        let solver = try AttentionSolver(matrix: a, engine: engine, problem: .attention(ridge: 1), options: options(precision: .mixed))
        XCTAssertNil(solver.singleKernel)
        let s = try solver.solve(Reference.randomVector(count: n, seed: 64))
        XCTAssertTrue(s.report.reason.contains("float64 products after all"), s.report.reason)
        XCTAssertNil(s.report.iteration)
        XCTAssertLessThanOrEqual(s.report.relativeResidual, 1e-10)
        XCTAssertNotNil(AttentionSolver.mixedRefusal(maxRowNormSquared: 4, cols: 4_000))
        XCTAssertNil(AttentionSolver.mixedRefusal(maxRowNormSquared: 1, cols: 64))
    }

    /// An inner operator three times too large makes each correction a third of what it should
    /// be: the exact residual falls to 2/3, not below half, so float64 PCG finishes — converged,
    /// and the summary says so.
    func testStalledRefinementHandsOverToFloat64() throws {
        let engine = try Engine(threads: 2)
        let n = 600, a = try matrix(n: n, d: 8, norm: 1, engine: engine, tileRows: 256)
        let solver = try AttentionSolver(matrix: a, engine: engine, problem: .attention(ridge: 1e-2), options: options(precision: .mixed))
        let preconditioner = try XCTUnwrap(solver.preconditioner)
        let wrong = FunctionOperator(dimension: n) { x throws(TesseraError) in try solver.kernel.apply(x).map { 3 * $0 } }
        let b = Reference.randomVector(count: n, seed: 65), bNorm = b.norm2
        let (result, summary) = try solver.mixedRefinement(b, bNorm: bNorm, start: nil, inner: wrong, preconditioner: preconditioner, target: { _ in 1e-10 * bNorm })
        XCTAssertEqual(result.status, .converged, summary)
        XCTAssertTrue(summary.contains("float64 PCG finished"), summary)
        XCTAssertLessThanOrEqual(try solver.kernel.apply(result.solution).plus(-1, b).norm2, 1e-10 * bNorm)
    }

    /// The planner: mixed for pcg with K on the fly, float64 when K is stored or asked for, and
    /// `--precision mixed` with another method is refused.
    func testPlannerChoosesMixedOnlyForProductsOnTheFly() throws {
        var onTheFly = SolveOptions()
        onTheFly.memoryBudget = 4 << 30
        XCTAssertEqual(try AttentionPlanner.plan(.attention(ridge: 1e-3), rows: 60_000, cols: 64, options: onTheFly).precision, .mixed)
        XCTAssertEqual(try AttentionPlanner.plan(.attention(ridge: 1e-3), rows: 8_000, cols: 64, options: SolveOptions()).precision, .double,
                       "K stored: its product is a memory-bound pass")
        var double = onTheFly
        double.precision = .double
        XCTAssertEqual(try AttentionPlanner.plan(.attention(ridge: 1e-3), rows: 60_000, cols: 64, options: double).precision, .double)
        var forced = SolveOptions()
        forced.precision = .mixed
        let small = try AttentionPlanner.plan(.attention(ridge: 1e-3), rows: 2_000, cols: 16, options: forced)
        XCTAssertEqual(small.method, .pcg)
        XCTAssertEqual(small.precision, .mixed)
        XCTAssertFalse(small.storesKernel)
        // Products on the fly are costly: the default rank is the cap min(n/2, 4,000), grown to
        // adaptively (`rankGrowth`), lowered to fit a small budget; a stored K keeps the small rank.
        var roomy = SolveOptions()
        roomy.memoryBudget = 16 << 30
        roomy.mayStoreKernel = false
        XCTAssertEqual(try AttentionPlanner.plan(.attention(ridge: 1e-3), rows: 60_000, cols: 64, options: roomy).rank, 4_000)
        let capped = try AttentionPlanner.plan(.attention(ridge: 1e-3), rows: 6_000, cols: 64, options: roomy)
        XCTAssertEqual(capped.rank, 3_000)
        XCTAssertEqual(capped.rankGrowth?.minimumRank, 500)
        var tight = roomy
        tight.memoryBudget = 512 << 20
        let lowered = try AttentionPlanner.plan(.attention(ridge: 1e-3), rows: 20_000, cols: 64, options: tight)
        XCTAssertLessThan(lowered.rank, 4_000)
        XCTAssertGreaterThanOrEqual(lowered.rank, 500)
        XCTAssertLessThanOrEqual(lowered.requiredBytes, 512 << 20)
        XCTAssertTrue(lowered.reason.contains("lowered to fit the memory budget"), lowered.reason)
        var storing = SolveOptions()
        storing.memoryBudget = 16 << 30
        XCTAssertEqual(try AttentionPlanner.plan(.attention(ridge: 1e-3), rows: 20_000, cols: 64, options: storing).rank, 1_414)
        forced.method = .direct
        XCTAssertThrowsTesseraError(try AttentionPlanner.plan(.attention(ridge: 1e-3), rows: 2_000, cols: 16, options: forced), "does not combine with --method direct")
    }
}
