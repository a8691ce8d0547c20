import XCTest
import Tessera
import TesseraTestSupport

/// Rank-deficient A with known null spaces: every method and power gives the minimum-norm
/// solution, checked against the truncated pseudo-inverse from an independent dense SVD of the
/// whole A (LAPACK dgesvd with U, `DenseSVD`), and x is orthogonal to the null space.
final class RankDeficientTests: XCTestCase {
    static let n = 900, d = 12, tileRows = 200

    struct Case {
        let name: String
        let values: [Double]          // column-major n × d
        let nullVectors: [[Double]]   // known null directions (empty: taken from the reference SVD)
        let rcond: Double?
        let rank: Int
    }

    static func unit(_ i: Int, _ d: Int) -> [Double] { (0..<d).map { $0 == i ? 1 : 0 } }

    static func cases() -> [Case] {
        let n = Self.n, d = Self.d
        let base = Reference.randomMatrix(rows: n, cols: d, seed: 31)
        let duplicated = Reference.dense(rows: n, cols: d) { r, c in base(r, c == 7 ? 2 : c == 9 ? 4 : c) }
        let zero = Reference.dense(rows: n, cols: d) { r, c in c == 3 || c == 10 ? 0 : base(r, c) }
        let sum = Reference.dense(rows: n, cols: d) { r, c in c == 11 ? base(r, 0) + base(r, 1) + base(r, 5) : base(r, c) }
        // Rank d/2: A = G·W with G n × 6 and W 6 × d, the rows of W scaled 1 … 1/8 (κ ≈ 10).
        let g = Reference.randomMatrix(rows: n, cols: 6, seed: 32), w = Reference.randomMatrix(rows: 6, cols: d, seed: 33)
        let half = Reference.dense(rows: n, cols: d) { r, c in
            (0..<6).reduce(0.0) { $0 + g(r, $1) * w($1, c) * pow(8, -Double($1) / 5) }
        }
        // The same plus noise whose singular values sit 1e-10 below the kept ones (σ₆ of G·W).
        let clean = DenseSVD(half, rows: n, cols: d)!
        let noise = Reference.randomMatrix(rows: n, cols: d, seed: 34)
        let scale = 1e-10 * clean.s[5] / Double(n).squareRoot()
        let noisy = Reference.dense(rows: n, cols: d) { r, c in half[r + c * n] + scale * noise(r, c) }
        return [
            Case(name: "duplicated columns", values: duplicated,
                 nullVectors: [unit(7, d).enumerated().map { $1 - unit(2, d)[$0] }, unit(9, d).enumerated().map { $1 - unit(4, d)[$0] }],
                 rcond: nil, rank: 10),
            Case(name: "zero columns", values: zero, nullVectors: [unit(3, d), unit(10, d)], rcond: nil, rank: 10),
            Case(name: "column = sum of others", values: sum,
                 nullVectors: [(0..<d).map { [0, 1, 5].contains($0) ? 1 : $0 == 11 ? -1 : 0 }], rcond: nil, rank: 11),
            Case(name: "rank d/2", values: half, nullVectors: [], rcond: nil, rank: 6),
            Case(name: "rank d/2 + noise 1e-10 below", values: noisy, nullVectors: [], rcond: 1e-7, rank: 6),
        ]
    }

    func matrix(_ values: [Double], engine: Engine) throws -> TiledMatrix {
        let n = Self.n
        return try TiledMatrix(layout: TileLayout(rows: n, cols: Self.d, tileRows: Self.tileRows), engine: engine) { r, c in values[r + c * n] }
    }

