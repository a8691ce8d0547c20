import ArgumentParser
import Tessera
#if canImport(Glibc)
import Glibc
#endif

/// `tessera demo`: built-in problems, solved and checked: the runtime end to end (the tiled DAG
/// Gram matrix AᵀA against one OpenBLAS `dsyrk` call, and its bits on 1 thread against all
/// threads), then gram and lstsq problems with known solutions, by `auto` and the paper's method.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the built-in demo problems and check the answers (exit 1 if a check fails).")

    @Option(parsing: .unconditional, help: "Rows of the demo matrix.")
    var rows = 400_000

    @Option(parsing: .unconditional, help: "Columns of the demo matrix.")
    var cols = 128

    @Option(parsing: .unconditional, help: "Seed of the random demo matrix.")
    var seed: UInt64 = 42

    @OptionGroup var engineOptions: EngineOptions

    func run() throws {
        let engine = try engineOptions.makeEngine()
        let outcome = try CLIErrors.reporting { () throws(TesseraError) in try GramCheck(rows: rows, cols: cols, seed: seed, tileRows: engineOptions.tileRows).run(engine: engine) }
        if !engineOptions.quiet {
            print(Info.describe(engine: engine, rows: rows, cols: cols))
            print("")
            print(outcome.table)
            print("")
        }
        let solves = try CLIErrors.reporting { () throws(TesseraError) in try SolverDemo(rows: rows / 2, cols: min(cols, 64), seed: seed).run(engine: engine) }
        if !engineOptions.quiet { print(solves.table); print("") }
        let attention = try CLIErrors.reporting { () throws(TesseraError) in
            try AttentionDemo(rows: min(rows / 50, 6_000), cols: min(cols, 32), seed: seed).run(engine: engine)
        }
        if !engineOptions.quiet { print(attention.table) }
        for failed in [outcome, solves, attention] where !failed.passed {
            CLIErrors.printError("demo check failed: \(failed.failure)")
            throw ExitCode(1)
        }
    }
}

/// Tiled AᵀA versus one OpenBLAS `dsyrk` on the same matrix.
struct GramCheck {
    let rows: Int, cols: Int, seed: UInt64, tileRows: Int?

    struct Outcome {
        var table: String
        var passed: Bool
        var failure: String
    }

    func run(engine: Engine) throws(TesseraError) -> Outcome {
        try Preflight.demo(rows: rows, cols: cols)
        let layout = try TileLayout(rows: rows, cols: cols, tileRows: tileRows ?? engine.recommendedTileRows(rows: rows, cols: cols).tileRows)
        let rng = Philox4x32(seed: seed), d = cols
        let a = try TiledMatrix(layout: layout, engine: engine) { r, c in rng.normal(index: UInt64(r * d + c), stream: PhiloxStream.demoMatrix) }

        let trace = TraceRecorder()
        let t0 = MonotonicClock.nanoseconds()
        let g = try a.gram(engine: engine, trace: trace)
        let tiledSeconds = seconds(since: t0)
        let single = try a.gram(engine: Engine(threads: 1, profile: engine.profile))
        let sameBits = zip(g, single).allSatisfy { $0.bitPattern == $1.bitPattern }

        let (reference, blasSeconds) = try a.referenceGramBySingleSYRK(threads: engine.workerCount)
        var maxDiff = 0.0, maxRef = 0.0
        for j in 0..<d { for i in 0...j {
            maxDiff = max(maxDiff, abs(g[i + j * d] - reference[i + j * d]))
            maxRef = max(maxRef, abs(reference[i + j * d]))
        } }
        let relative = maxDiff / max(maxRef, .leastNormalMagnitude)
        let flops = Flops.syrk(rows: rows, cols: cols)
        let summary = trace.summary(graph: TaskGraph(), workers: engine.workerCount)
        var table = "demo: Gram matrix AᵀA of a \(rows) × \(cols) Gaussian matrix (seed \(seed)), \(layout.tileCount) tiles of \(layout.tileRows) rows\n"
        table += "  route                         time (s)   GFLOP/s\n"
        table += Format.padded("  tiled DAG, \(engine.workerCount) workers", 32) + Format.padded(Format.fixed(tiledSeconds, 3), 11) + Format.fixed(flops / tiledSeconds / 1e9, 1) + "\n"
        table += Format.padded("  OpenBLAS dsyrk, \(engine.workerCount) threads", 32) + Format.padded(Format.fixed(blasSeconds, 3), 11) + Format.fixed(flops / blasSeconds / 1e9, 1) + "\n"
        table += "  max relative difference: \(Format.sci3(relative)) (check ≤ 1e-13)\n"
        table += "  identical bits on 1 and \(engine.workerCount) workers: \(sameBits ? "yes" : "NO")\n"
        table += "  runtime trace: \(summary.tasks) tasks, wall \(Format.fixed(summary.wallSeconds, 3)) s"
        let passed = relative <= 1e-13 && sameBits
        let failure = relative > 1e-13 ? "tiled AᵀA differs from dsyrk by \(Format.sci3(relative))" : "bits differ across thread counts"
        return Outcome(table: table, passed: passed, failure: failure)
    }

