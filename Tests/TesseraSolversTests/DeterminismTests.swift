import XCTest
import Foundation
import Tessera
import TesseraTestSupport

/// Same inputs, seed and tile size → identical bits on 1 and 2 threads and across repeated runs,
/// for every method of every problem; concurrent solves (shared and separate solver objects)
/// give the bits of the same solves run one by one.
final class DeterminismTests: XCTestCase {
    func attentionMatrix(n: Int, d: Int, engine: Engine, tileRows: Int) throws -> TiledMatrix {
        try TiledMatrix(layout: TileLayout(rows: n, cols: d, tileRows: tileRows), engine: engine,
                        value: Reference.rowsOfNorm(1, cols: d, seed: 12))
    }

    /// x for (problem, method) on 1 thread, 2 threads, 2 threads again and 1 thread again, each
    /// from a freshly built matrix and solver; all four must have the same bits.
    func checkTall(_ problem: TallProblem, _ method: SolveMethod?) throws {
        let j = problem == .gram ? 2 : 1
        var runs: [[UInt64]] = []
        for threads in [1, 2, 2, 1] {
            let engine = try Engine(threads: threads)
            let p = try ProblemGenerator.make(problem, rows: 3_000, cols: 12, condition: 100, power: j, seed: 5, engine: engine, tileRows: 400)
            var options = SolveOptions()
            options.method = method
            let s = try TallSolver(matrix: p.matrix, engine: engine, problem: .tall(problem, power: j), options: options)
            let solution = try s.solve(p.rhs)
            runs.append(solution.x.map(\.bitPattern))
        }
        for k in 1..<runs.count { XCTAssertEqual(runs[0], runs[k], "\(problem) \(method?.rawValue ?? "auto"): run \(k) differs") }
    }

    func checkAttention(_ method: SolveMethod?, lowRank: LowRankMethod = .rpcholesky) throws {
        let n = 700, d = 5
        let b = (0..<n).map { Double(($0 * 37) % 11) - 5 }
        var options = SolveOptions()
        options.method = method
        options.lowRank = lowRank
        options.rank = 120
        options.maxIterations = 60
        var runs: [[UInt64]] = []
        for threads in [1, 2, 2, 1] {
            let engine = try Engine(threads: threads)
            // Tiles of 96 rows: several tile pairs, and a Cholesky block size that does not divide n.
            let a = try attentionMatrix(n: n, d: d, engine: engine, tileRows: 96)
            let solver = try AttentionSolver(matrix: a, engine: engine, problem: .attention(ridge: 1e-3), options: options)
            runs.append(try solver.solve(b).x.map(\.bitPattern))
        }
        for k in 1..<runs.count { XCTAssertEqual(runs[0], runs[k], "attention \(method?.rawValue ?? "auto"): run \(k) differs") }
    }

    func testGramAuto() throws { try checkTall(.gram, nil) }
    func testGramPaper() throws { try checkTall(.gram, .paper) }
    func testGramPCG() throws { try checkTall(.gram, .pcg) }
    func testGramDirect() throws { try checkTall(.gram, .direct) }
    func testGramCholesky() throws { try checkTall(.gram, .cholesky) }
    func testLstsqAuto() throws { try checkTall(.lstsq, nil) }
    func testLstsqPaper() throws { try checkTall(.lstsq, .paper) }
    func testLstsqPCG() throws { try checkTall(.lstsq, .pcg) }
    func testLstsqDirect() throws { try checkTall(.lstsq, .direct) }
    func testLstsqCholesky() throws { try checkTall(.lstsq, .cholesky) }
    func testAttentionAuto() throws { try checkAttention(nil) }
    func testAttentionPCG() throws { try checkAttention(.pcg) }
    func testAttentionPCGNystrom() throws { try checkAttention(.pcg, lowRank: .nystrom) }
    func testAttentionDirect() throws { try checkAttention(.direct) }
    func testAttentionPaper() throws { try checkAttention(.paper) }
    func testAttentionSurrogate() throws { try checkAttention(.surrogate) }

