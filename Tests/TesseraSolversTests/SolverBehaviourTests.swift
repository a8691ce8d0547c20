import XCTest
import Foundation
import Tessera
import TesseraTestSupport
import TesseraIO

final class SolverBehaviourTests: XCTestCase {
    func testRankDeficientMatrixIsRefusedWithItsRankWhenAsked() throws {
        let engine = try Engine(threads: 2)
        let n = 2_000, d = 6
        let g = Philox4x32(seed: 4)
        // Column 5 duplicates column 2.
        let a = try TiledMatrix(layout: TileLayout(rows: n, cols: d, tileRows: 300), engine: engine) { r, c in
            g.normal(index: UInt64(r * d + (c == 5 ? 2 : c)), stream: 0)
        }
        for method in [nil, .paper, .pcg, .direct, .cholesky] as [SolveMethod?] {
            var options = SolveOptions()
            options.method = method
            options.rankDeficient = .refuse      // the default, .minNorm, solves it (RankDeficientTests)
            XCTAssertThrowsError(try TallSolver(matrix: a, engine: engine, problem: .lstsq(power: 0), options: options), "\(String(describing: method))") { error in
                let message = (error as? TesseraError)?.message ?? "\(error)"
                XCTAssertTrue(message.contains("rank deficient") && message.contains("rank 5 of 6"), "\(method?.rawValue ?? "auto"): \(message)")
            }
        }
    }

    func testBadArgumentsAreRefused() throws {
        let engine = try Engine(threads: 2)
        let p = try ProblemGenerator.make(.gram, rows: 500, cols: 5, condition: 10, power: 1, seed: 1, engine: engine)
        let solver = try TallSolver(matrix: p.matrix, engine: engine, problem: .gram(power: 1))
        XCTAssertThrowsTesseraError(try TallSolver(matrix: p.matrix, engine: engine, problem: .gram(power: 0)), "--power must lie in 1...", "got 0")
        XCTAssertThrowsTesseraError(try TallSolver(matrix: p.matrix, engine: engine, problem: .gram(power: 10_000)), "--power must lie in", "got 10000")
        XCTAssertThrowsTesseraError(try solver.solve([1, 2]), "has 2 entries")
        XCTAssertThrowsTesseraError(try solver.solve([1, 2, .nan, 4, 5]), "non-finite value at flat index 2")
        XCTAssertThrowsTesseraError(try TallSolver(matrix: p.matrix, engine: engine, problem: .lstsq(power: 0)).solve(p.rhs), "has 5 entries", "lstsq needs n (the rows of A) = 500")
        var bad = SolveOptions()
        bad.tolerance = 0
        XCTAssertThrowsTesseraError(try TallSolver(matrix: p.matrix, engine: engine, problem: .gram(power: 1), options: bad), "tolerance", "got 0")
        bad = SolveOptions()
        bad.tolerance = 1
        XCTAssertThrowsTesseraError(try TallSolver(matrix: p.matrix, engine: engine, problem: .gram(power: 1), options: bad), "tolerance", "got 1")
        let wide = try TiledMatrix(layout: TileLayout(rows: 3, cols: 5, tileRows: 3), engine: engine) { r, c in Double(r + c) }
        XCTAssertThrowsError(try TallSolver(matrix: wide, engine: engine, problem: .gram(power: 1))) { e in
            XCTAssertTrue(((e as? TesseraError)?.message ?? "").contains("n ≥ d"))
        }
    }

