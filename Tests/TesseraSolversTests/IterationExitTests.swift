import XCTest
import Synchronization
import Tessera
#if canImport(Glibc)
import Glibc
#endif

/// RandLAPACK-style exit states of the iterations: each way an iteration can end is provoked on
/// purpose, detected, named, and leaves the best iterate (always finite).
final class IterationExitTests: XCTestCase {
    let n = 40
    var diagonal: [Double] { (0..<n).map { 1 + Double($0) } }
    var b: [Double] { (0..<n).map { Double(($0 * 7) % 5) - 2 + 0.5 } }

    func cg(tolerance: Double = 1e-12, maxIterations: Int = 200,
            apply: @escaping ([Double]) throws(TesseraError) -> [Double],
            precondition: @escaping ([Double]) -> [Double] = { $0 }) throws -> IterationResult {
        try Self.kernelCG(b: b, tolerance: tolerance, maxIterations: maxIterations, apply: apply, precondition: precondition)
    }

    /// The conjugate gradients the attention solver runs (`ConjugateGradients` as it configures
    /// it: sweeps end after 50 steps without progress, restarts only while they halve the true
    /// residual, target ‖r‖ ≤ tolerance·‖b‖).
    static func kernelCG(b: [Double], tolerance: Double, maxIterations: Int, apply: @escaping ([Double]) throws(TesseraError) -> [Double],
                         precondition: @escaping ([Double]) -> [Double]) throws -> IterationResult {
        try ConjugateGradients.forKernel(maxIterations: maxIterations)
            .solve(FunctionOperator(dimension: b.count, apply), rhs: b,
                   preconditioner: FunctionPreconditioner { (r) throws(TesseraError) in precondition(r) }, relativeTolerance: tolerance)
    }

    func residual(_ x: [Double]) -> Double {
        zip(zip(diagonal, x), b).map { ($0.0 * $0.1 - $1) * ($0.0 * $0.1 - $1) }.reduce(0, +).squareRoot()
    }

    /// `confirmConvergence = false` (an intermediate mixed-precision stage): the solve ends on the
    /// recurrence, one product fewer than the confirmed solve, at the same iterate, and its
    /// true residual still meets the target.
    func testTrustingTheRecurrenceSavesTheConfirmingProductOnly() throws {
        let d = diagonal, bNorm = b.map { $0 * $0 }.reduce(0, +).squareRoot()
        let products = Mutex(0)
        let op = FunctionOperator(dimension: n) { (p) throws(TesseraError) in
            products.withLock { $0 += 1 }
            return zip(d, p).map { $0 * $1 }
        }
        let jacobi = FunctionPreconditioner { (r) throws(TesseraError) in zip(d, r).map { $1 / $0 } }
        var cg = ConjugateGradients(maxIterations: 100, stagnationWindow: 30)
        let confirmed = try cg.solve(op, rhs: b, preconditioner: jacobi, relativeTolerance: 1e-10)
        let confirmedProducts = products.withLock { $0 }
        products.withLock { $0 = 0 }
        cg.confirmConvergence = false
        let trusted = try cg.solve(op, rhs: b, preconditioner: jacobi, relativeTolerance: 1e-10)
        XCTAssertEqual(trusted.status, .converged)
        XCTAssertEqual(products.withLock { $0 }, confirmedProducts - 1)
        XCTAssertEqual(trusted.solution, confirmed.solution)
        XCTAssertNil(trusted.finalProduct)
        XCTAssertNotNil(confirmed.finalProduct)
        XCTAssertLessThan(residual(trusted.solution), 1e-10 * bNorm)
    }

