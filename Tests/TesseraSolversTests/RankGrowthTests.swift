import XCTest
import Tessera
import TesseraTestSupport

/// pcg's adaptive rank (`RankGrowth`): the cost rule itself on synthetic trace histories, and
/// whole solves where it must stop early (a large ridge: more rank saves nothing) or run to the
/// cap (a small ridge), each meeting its certificate.
final class RankGrowthTests: XCTestCase {
    private func growth(ridge: Double, order: Int = 20_000) -> RankGrowth {
        RankGrowth(order: order, cols: 64, ridge: ridge, tolerance: 1e-8, mixed: true, minimumRank: 500)
    }

    private func history(_ traces: [Double], step: Int = 100) -> [RankGrowth.Step] {
        traces.enumerated().map { RankGrowth.Step(rank: $0.offset * step, trace: $0.element) }
    }

    func testTheRuleWeighsSavedProductsAgainstTheRoundsCost() {
        // A trace falling 2% a round at λ = 1e-3 saves ≈ 2 predicted products a round (I ≈ 170)
        // against ≈ 0.9 for the round at rank 3,000: go on.
        let falling = (0...33).map { 54_000 * pow(0.98, Double($0)) }
        XCTAssertNil(growth(ridge: 1e-3).stopReason(history(falling)))
        // The same fall at λ = 1 predicts ≈ 13 products in all: three rounds save a fraction of
        // one and cost more.
        let reason = growth(ridge: 1).stopReason(history(falling))
        XCTAssertNotNil(reason)
        XCTAssertTrue(reason?.contains("stopped paying") ?? false, reason ?? "")
        // Never below the minimum rank, and never on a history shorter than the window.
        XCTAssertNil(growth(ridge: 1).stopReason(history(Array(falling.prefix(5)))))
        // A trace that stops falling stops the rounds whatever the ridge.
        XCTAssertEqual(growth(ridge: 1e-3).stopReason(history(falling.prefix(10) + [falling[9], falling[9], falling[9]])),
                       "the residual trace stopped falling")
        // At λ = 0 any fall of the trace is worth a round (the predicted count is unbounded).
        XCTAssertNil(growth(ridge: 0).stopReason(history(falling)))
        // A product at n = 20,000, d = 64 costs n²·d/2 + n²/2·e₃₂ flop-equivalents in mixed precision.
        XCTAssertEqual(growth(ridge: 1).productCost, 4e8 * 32 + 2e8 * RankGrowth.exp32Cost, accuracy: 1)
    }

    /// A ridge λ = 1 against unit rows: the rounds stop well below the cap and the solve still
    /// meets its tolerance; λ = 1e-3 needs the rank, and the rounds run to the cap. The report
    /// keeps the trace after every round, falling.
    func testSolvesStopEarlyOnlyWhereRankStopsPaying() throws {
        let engine = try Engine(threads: 2)
        let n = 1_500, d = 8
        let a = try TiledMatrix(layout: try TileLayout(rows: n, cols: d, tileRows: 500), engine: engine,
                                value: Reference.rowsOfNorm(1, cols: d, seed: 91))
        let b = Reference.randomVector(count: n, seed: 92)
        var options = SolveOptions()
        options.method = .pcg
        options.mayStoreKernel = false
        options.tolerance = 1e-8
        var ranks: [Double: Int] = [:]
        for ridge in [1.0, 1e-3] {
            let solver = try AttentionSolver(matrix: a, engine: engine, problem: .attention(ridge: ridge), options: options)
            XCTAssertNotNil(solver.plan.rankGrowth)
            let s = try solver.solve(b)
            XCTAssertTrue(s.report.converged, s.report.text)
            let summary = try XCTUnwrap(s.report.lowRank)
            ranks[ridge] = summary.rank
            XCTAssertEqual(summary.traceHistory.last?.rank, summary.rank)
            XCTAssertEqual(summary.traceHistory.map(\.trace), summary.traceHistory.map(\.trace).sorted(by: >), "the trace falls")
            if ridge == 1 {
                XCTAssertLessThan(summary.rank, solver.plan.rank, s.report.text)
                XCTAssertTrue(summary.stopReason?.contains("stopped paying") ?? false, s.report.text)
            }
        }
        XCTAssertLessThan(ranks[1.0] ?? .max, ranks[1e-3] ?? 0)
        // A rank the caller gives is built whole.
        options.rank = 600
        let fixed = try AttentionSolver(matrix: a, engine: engine, problem: .attention(ridge: 1), options: options)
        XCTAssertNil(fixed.plan.rankGrowth)
        XCTAssertEqual(try fixed.solve(b).report.lowRank?.rank, 600)
    }
}