    /// Many solves at once from many threads, on one shared solver and on separate solvers,
    /// equal the sequential solves bit for bit.
    func testConcurrentSolvesEqualSequentialBits() throws {
        let engine = try Engine(threads: 2)
        let p = try ProblemGenerator.make(.lstsq, rows: 2_000, cols: 10, condition: 100, power: 1, seed: 9, engine: engine, tileRows: 250)
        let options = { var o = SolveOptions(); o.method = .pcg; return o }()
        let shared = try TallSolver(matrix: p.matrix, engine: engine, problem: .lstsq(power: 1), options: options)
        let rhs = (0..<8).map { k in p.rhs.enumerated().map { $1 * Double(k + 1) + Double(($0 * (k + 3)) % 7) } }
        let sequential = try rhs.map { try shared.solve($0).x.map(\.bitPattern) }
        let viaShared = Locked([[UInt64]](repeating: [], count: rhs.count))
        let viaSeparate = Locked([[UInt64]](repeating: [], count: rhs.count))
        let failures = Locked([String]())
        DispatchQueue.concurrentPerform(iterations: 2 * rhs.count) { job in
            let k = job % rhs.count
            do {
                if job < rhs.count {
                    let x = try shared.solve(rhs[k]).x.map(\.bitPattern)
                    viaShared.withLock { $0[k] = x }
                } else {
                    let own = try TallSolver(matrix: p.matrix, engine: engine, problem: .lstsq(power: 1), options: options)
                    let x = try own.solve(rhs[k]).x.map(\.bitPattern)
                    viaSeparate.withLock { $0[k] = x }
                }
            } catch { failures.withLock { $0.append("\(error)") } }
        }
        XCTAssertEqual(failures.withLock { $0 }, [])
        let a = viaShared.withLock { $0 }, s = viaSeparate.withLock { $0 }
        for k in 0..<rhs.count {
            XCTAssertEqual(a[k], sequential[k], "shared solver, right-hand side \(k)")
            XCTAssertEqual(s[k], sequential[k], "separate solver, right-hand side \(k)")
        }
    }

    /// The same for one shared attention solver (its preconditioner reused by every solve).
    func testConcurrentAttentionSolvesEqualSequentialBits() throws {
        let engine = try Engine(threads: 2)
        let a = try attentionMatrix(n: 500, d: 4, engine: engine, tileRows: 100)
        let options = { var o = SolveOptions(); o.method = .pcg; o.rank = 60; return o }()
        let solver = try AttentionSolver(matrix: a, engine: engine, problem: .attention(ridge: 1e-2), options: options)
        let rhs = (0..<6).map { k in (0..<500).map { Double(($0 * (k + 2)) % 9) - 4 } }
        let sequential = try rhs.map { try solver.solve($0).x.map(\.bitPattern) }
        let results = Locked([[UInt64]](repeating: [], count: rhs.count))
        DispatchQueue.concurrentPerform(iterations: rhs.count) { k in
            let x = (try? solver.solve(rhs[k]).x.map(\.bitPattern)) ?? []
            results.withLock { $0[k] = x }
        }
        XCTAssertEqual(results.withLock { $0 }, sequential)
    }

    /// The tiled Cholesky equals LAPACK's on the whole matrix to rounding, and its bits do not
    /// depend on the number of workers.
    func testTiledCholeskyMatchesLAPACKAndIsThreadIndependent() throws {
        let n = 301
        let g = Philox4x32(seed: 3)
        let m = (0..<(n * 7)).map { g.normal(index: UInt64($0), stream: 1) }
        var spd = [Double](repeating: 0, count: n * n)
        for j in 0..<n { for i in 0..<n {
            var s = i == j ? Double(n) : 0
            for k in 0..<7 { s += m[i + k * n] * m[j + k * n] }
            spd[i + j * n] = s
        } }
        var reference = spd
        try LAPACK.potrf(n: n, a: &reference, lda: n)
        var factors: [[UInt64]] = []
        for threads in [1, 2] {
            let engine = try Engine(threads: threads)
            let block = try SharedBlock(spd, engine: engine)
            try TiledCholesky.factor(block, order: n, blockSize: 64, engine: engine)
            let u = block.toArray()
            var worst = 0.0
            for j in 0..<n { for i in 0...j { worst = max(worst, abs(u[i + j * n] - reference[i + j * n])) } }
            XCTAssertLessThan(worst, 1e-12 * Double(n), "threads \(threads)")
            factors.append((0..<n).flatMap { j in (0...j).map { u[$0 + j * n].bitPattern } })
        }
        XCTAssertEqual(factors[0], factors[1])
        // A matrix that is not positive definite: the error names the failing rows.
        let engine = try Engine(threads: 2)
        var indefinite = spd
        indefinite[200 + 200 * n] = -1
        XCTAssertThrowsError(try TiledCholesky.factor(SharedBlock(indefinite, engine: engine), order: n, blockSize: 64, engine: engine)) { e in
            XCTAssertTrue(((e as? TesseraError)?.message ?? "").contains("rows 192..<256"), "\(e)")
        }
    }
}