    func testEveryMethodAndPowerGivesTheMinimumNormSolution() throws {
        let engine = try Engine(threads: 2)
        let n = Self.n, d = Self.d
        let bLong = Reference.randomVector(count: n, seed: 41), bShort = Reference.randomVector(count: d, seed: 42)
        for c in Self.cases() {
            let reference = try XCTUnwrap(DenseSVD(c.values, rows: n, cols: d))
            let rcond = c.rcond ?? 2.220446049250313e-16 * Double(n)
            let rank = reference.rank(rcond: rcond)
            XCTAssertEqual(rank, c.rank, "\(c.name): the reference rank")
            let nullSpace = c.nullVectors.isEmpty ? (rank..<d).map { reference.v($0) } : c.nullVectors
            let kappa = reference.s[0] / reference.s[rank - 1]
            let a = try matrix(c.values, engine: engine)
            for problem in [Problem.lstsq(power: 0), .lstsq(power: 1), .lstsq(power: 2), .gram(power: 1), .gram(power: 2)] {
                let j = problem.power ?? 0
                let isLstsq = problem.tallKind == .lstsq
                let expected = isLstsq ? reference.lstsqPseudoInverse(bLong, rank: rank, power: 2 * j + 1)
                                       : reference.gramPseudoInverse(bShort, rank: rank, power: j)
                // Forward error bound: κ^p·u (p = 2j + 1 for lstsq, 2j for gram) where it exceeds 1e-10.
                let allowed = max(1e-10, 100 * pow(kappa, Double(isLstsq ? 2 * j + 1 : 2 * j)) * 1.1e-16)
                for method in [nil, .paper, .pcg, .direct, .cholesky] as [SolveMethod?] {
                    let label = "\(c.name), \(problem.name) j=\(j), \(method?.rawValue ?? "auto")"
                    var options = SolveOptions()
                    options.method = method
                    options.rcond = c.rcond
                    let solver = try TallSolver(matrix: a, engine: engine, problem: problem, options: options)
                    let solution = try solver.solve(isLstsq ? bLong : bShort)
                    let x = solution.x, report = solution.report
                    let error = zip(x, expected).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot() / expected.norm2
                    XCTAssertLessThanOrEqual(error, allowed, "\(label): ‖x − A⁺b‖/‖A⁺b‖")
                    for z in nullSpace {
                        let along = abs(zip(z, x).map { $0 * $1 }.reduce(0, +)) / (z.norm2 * x.norm2)
                        XCTAssertLessThanOrEqual(along, 1e-12, "\(label): x has a component along the null space")
                    }
                    XCTAssertEqual(report.rank, rank, label)
                    XCTAssertEqual(report.route, "householder-qr-svd", label)
                    XCTAssertTrue(report.converged, "\(label): \(report.text)")
                    let kept = try XCTUnwrap(report.smallestKeptSingularValue), dropped = try XCTUnwrap(report.largestDroppedSingularValue)
                    XCTAssertEqual(kept, reference.s[rank - 1], accuracy: 1e-10 * reference.s[0], label)
                    XCTAssertEqual(dropped, reference.s[rank], accuracy: 1e-12 * reference.s[0], label)
                    XCTAssertTrue(report.text.contains("rank         \(rank) of \(d)"), report.text)
                    XCTAssertTrue(report.json.contains("\"rank\": \(rank)"), report.json)
                }
            }
        }
    }

    /// An explicit rcond above 1/κ(A) truncates a full-rank A (the factor's κ estimate triggers the
    /// route; the rank is the count of σ > rcond·σ₁, against the dense SVD); one far below it
    /// leaves the full-rank route alone.
    func testExplicitRcondTruncatesAFullRankMatrix() throws {
        let engine = try Engine(threads: 2)
        let n = 1_500, d = 10
        let p = try ProblemGenerator.make(.lstsq, rows: n, cols: d, condition: 1e3, power: 0, seed: 8, engine: engine)
        let dense = p.matrix.toColumnMajorArray()
        let reference = try XCTUnwrap(DenseSVD(dense, rows: n, cols: d))
        // σ are 10^(-k/3), k = 0…9: rcond 1.5e-2 lies between σ₅ ≈ 2.2e-2 and σ₆ = 1e-2 (an rcond
        // of exactly 1e-2 would tie with σ₆ and make the count depend on its last bit).
        let rank = reference.rank(rcond: 1.5e-2)
        XCTAssertTrue(rank > 0 && rank < d, "the generator's σ are log-spaced from 1 to 1e-3")
        let expected = reference.lstsqPseudoInverse(p.rhs, rank: rank, power: 1)
        for method in [nil, .pcg, .direct] as [SolveMethod?] {
            var options = SolveOptions()
            options.method = method
            options.rcond = 1.5e-2
            let solution = try TallSolver(matrix: p.matrix, engine: engine, problem: .lstsq(power: 0), options: options).solve(p.rhs)
            XCTAssertEqual(solution.report.rank, rank)
            let error = zip(solution.x, expected).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot() / expected.norm2
            XCTAssertLessThanOrEqual(error, 1e-12, "\(method?.rawValue ?? "auto")")
            options.rcond = 1e-6
            XCTAssertNil(try TallSolver(matrix: p.matrix, engine: engine, problem: .lstsq(power: 0), options: options).solve(p.rhs).report.rank)
        }
    }

