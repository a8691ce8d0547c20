import ArgumentParser
import Tessera
import TesseraIO

/// `tessera solve gram|lstsq`: read A and b, solve, verify, write x (and a report).
struct Solve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Solve min ‖(AᵀA)^j x − b‖ (gram), min ‖A(AᵀA)^j x − b‖ (lstsq) or min ‖(exp(AAᵀ) + λI)x − b‖ (attention) for A, b in .npy files.",
        discussion: "Exit codes: 0 solved to tolerance; 3 solved but the tolerance was not reached (x written, the report says why); 2 bad usage or input, or an input truncated while it was being read (nothing written); 1 internal error; 128 + N stopped by signal N (130 SIGINT, 143 SIGTERM, 129 SIGHUP; nothing written).")

    @Argument(help: "The problem: gram, lstsq or attention.")
    var problem: SolveProblemArgument

    @Option(help: "Matrix A (.npy, n×d, n ≥ d).")
    var matrix: String

    @Option(help: "Right-hand side b (.npy): length d for gram, n for lstsq; a 2-D array solves each column.")
    var rhs: String

    @Option(help: "Output file for x (.npy).")
    var output: String

    @Option(parsing: .unconditional, help: "gram/lstsq: the power j (gram: j ≥ 1, lstsq: j ≥ 0; default 1).")
    var power: Int?

    @Option(help: "gram/lstsq: auto, paper, pcg, direct or cholesky; attention: auto, pcg, direct, paper or surrogate.")
    var method: MethodArgument = .auto

    @Option(parsing: .unconditional, help: "attention: the ridge λ ≥ 0 added to exp(AAᵀ) (default 0).")
    var ridge: Double?

    @Option(parsing: .unconditional, help: "attention: rank of the preconditioner (pcg default: 1 + d + d(d+1)/2 + 256 columns, within [500, min(n/2, 4000)], at most √(100·n) when K is stored; with products on the fly up to min(n/2, 4000), lowered to fit the memory budget, the rounds stopping once one saves fewer predicted products than it costs; paper default: the exact Taylor layers that fit min(n/2, 4000), 2·√(100·n) when K is stored; paper with a rank ≥ n: the faithful mode, n × n factor).")
    var rank: Int?

    @Option(help: "attention pcg: the preconditioner's low-rank factor, rpcholesky (randomly pivoted Cholesky, default) or nystrom (randomized Nyström: 2n²(d + k) flops, far slower to build).")
    var preconditioner: LowRankArgument?

    @Option(name: .customLong("memory-budget"), parsing: .unconditional, help: "Bytes the solver may allocate, e.g. 4G or 512M (default 60% of available memory); a larger plan is refused before any work.")
    var memoryBudget: String?

    @Option(help: "gaussian, srht, countsketch or sparse-sign.")
    var sketch: SketchArgument = .sparseSign

    @Option(name: .customLong("sketch-size-factor"), parsing: .unconditional, help: "Sketch rows s = factor·d.")
    var sketchSizeFactor: Double = 4

    @Option(parsing: .unconditional, help: "Target backward error (gram), optimality (lstsq) or relative residual (attention), in (0, 1); default 1e-12, attention 1e-10.")
    var tolerance: Double?

    @Option(name: .customLong("max-iterations"), parsing: .unconditional, help: "Iteration cap per stage.")
    var maxIterations: Int = 500

    @Option(parsing: .unconditional, help: "Seed of the random sketch.")
    var seed: UInt64 = 0

    @Option(name: .customLong("rank-deficient"), help: "gram/lstsq, when A is numerically rank deficient: min-norm (default: the minimum-norm solution, with the rank in the report and a warning on stderr) or refuse (exit 2).")
    var rankDeficient: RankDeficientArgument?

    @Option(parsing: .unconditional, help: "gram/lstsq: singular values σ ≤ rcond·σ₁ of A count as zero (default: machine epsilon × max(n, d), as NumPy's lstsq).")
    var rcond: Double?

    @Option(help: "mixed or double. gram/lstsq: the Gram that preconditions pcg by float32 SSYRK (twice the BLAS-3 rate; iterations and the certificate stay float64); attention pcg: kernel products with float32 panels inside iterative refinement on exact float64 residuals (the certificate is exact). Default: the planner decides (gram/lstsq: large d, κ(A) up to 1e3; attention: K not stored and rows small enough).")
    var precision: PrecisionArgument?

    @Option(help: "Write the report as JSON to this file.")
    var report: String?

    @Option(help: "Write a Chrome trace of the task graphs (open in Perfetto).")
    var trace: String?

    @OptionGroup var engineOptions: EngineOptions

    func run() throws {
        // Under `mpirun -np P` every rank runs this; rank 0 alone prints and writes
        // (DistributedLaunch). A plain run is rank 0 of 1.
        let launch = try CLIErrors.reporting { () throws(TesseraError) in try DistributedLaunch() }
        defer { launch.finish() }
        launch.killIfTestAsks()
        let quiet = engineOptions.quiet || !launch.isRoot
        let outcome = try CLIErrors.reporting(printing: launch.isRoot) { () throws(TesseraError) -> Bool in
          try launch.agreeing { () throws(TesseraError) -> Bool in
            try PathChecks.distinct(inputs: [matrix, rhs], outputs: [output] + [report, trace].compactMap { $0 })
            try refuseInapplicableOptions()
            let request = self.problem.problem(power: power ?? 1, ridge: ridge ?? 0)
            let recorder = trace == nil ? nil : TraceRecorder()
            let engine = try launch.engine(try engineOptions.makeEngineTyped().tracing(into: recorder))
            let solveOptions = try options()
            // One progress interface: the line on stderr is fed by the library's SolveMonitor.
            let progress = Progress(enabled: !quiet, tolerance: solveOptions.tolerance(for: request))
            defer { progress.stop() }
            let monitor = progress.monitor
            let solutions = try monitor.observing { () throws(TesseraError) -> [Solution] in
                SolveMonitor.enter(.load)
                let a = try NpyArray(path: matrix)
                let b = try NpyArray(path: rhs)
                TestHooks.pauseAfterMapping()
                for note in [a.conversionNote, b.conversionNote].compactMap({ $0 }) where !quiet { print("note: \(note)") }
                let plan = try SolvePlan.make(request, shape: a.shape, source: matrix, matrixInPlace: a.canBeUsedInPlace,
                                              workers: engine.workerCount, options: solveOptions)
                let columns = try RightHandSides(values: b.toArray(), shape: b.shape, columnMajor: b.fortranOrder, source: b.path,
                                                 problem: request, rows: plan.rows, cols: plan.cols)
                let tiled = try TiledMatrix.load(a, tileRows: engineOptions.tileRows, engine: engine)
                let solutions = try plan.prepare(matrix: tiled, engine: engine).solve(columns)
                // An x that float64 cannot hold (±∞, or flushed below the normal range) is never
                // written: the report says why, the run ends with exit 3.
                if solutions.contains(where: { !$0.report.solutionRepresentable }) { return solutions }
                SolveMonitor.enter(.write)
                if launch.isRoot {
                    try write(solutions.map(\.x), reports: solutions.map(\.report.json), columns: columns, trace: recorder)
                }
                return solutions
            }
            progress.stop()
            launch.printStatistics()
            if launch.isRoot, let first = solutions.first?.report, let rank = first.rank, rank < first.cols {
                CLIErrors.warn("A is numerically rank deficient (rank \(rank) of \(first.cols) columns, rcond \(Format.sci(first.rcond ?? .nan))); x is the minimum-norm solution")
            }
            if !quiet {
                for (k, s) in solutions.enumerated() {
                    if solutions.count > 1 { print("— right-hand side \(k)") }
                    print(s.report.text)
                }
            }
            if solutions.contains(where: { !$0.report.solutionRepresentable }) {
                CLIErrors.printError("x is not representable in float64 (see the report above); nothing was written: rescale A or b so that x is in range")
                return false
            }
            return solutions.allSatisfy(\.report.converged)
          }
        }
        if !outcome { throw ExitCode(3) }
    }

    /// Options that do not apply to the chosen problem are refused, not silently ignored: a user
    /// who writes `--ridge` with gram expects it to matter.
    func refuseInapplicableOptions() throws(TesseraError) {
        let given: [(String, Bool)] = problem == .attention
            ? [("--power", power != nil), ("--rank-deficient", rankDeficient != nil), ("--rcond", rcond != nil)]
            : [("--ridge", ridge != nil), ("--rank", rank != nil), ("--preconditioner", preconditioner != nil)]
        if let flag = given.first(where: \.1)?.0 {
            let owner = problem == .attention ? "gram and lstsq" : "attention"
            throw .invalidArgument("\(flag) does not apply to \(problem.rawValue) (it is for \(owner) only); remove it")
        }
    }

    /// The flags as library options (no checks here: `SolvePlan.make` validates them).
    func options() throws(TesseraError) -> SolveOptions {
        var options = SolveOptions()
        options.method = method.value
        options.sketch = sketch.value
        options.sketchSizeFactor = sketchSizeFactor
        options.tolerance = tolerance
        options.maxIterations = maxIterations
        options.seed = seed
        options.memoryBudget = try memoryBudget.map { (text) throws(TesseraError) in try ByteSize.parse(text) }
        options.rank = rank
        options.lowRank = preconditioner == .nystrom ? .nystrom : .rpcholesky
        options.rankDeficient = (rankDeficient ?? .minNorm).value
        options.rcond = rcond
        options.precision = precision?.value
        return options
    }

    /// Writes x, the report and the trace all-or-nothing: if any of them fails, none appears.
    func write(_ xs: [[Double]], reports: [String], columns: RightHandSides, trace recorder: TraceRecorder?) throws(TesseraError) {
        let d = xs.first?.count ?? 0
        let files = AtomicFileGroup()
        if columns.isMatrix {
            var values = [Double](repeating: 0, count: d * xs.count)
            for (k, x) in xs.enumerated() { for i in 0..<d { values[i * xs.count + k] = x[i] } }
            try files.stage(NpyWriter.encode(values, shape: [d, xs.count]), to: output)
        } else {
            try files.stage(NpyWriter.encode(xs[0], shape: [d]), to: output)
        }
        if let report {
            try files.stage(text: reports.count == 1 ? reports[0] : "[\n" + reports.joined(separator: ",\n") + "]\n", to: report)
        }
        if let trace, let recorder { try files.stage(text: recorder.chromeTraceJSON(), to: trace) }
        try files.commit()
    }

}

