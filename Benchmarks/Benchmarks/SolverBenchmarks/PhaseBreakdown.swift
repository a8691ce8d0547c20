import Tessera
import TesseraKernels

/// Every method on one gram and one lstsq problem, with its phase times, and the `direct`
/// factorization's GFLOP/s against a DGEMM measured in the same run.
struct PhaseBreakdown {
    let shape: Shape

    func run() throws {
        let engine = try Engine()
        let dgemm = Self.dgemmRate(threads: engine.workerCount)
        print("\nphases, \(shape.rows) × \(shape.cols), κ = 1e3; DGEMM (OpenBLAS, \(engine.workerCount) threads, n = 3000): \(Format.fixed(dgemm / 1e9, 1)) GFLOP/s")
        print("  problem  method    sketch   factor   iterate  verify   total    iterations  accuracy   factor GFLOP/s")
        for (problem, j) in [(TallProblem.gram, 2), (.lstsq, 1)] {
            let p = try ProblemGenerator.make(problem, rows: shape.rows, cols: shape.cols, condition: 1e3, power: j, seed: 3, engine: engine)
            for method in [SolveMethod.paper, .pcg, .direct, .cholesky] {
                var options = SolveOptions()
                options.method = method
                let solver = try TallSolver(matrix: p.matrix, engine: engine, problem: .tall(problem, power: j), options: options)
                let s = try solver.solve(p.rhs)
                let t = s.report.seconds
                let n = Double(shape.rows), d = Double(shape.cols)
                let flops = method == .direct ? 2 * n * d * d : (method == .cholesky ? n * d * d : 0)
                let rate = flops > 0 ? Format.fixed(flops / max(t.factor ?? 1, 1e-9) / 1e9, 1) : "-"
                var line = "  \(problem.rawValue)".padding(11) + method.rawValue.padding(10)
                for v in [t.sketch, t.factor, t.iterate, t.verify, t.total] { line += Format.fixed(v ?? 0, 3).padding(9) }
                line += s.report.iterations.map(String.init).joined(separator: "+").padding(12) + Format.sci(s.report.accuracy).padding(11) + rate
                print(line)
            }
        }
    }

    /// GFLOP/s of one OpenBLAS DGEMM (n = 3000) with `threads` threads, best of 3.
    static func dgemmRate(threads: Int) -> Double {
        let n = 3000
        let a = [Double](repeating: 1.0 / 3, count: n * n)
        var c = [Double](repeating: 0, count: n * n)
        OpenBLASRuntime.setThreadCount(threads)
        defer { OpenBLASRuntime.setThreadCount(1) }
        var best = Double.infinity
        for _ in 0..<3 {
            let t0 = MonotonicClock.nanoseconds()
            BLAS.gemm(.none, .none, m: n, n: n, k: n, alpha: 1, a: a, lda: n, b: a, ldb: n, beta: 0, c: &c, ldc: n)
            best = min(best, Double(MonotonicClock.nanoseconds() - t0) / 1e9)
        }
        return 2 * Double(n * n) * Double(n) / best
    }
}