    func testEveryExitStateIsDetectedAndKeepsTheBestIterate() throws {
        let d = diagonal
        let spd: ([Double]) throws(TesseraError) -> [Double] = { p in zip(d, p).map { $0 * $1 } }
        let bNorm = b.map { $0 * $0 }.reduce(0, +).squareRoot()

        let converged = try cg(apply: spd)
        XCTAssertEqual(converged.status, .converged)
        XCTAssertLessThan(residual(converged.solution), 1e-12 * bNorm)
        XCTAssertNil(converged.status.explanation)

        let capped = try cg(maxIterations: 3, apply: spd)
        XCTAssertEqual(capped.status, .iterationCap)
        XCTAssertLessThan(residual(capped.solution), bNorm)
        XCTAssertTrue(capped.status.explanation?.contains("--max-iterations") ?? false)

        // A dense SPD operator and an unreachable tolerance: the residual sits at its rounding floor.
        let m = n
        var entries = [Double](repeating: 0, count: m * m)
        for i in 0..<m {
            for j in 0..<m {
                let coupling: Double = 0.3 / Double(1 + abs(i - j))
                entries[i * m + j] = coupling + (i == j ? d[i] : 0)
            }
        }
        let matrix = entries
        let dense: ([Double]) throws(TesseraError) -> [Double] = { p in
            var out = [Double](repeating: 0, count: m)
            for i in 0..<m { var s = 0.0; for j in 0..<m { s += matrix[i * m + j] * p[j] }; out[i] = s }
            return out
        }
        // Products with a relative error of 1e-9 (as an inexact operator has) and a tolerance below
        // it: the residual stops improving and the iteration says so.
        let noise = Locked(0)
        let inexact: ([Double]) throws(TesseraError) -> [Double] = { p in
            let k = noise.withLock { $0 += 1; return $0 }
            let exact = try dense(p)
            let size = exact.map { $0 * $0 }.reduce(0, +).squareRoot()
            return exact.enumerated().map { $1 + 1e-9 * size * sin(Double(k * 31 + $0 * 7)) }
        }
        let stagnated = try cg(tolerance: 1e-14, maxIterations: 10_000, apply: inexact)
        XCTAssertEqual(stagnated.status, .stagnated)
        XCTAssertLessThan(stagnated.iterations, 10_000)
        let r = try dense(stagnated.solution).enumerated().map { $1 - b[$0] }
        XCTAssertLessThan(r.map { $0 * $0 }.reduce(0, +).squareRoot(), 1e-6 * bNorm, "the best iterate is kept")

        let indefinitePreconditioner = try cg(apply: spd, precondition: { $0.map { -$0 } })
        XCTAssertEqual(indefinitePreconditioner.status, .breakdown)
        XCTAssertTrue(indefinitePreconditioner.solution.allSatisfy(\.isFinite))

        var e = d; e[n / 2] = -3   // an indefinite operator: negative curvature appears
        let indefinite: ([Double]) throws(TesseraError) -> [Double] = { p in zip(e, p).map { $0 * $1 } }
        let bent = try cg(apply: indefinite)
        XCTAssertEqual(bent.status, .breakdown)
        XCTAssertTrue(bent.solution.allSatisfy(\.isFinite))

        // A NaN appearing at the fourth product: the best of the three earlier iterates is kept.
        let calls = Locked(0)
        let poisoned: ([Double]) throws(TesseraError) -> [Double] = { p in
            let k = calls.withLock { $0 += 1; return $0 }
            return zip(d, p).map { k == 4 ? .nan : $0 * $1 }
        }
        let nan = try cg(apply: poisoned)
        XCTAssertEqual(nan.status, .breakdown)
        XCTAssertEqual(nan.iterations, 4)
        XCTAssertTrue(nan.solution.allSatisfy(\.isFinite))
        XCTAssertLessThan(residual(nan.solution), bNorm, "an earlier, better iterate is kept")
        XCTAssertTrue(IterationStatus.breakdown.explanation?.contains("NaN") ?? false)

        let nanRHS = try Self.kernelCG(b: [1, .nan], tolerance: 1e-10, maxIterations: 5, apply: spd, precondition: { $0 })
        XCTAssertEqual(nanRHS.status, .breakdown)
    }

    /// A stop requested mid-solve (what SIGTERM does) ends an attention solve with `interrupted`;
    /// once cleared, the same solver solves again.
    func testStopRequestEndsASolveAndClearLetsTheNextRun() throws {
        let engine = try Engine(threads: 2)
        let g = Philox4x32(seed: 2)
        let a = try TiledMatrix(layout: TileLayout(rows: 600, cols: 4, tileRows: 100), engine: engine) { r, c in
            0.5 * g.normal(index: UInt64(r * 4 + c), stream: 0)
        }
        var options = SolveOptions()
        options.method = .pcg
        options.rank = 50
        let solver = try AttentionSolver(matrix: a, engine: engine, problem: .attention(ridge: 1e-2), options: options)
        let b = (0..<600).map { Double($0 % 3) }
        defer { Interruption.clear() }
        Interruption.requestStop(signal: SIGTERM)
        XCTAssertThrowsError(try solver.solve(b)) { error in
            XCTAssertEqual(error as? TesseraError, .interrupted(signal: SIGTERM))
            XCTAssertEqual((error as? TesseraError)?.message, "stopped by SIGTERM; nothing was written")
        }
        Interruption.clear()
        XCTAssertTrue(try solver.solve(b).report.converged)
    }
}