    func seconds(since t0: UInt64) -> Double { Double(MonotonicClock.nanoseconds() - t0) / 1e9 }
}

/// gram and lstsq problems with known solutions (κ = 10³), solved by `auto` and `paper`.
struct SolverDemo {
    let rows: Int, cols: Int, seed: UInt64

    func run(engine: Engine) throws(TesseraError) -> GramCheck.Outcome {
        var table = "demo: solves with known solutions, A = UΣVᵀ of \(rows) × \(cols), κ(A) = 1e3\n"
        table += "  problem  j  method           iterations   accuracy    forward error  time (s)\n"
        var passed = true, failure = ""
        for (problem, j) in [(TallProblem.gram, 1), (.gram, 2), (.lstsq, 0), (.lstsq, 1)] {
            let p = try ProblemGenerator.make(problem, rows: rows, cols: cols, condition: 1e3, power: j, seed: seed, engine: engine)
            for method in [nil, SolveMethod.paper] {
                var options = SolveOptions()
                options.method = method
                let t0 = MonotonicClock.nanoseconds()
                let solver = try TallSolver(matrix: p.matrix, engine: engine, problem: .tall(problem, power: j), options: options)
                let s = try solver.solve(p.rhs)
                let seconds = Double(MonotonicClock.nanoseconds() - t0) / 1e9
                let forward = s.x.plus(-1, p.solution).norm2 / p.solution.norm2
                let name = method.map(\.rawValue) ?? "auto→\(s.report.method.rawValue)"
                let measure = (problem == .gram ? "bwd " : "opt ") + Format.sci(s.report.accuracy)
                table += "  \(Format.padded(problem.rawValue, 7))\(Format.padded(String(j), 3))\(Format.padded(name, 17))"
                table += "\(Format.padded(s.report.iterations.map(String.init).joined(separator: "+"), 13))\(Format.padded(measure, 12))"
                table += "\(Format.padded(Format.sci(forward), 15))\(Format.fixed(seconds, 3))\n"
                let required = pow(1e3, 2 * Double(j) + 1) * 1e-16 < 1e-2
                if required && !s.report.converged {
                    passed = false
                    failure = "\(problem.rawValue) j=\(j) \(method?.rawValue ?? "auto") missed the tolerance: \(Format.sci(s.report.accuracy))"
                }
            }
        }
        table += "  (accuracy: gram backward error, lstsq optimality; both checked ≤ 1e-12 where κ^{2j+1}·u < 1e-2)"
        return GramCheck.Outcome(table: table, passed: passed, failure: failure)
    }
}

/// An attention problem with a known solution, rows of norm 1, λ = 10⁻³, by every method.
struct AttentionDemo {
    let rows: Int, cols: Int, seed: UInt64

    func run(engine: Engine) throws(TesseraError) -> GramCheck.Outcome {
        let n = max(rows, 2 * cols), d = cols, rng = Philox4x32(seed: seed)
        let a = try ProblemGenerator.attentionMatrix(rows: n, cols: d, seed: seed, stream: PhiloxStream.attentionMatrix, engine: engine)
        let x = (0..<n).map { rng.normal(index: UInt64($0), stream: PhiloxStream.attentionSolution) }
        let b = try KernelOperator(matrix: a, engine: engine, ridge: 1e-3).apply(x)
        var table = "demo: attention (exp(AAᵀ) + 1e-3·I)x = b, n = \(n), d = \(d), rows of norm 1, known x\n"
        table += "  method   iterations  relative residual  forward error  time (s)\n"
        var passed = true, failure = ""
        for method in [nil, SolveMethod.pcg, .direct] {
            var options = SolveOptions()
            options.method = method
            let t0 = MonotonicClock.nanoseconds()
            let solution = try AttentionSolver(matrix: a, engine: engine, problem: .attention(ridge: 1e-3), options: options).solve(b)
            let seconds = Double(MonotonicClock.nanoseconds() - t0) / 1e9
            let s = solution.report, forward = solution.x.plus(-1, x).norm2 / x.norm2
            let name = method.map(\.rawValue) ?? "auto→\(s.method.rawValue)"
            table += "  \(Format.padded(name, 9))\(Format.padded(String(s.iterations.reduce(0, +)), 12))\(Format.padded(Format.sci(s.relativeResidual), 19))"
            table += "\(Format.padded(Format.sci(forward), 15))\(Format.fixed(seconds, 3))\n"
            if !s.converged { passed = false; failure = "attention \(method?.rawValue ?? "auto") missed 1e-10: \(Format.sci(s.relativeResidual))" }
        }
        table += "  (relative residual ‖(K + λI)x − b‖/‖b‖ from an exact kernel product, checked ≤ 1e-10)"
        return GramCheck.Outcome(table: table, passed: passed, failure: failure)
    }
}