    /// A = 0: every singular value is dropped and x = 0, certified, for both problems.
    func testZeroMatrixGivesZero() throws {
        let engine = try Engine(threads: 2)
        let a = try TiledMatrix(layout: TileLayout(rows: 300, cols: 4, tileRows: 100), engine: engine) { _, _ in 0 }
        let gram = try TallSolver(matrix: a, engine: engine, problem: .gram(power: 1)).solve([1, 2, 3, 4])
        let lstsq = try TallSolver(matrix: a, engine: engine, problem: .lstsq(power: 1)).solve(Reference.randomVector(count: 300, seed: 9))
        for s in [gram, lstsq] {
            XCTAssertEqual(s.x, [0, 0, 0, 0])
            XCTAssertEqual(s.report.rank, 0)
            XCTAssertTrue(s.report.converged, s.report.text)
        }
    }

    /// The minimum-norm route gives the same bits on 1 and 2 workers (fixed tile groups, tree and
    /// reduction orders), for both problems.
    func testSameBitsOnOneAndTwoWorkers() throws {
        let c = Self.cases()[2]
        var answers: [[[Double]]] = []
        for threads in [1, 2] {
            let engine = try Engine(threads: threads)
            let a = try matrix(c.values, engine: engine)
            let lstsq = try TallSolver(matrix: a, engine: engine, problem: .lstsq(power: 1)).solve(Reference.randomVector(count: Self.n, seed: 71))
            let gram = try TallSolver(matrix: a, engine: engine, problem: .gram(power: 2)).solve(Reference.randomVector(count: Self.d, seed: 72))
            XCTAssertEqual(lstsq.report.rank, 11)
            answers.append([lstsq.x, gram.x])
        }
        XCTAssertEqual(answers[0], answers[1])
    }

    /// A block of right-hand sides on the rank-revealing route gives each column's own answer.
    func testBlockGivesEachColumnsAnswer() throws {
        let engine = try Engine(threads: 2)
        let c = Self.cases()[0]
        let a = try matrix(c.values, engine: engine)
        let b1 = Reference.randomVector(count: Self.n, seed: 51), b2 = Reference.randomVector(count: Self.n, seed: 52)
        let solver = try TallSolver(matrix: a, engine: engine, problem: .lstsq(power: 1))
        let block = try solver.solve(block: [b1, b2])
        XCTAssertEqual(block[0].x, try solver.solve(b1).x)
        XCTAssertEqual(block[1].x, try solver.solve(b2).x)
    }

    /// `.refuse` keeps the refusal, with the estimated rank, for every method.
    func testRefuseThrowsWithTheRank() throws {
        let engine = try Engine(threads: 2)
        let a = try matrix(Self.cases()[0].values, engine: engine)
        for method in [nil, .paper, .pcg, .direct, .cholesky] as [SolveMethod?] {
            var options = SolveOptions()
            options.method = method
            options.rankDeficient = .refuse
            XCTAssertThrowsError(try TallSolver(matrix: a, engine: engine, problem: .lstsq(power: 0), options: options)) { error in
                guard case .rankDeficient(let m)? = error as? TesseraError else { return XCTFail("\(error)") }
                XCTAssertTrue(m.contains("rank 10 of 12"), m)
            }
        }
        var bad = SolveOptions()
        bad.rcond = -1
        XCTAssertThrowsTesseraError(try TallSolver(matrix: a, engine: engine, problem: .lstsq(power: 0), options: bad), "--rcond must lie in [0, 1)")
    }

    /// A full-rank A never takes the rank-revealing route: the same bits under either policy, and
    /// no rank in the report.
    func testFullRankIsUnchanged() throws {
        let engine = try Engine(threads: 2)
        for kind in [TallProblem.gram, .lstsq] {
            let p = try ProblemGenerator.make(kind, rows: 2_000, cols: 8, condition: 1e3, power: 1, seed: 5, engine: engine)
            for method in [nil, .paper, .pcg, .direct, .cholesky] as [SolveMethod?] {
                var minNorm = SolveOptions(), refuse = SolveOptions()
                minNorm.method = method
                refuse.method = method
                refuse.rankDeficient = .refuse
                let problem: Problem = kind == .gram ? .gram(power: 1) : .lstsq(power: 1)
                let x1 = try TallSolver(matrix: p.matrix, engine: engine, problem: problem, options: minNorm).solve(p.rhs)
                let x2 = try TallSolver(matrix: p.matrix, engine: engine, problem: problem, options: refuse).solve(p.rhs)
                XCTAssertEqual(x1.x, x2.x)
                XCTAssertNil(x1.report.rank)
                XCTAssertNotEqual(x1.report.factor, "householder-qr-svd")
            }
        }
    }
}
