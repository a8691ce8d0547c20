import XCTest
import Dispatch
import Tessera

/// A `SolveMonitor` sees every iteration of the solve it observes and stops that solve alone:
/// a solve on another thread at the same time, with no monitor, finishes as if nothing happened.
final class SolveMonitorTests: XCTestCase {
    func testAMonitorReportsIterationsAndStopsOnlyItsOwnSolve() throws {
        let engine = try Engine(threads: 2)
        let p = try ProblemGenerator.make(.gram, rows: 20_000, cols: 30, condition: 1e4, power: 2, seed: 4, engine: engine)
        var options = SolveOptions()
        options.method = .pcg
        let solver = try TallSolver(matrix: p.matrix, engine: engine, problem: .gram(power: 2), options: options)
        let reference = try solver.solve(p.rhs).x
        let seen = Locked([(Int, Double)]())
        let monitor = SolveMonitor { iteration, residual in
            seen.withLock { $0.append((iteration, residual)) }
            return iteration < 3
        }
        let other = Locked<[Double]?>(nil)
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) {
            other.withLock { $0 = try? solver.solve(p.rhs).x }
        }
        XCTAssertThrowsError(try monitor.observing { () throws(TesseraError) in _ = try solver.solve(p.rhs) }) { error in
            XCTAssertEqual(error as? TesseraError, .interrupted(signal: 0))
            XCTAssertEqual((error as? TesseraError)?.message, "cancelled by the caller; nothing was written")
        }
        group.wait()
        XCTAssertTrue(monitor.stopRequested)
        let iterations = seen.withLock { $0 }
        XCTAssertEqual(iterations.map(\.0), [1, 2, 3], "one report per iteration, stopped at the third")
        XCTAssertTrue(iterations.allSatisfy { $0.1 > 0 && $0.1.isFinite })
        XCTAssertEqual(other.withLock { $0 }?.map(\.bitPattern), reference.map(\.bitPattern), "the unobserved solve was not stopped")
        // Without a handler the monitor only relays a stop requested from outside.
        let quiet = SolveMonitor()
        quiet.requestStop()
        XCTAssertThrowsError(try quiet.observing { () throws(TesseraError) in _ = try solver.solve(p.rhs) }) {
            guard case .interrupted = $0 as? TesseraError else { return XCTFail("\($0) is not a stop") }
        }
        XCTAssertNoThrow(try solver.solve(p.rhs))
    }
}