    /// A plan over the memory budget is refused before any work, with the estimate and the budget.
    func testMemoryBudgetRefusesBeforeWork() throws {
        let engine = try Engine(threads: 2)
        let p = try ProblemGenerator.make(.gram, rows: 500, cols: 5, condition: 10, power: 1, seed: 1, engine: engine)
        var options = SolveOptions()
        options.memoryBudget = 4_096
        XCTAssertThrowsError(try TallSolver(matrix: p.matrix, engine: engine, problem: .gram(power: 1), options: options)) { e in
            guard case .resourceLimit(let m)? = e as? TesseraError else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains("over the memory budget of 4 KiB"), m)
        }
        var attention = SolveOptions()
        attention.method = .direct
        attention.memoryBudget = 4 << 30
        XCTAssertThrowsError(try AttentionPlanner.plan(.attention(ridge: 0), rows: 60_000, cols: 64, options: attention)) { e in
            XCTAssertTrue(((e as? TesseraError)?.message ?? "").contains("the direct method (K, 60000 × 60000) needs about 26.9 GiB, over the memory budget of 4 GiB"), "\(e)")
        }
        attention.method = nil
        let plan = try AttentionPlanner.plan(.attention(ridge: 0), rows: 60_000, cols: 64, options: attention)
        XCTAssertEqual(plan.method, .pcg)
        XCTAssertFalse(plan.storesKernel, "K (27 GiB) must not be stored under a 4 GiB budget")
        XCTAssertLessThanOrEqual(plan.requiredBytes, 3 << 30, "the n = 60,000 path must fit the 3 GB target")
    }

    /// Ordinary least squares (j = 0) agrees with numpy.linalg.lstsq (skipped without NumPy).
    func testLeastSquaresMatchesNumPy() throws {
        let engine = try Engine(threads: 2)
        let p = try ProblemGenerator.make(.lstsq, rows: 3_000, cols: 20, condition: 1e3, power: 0, seed: 2, engine: engine)
        let dir = NSTemporaryDirectory() + "tessera-np-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try NpyWriter.write(p.matrix.toColumnMajorArray(), shape: [3_000, 20], fortranOrder: true, to: dir + "/A.npy")
        try NpyWriter.write(p.rhs, shape: [3_000], to: dir + "/b.npy")
        let proc = Process()
        proc.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        proc.arguments = ["python3", "-c", "import numpy as np,sys; d=sys.argv[1]; np.save(d+'/x.npy', np.linalg.lstsq(np.load(d+'/A.npy'), np.load(d+'/b.npy'), rcond=None)[0])", dir]
        try proc.run()
        proc.waitUntilExit()
        // NumPy is a test dependency (scripts/install-deps.sh installs it): a failure, not a skip.
        XCTAssertEqual(proc.terminationStatus, 0, "python3 with NumPy failed to compute the reference")
        let reference = try NpyArray(path: dir + "/x.npy").toArray()
        for method in [nil, .paper, .pcg, .direct, .cholesky] as [SolveMethod?] {
            var options = SolveOptions()
            options.method = method
            let x = try TallSolver(matrix: p.matrix, engine: engine, problem: .lstsq(power: 0), options: options).solve(p.rhs).x
            XCTAssertLessThanOrEqual(x.plus(-1, reference).norm2 / reference.norm2, 1e-9, "\(method?.rawValue ?? "auto")")
        }
    }

    /// A block of right-hand sides through BLAS-3 (exact factors) gives each column the answer and
    /// the verified measures of its own solve: X agrees to 1e-12, every backward error ≤ 1e-13 for
    /// the exact factors and within the tolerance (1e-12) for pcg, which stops once it meets it.
    func testBlockOfRightHandSidesMatchesColumnByColumn() throws {
        let engine = try Engine(threads: 2)
        let p = try ProblemGenerator.make(.gram, rows: 3_000, cols: 12, condition: 10, power: 1, seed: 4, engine: engine, tileRows: 512)
        let block = (0..<5).map { k in p.rhs.enumerated().map { $1 * Double(k + 1) + Double(($0 + k) % 3) } }
        for method in [SolveMethod.cholesky, .direct, .pcg] {
            var options = SolveOptions()
            options.method = method
            let solver = { (j: Int) throws -> TallSolver in try TallSolver(matrix: p.matrix, engine: engine, problem: .gram(power: j), options: options) }
            for j in [1, 2] {
                let together = try solver(j).solve(block: block)
                XCTAssertEqual(together.count, block.count)
                for (k, b) in block.enumerated() {
                    let alone = try solver(j).solve(b)
                    XCTAssertLessThanOrEqual(together[k].x.plus(-1, alone.x).norm2 / alone.x.norm2, 1e-12, "\(method) j=\(j) column \(k)")
                    XCTAssertTrue(together[k].report.converged, together[k].report.text)
                    XCTAssertLessThanOrEqual(together[k].report.backwardError ?? 1, method == .pcg ? 1e-12 : 1e-13, together[k].report.text)
                    if method != .pcg { XCTAssertTrue(together[k].report.text.contains("block of 5"), together[k].report.text) }
                }
            }
        }
    }

    /// lstsq blocks through BLAS-3 (corrected semi-normal equations, block verification): each
    /// column agrees with its own solve and meets optimality ≤ 1e-12 (or float64's floor for
    /// that x), for j = 0, 1, 2, on right-hand sides with a nonzero residual; iterative methods give the same answers column by column.
    func testLstsqBlockOfRightHandSidesMatchesColumnByColumn() throws {
        let engine = try Engine(threads: 2)
        let p = try ProblemGenerator.make(.lstsq, rows: 3_000, cols: 12, condition: 10, power: 0, seed: 6, engine: engine, tileRows: 512)
        let g = Philox4x32(seed: 12)
        let block = (0..<4).map { k in p.rhs.enumerated().map { $1 * Double(k + 1) + 0.01 * g.normal(index: UInt64($0), stream: UInt64(k)) } }
        for method in [SolveMethod.cholesky, .direct, .pcg] {
            var options = SolveOptions()
            options.method = method
            let solver = { (j: Int) throws -> TallSolver in try TallSolver(matrix: p.matrix, engine: engine, problem: .lstsq(power: j), options: options) }
            for j in [0, 1, 2] {
                let together = try solver(j).solve(block: block)
                XCTAssertEqual(together.count, block.count)
                for (k, b) in block.enumerated() {
                    let alone = try solver(j).solve(b)
                    XCTAssertLessThanOrEqual(together[k].x.plus(-1, alone.x).norm2 / alone.x.norm2, 1e-9, "\(method) j=\(j) column \(k)")
                    XCTAssertTrue(together[k].report.converged, together[k].report.text)
                    let report = together[k].report
                    XCTAssertLessThanOrEqual(report.optimality ?? 1, max(1e-12, report.accuracyFloor), report.text)
                    if method != .pcg { XCTAssertTrue(report.text.contains("block of 4"), report.text) }
                }
            }
        }
    }

    func testPlannerPrefersGramRouteForSmallDAndPassesForLargeD() {
        let planner = TallPlanner()
        let small = planner.chooseMethod(.gram, power: 1, rows: 1_000_000, cols: 256, workers: 2, options: SolveOptions())
        XCTAssertEqual(small.method, .cholesky)
        let large = planner.chooseMethod(.gram, power: 1, rows: 20_000_000, cols: 3_000, workers: 2, options: SolveOptions())
        XCTAssertEqual(large.method, .pcg)
        // Measured: at (125,000 × 2,000), j = 1, pcg took 13.3 s and the Gram route ≈ 5 s.
        for (n, d) in [(125_000, 2_000), (250_000, 1_000), (4_000_000, 64)] {
            for j in 1...3 {
                XCTAssertEqual(planner.chooseMethod(.gram, power: j, rows: n, cols: d, workers: 2, options: SolveOptions()).method,
                               .cholesky, "\(n)×\(d) j=\(j)")
            }
        }
        var forced = SolveOptions()
        forced.method = .paper
        XCTAssertEqual(planner.chooseMethod(.lstsq, power: 0, rows: 10, cols: 2, workers: 1, options: forced).method, .paper)
    }

    func testReportJSONIsValidAndCarriesTheMeasures() throws {
        let engine = try Engine(threads: 2)
        let p = try ProblemGenerator.make(.gram, rows: 1_000, cols: 8, condition: 10, power: 1, seed: 1, engine: engine)
        let s = try TallSolver(matrix: p.matrix, engine: engine, problem: .gram(power: 1)).solve(p.rhs)
        let json = try JSONSerialization.jsonObject(with: Data(s.report.json.utf8)) as? [String: Any]
        XCTAssertEqual(json?["problem"] as? String, "gram")
        XCTAssertNotNil(json?["backward_error"] as? Double)
        XCTAssertEqual(json?["converged"] as? Bool, true)
    }
}