enum SolveProblemArgument: String, ExpressibleByArgument, CaseIterable {
    case gram, lstsq, attention
    /// The library's problem for these flags.
    func problem(power: Int, ridge: Double) -> Problem {
        switch self {
        case .gram: return .gram(power: power)
        case .lstsq: return .lstsq(power: power)
        case .attention: return .attention(ridge: ridge)
        }
    }
}

enum ProblemArgument: String, ExpressibleByArgument, CaseIterable {
    case gram, lstsq
    var value: TallProblem { self == .gram ? .gram : .lstsq }
}

enum RankDeficientArgument: String, ExpressibleByArgument, CaseIterable {
    case minNorm = "min-norm", refuse
    var value: RankDeficientPolicy { self == .refuse ? .refuse : .minNorm }
}

enum PrecisionArgument: String, ExpressibleByArgument, CaseIterable {
    case double, mixed
    var value: Precision { self == .mixed ? .mixed : .double }
}

enum LowRankArgument: String, ExpressibleByArgument, CaseIterable {
    case rpcholesky, nystrom
}

enum MethodArgument: String, ExpressibleByArgument, CaseIterable {
    case auto, paper, pcg, direct, cholesky, surrogate
    /// nil for auto: the planner chooses.
    var value: SolveMethod? { SolveMethod(rawValue: rawValue) }
}

enum SketchArgument: String, ExpressibleByArgument, CaseIterable {
    case gaussian, srht, countsketch, sparseSign = "sparse-sign"
    var value: SketchKind { SketchKind(rawValue: rawValue) ?? .sparseSign }
}

/// Sizes such as 512M, 4G, 1.5G or plain bytes.
enum ByteSize {
    static func parse(_ text: String) throws(TesseraError) -> UInt64 {
        let units: [Character: Double] = ["K": 1024, "M": 1_048_576, "G": 1_073_741_824, "T": 1_099_511_627_776]
        var body = Substring(text.uppercased())
        if body.hasSuffix("B") { body = body.dropLast() }
        var scale = 1.0
        if let last = body.last, let u = units[last] { scale = u; body = body.dropLast() }
        guard let value = Double(body), value.isFinite, value * scale < 1.8e19 else {
            throw .invalidArgument("--memory-budget '\(text)' is not a size; write e.g. 4G, 512M or a number of bytes")
        }
        guard value * scale >= 1 else {
            throw .invalidArgument("--memory-budget must be a positive size (got '\(text)'); write e.g. 4G, 512M or a number of bytes")
        }
        return UInt64(value * scale)
    }
}
