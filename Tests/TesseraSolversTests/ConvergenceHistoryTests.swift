import XCTest
import Tessera

/// The report's convergence history and the monitor's phase events: one residual per reported
/// iteration for every iterative method of every problem (stages in order), the JSON report
/// carrying it with its schema version, and the phases of a solve reaching a monitor in order.
final class ConvergenceHistoryTests: XCTestCase {
    /// Phases and iterations seen by a monitor, in order.
    final class Events: @unchecked Sendable {
        let log = Locked([String]())
        lazy var monitor = SolveMonitor(handler: { [log] iteration, _ in log.withLock { $0.append("#\(iteration)") }; return true },
                                        onPhase: { [log] phase in log.withLock { $0.append(phase.name) } })
        var phases: [String] { log.withLock { $0 }.filter { !$0.hasPrefix("#") } }
        var iterations: [Int] { log.withLock { $0 }.compactMap { $0.hasPrefix("#") ? Int($0.dropFirst()) : nil } }
    }

    func checkHistory(_ report: SolveReport, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(report.history.count, report.iterations.reduce(0, +), "\(what): one residual per iteration", file: file, line: line)
        XCTAssertTrue(report.history.allSatisfy { $0.isFinite && $0 >= 0 }, what, file: file, line: line)
        // The JSON report holds the same history and declares its schema.
        guard let object = try? JSONSerialization.jsonObject(with: Data(report.json.utf8)) as? [String: Any] else {
            return XCTFail("\(what): the JSON report does not parse", file: file, line: line)
        }
        XCTAssertEqual(object["schema"] as? String, "tessera.report", file: file, line: line)
        XCTAssertEqual(object["schema_version"] as? Int, SolveReport.schemaVersion, file: file, line: line)
        XCTAssertEqual((object["history"] as? [Double])?.count, report.history.count, file: file, line: line)
    }

    func testEveryTallIterativeMethodRecordsOneResidualPerIteration() throws {
        let engine = try Engine(threads: 2)
        for (kind, problem) in [(TallProblem.gram, Problem.gram(power: 2)), (.lstsq, .lstsq(power: 1)), (.lstsq, .lstsq(power: 0))] {
            let j = kind == .gram ? 2 : (problem == .lstsq(power: 1) ? 1 : 0)
            let p = try ProblemGenerator.make(kind, rows: 6_000, cols: 20, condition: 1e3, power: j, seed: 3, engine: engine)
            for method in [SolveMethod.paper, .pcg, .cholesky, .direct] {
                var options = SolveOptions()
                options.method = method
                let solver = try TallSolver(matrix: p.matrix, engine: engine, problem: problem, options: options)
                let report = try solver.solve(p.rhs).report
                checkHistory(report, "\(problem) \(method)")
                if method == .paper || method == .pcg {
                    XCTAssertGreaterThan(report.history.count, 0, "\(problem) \(method) iterates")
                    XCTAssertLessThan(report.history.last ?? 1, report.history.first ?? 0, "\(problem) \(method): the residual fell")
                    XCTAssertTrue(report.text.contains("convergence  "), "the text summary shows the history")
                }
            }
            // A block with an exact factor: each column's history matches its own iterations.
            var options = SolveOptions()
            options.method = .cholesky
            let solver = try TallSolver(matrix: p.matrix, engine: engine, problem: problem, options: options)
            for solution in try solver.solve(block: [p.rhs, p.rhs.map { -2 * $0 }]) { checkHistory(solution.report, "\(problem) block") }
        }
    }

    func testAttentionMethodsRecordOneResidualPerIteration() throws {
        let engine = try Engine(threads: 2)
        let a = try ProblemGenerator.attentionMatrix(rows: 500, cols: 6, seed: 5, stream: 0, engine: engine)
        let b = (0..<500).map { Double(($0 * 7) % 13) - 6 }
        for method in [SolveMethod.pcg, .paper, .direct] {
            var options = SolveOptions()
            options.method = method
            options.maxIterations = 40
            let solver = try AttentionSolver(matrix: a, engine: engine, problem: .attention(ridge: 1e-2), options: options)
            let report = try solver.solve(b).report
            checkHistory(report, "attention \(method)")
            if method != .direct { XCTAssertGreaterThan(report.history.count, 0, "attention \(method) iterates") }
        }
    }

    /// A monitor sees sketch → factor (prepare) and iterate → verify (solve), in that order, the
    /// iteration counts rising inside `iterate`, and each phase once per change.
    func testPhasesReachTheMonitorInOrder() throws {
        let engine = try Engine(threads: 2)
        let p = try ProblemGenerator.make(.gram, rows: 6_000, cols: 20, condition: 1e3, power: 1, seed: 3, engine: engine)
        var options = SolveOptions()
        options.method = .pcg
        let events = Events()
        let report = try events.monitor.observing { () throws(TesseraError) -> SolveReport in
            let solver = try TallSolver(matrix: p.matrix, engine: engine, problem: .gram(power: 1), options: options)
            return try solver.solve(p.rhs).report
        }
        XCTAssertEqual(events.phases, ["sketch", "factor", "iterate", "verify"])
        XCTAssertEqual(events.iterations, Array(1...report.iterations.reduce(0, +)), "every iteration, rising, as many as reported")
        XCTAssertEqual(events.monitor.phase, .verify)
        // Without a monitor nothing is reported and the history is still recorded.
        let solver = try TallSolver(matrix: p.matrix, engine: engine, problem: .gram(power: 1), options: options)
        XCTAssertEqual(try solver.solve(p.rhs).report.history, report.history, "the history does not depend on a monitor")
    }

    /// Iteration 0 (a starting residual) is not an iteration; `discard` forgets what was recorded.
    func testConvergenceHistoryRecordsIterationsFromOne() throws {
        let (_, history) = try ConvergenceHistory.recording { () throws(TesseraError) in
            try Interruption.checkpoint(iteration: 0, residual: 1)
            try Interruption.checkpoint(iteration: 1, residual: 0.5)
            try Interruption.checkpoint(iteration: 2, residual: 0.25)
        }
        XCTAssertEqual(history, [0.5, 0.25])
        let (_, none) = try ConvergenceHistory.recording { () throws(TesseraError) in
            try Interruption.checkpoint(iteration: 1, residual: 0.5)
            ConvergenceHistory.discard()
        }
        XCTAssertEqual(none, [])
    }
}
