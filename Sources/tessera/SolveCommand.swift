import ArgumentParser
import Tessera
import TesseraIO

/// `tessera solve gram|lstsq`: read A and b, solve, verify, write x (and a report).
struct Solve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Solve min ‖(AᵀA)^j x − b‖ (gram), min ‖A(AᵀA)^j x − b‖ (lstsq) or min ‖(exp(AAᵀ) + λI)x − b‖ (attention) for A, b in .npy files.",
        discussion: "Exit codes: 0 solved to tolerance; 3 solved but the tolerance was not reached (x written, the report says why); 2 bad usage or input (nothing written); 1 internal error.")

    @Argument(help: "The problem: gram, lstsq or attention.")
    var problem: SolveProblemArgument

    @Option(help: "Matrix A (.npy, n×d, n ≥ d).")
    var matrix: String

    @Option(help: "Right-hand side b (.npy): length d for gram, n for lstsq; a 2-D array solves each column.")
    var rhs: String

    @Option(help: "Output file for x (.npy).")
    var output: String

    @Option(parsing: .unconditional, help: "The power j (gram: j ≥ 1, lstsq: j ≥ 0).")
    var power: Int = 1

    @Option(help: "gram/lstsq: auto, paper, pcg, direct or cholesky; attention: auto, pcg, direct, paper or surrogate.")
    var method: MethodArgument = .auto

    @Option(parsing: .unconditional, help: "attention: the ridge λ ≥ 0 added to exp(AAᵀ).")
    var ridge: Double = 0

    @Option(parsing: .unconditional, help: "attention: rank of the preconditioner (default: 1 + d + d(d+1)/2 + 256 columns, within [500, min(n/2, 4000)], at most √(100·n) when K is stored).")
    var rank: Int?

    @Option(help: "attention pcg: the preconditioner's low-rank factor, rpcholesky (randomly pivoted Cholesky, default) or nystrom (randomized Nyström: 2n²(d + k) flops, far slower to build).")
    var preconditioner: LowRankArgument = .rpcholesky

    @Option(name: .customLong("memory-budget"), help: "Bytes the solver may allocate, e.g. 4G or 512M (default 60% of available memory); a larger plan is refused before any work.")
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

    @Option(help: "Write the report as JSON to this file.")
    var report: String?

    @Option(help: "Write a Chrome trace of the task graphs (open in Perfetto).")
    var trace: String?

    @OptionGroup var engineOptions: EngineOptions

    func run() throws {
        let outcome = try CLIErrors.reporting { () throws(TesseraError) -> Bool in
            try PathChecks.distinct(inputs: [matrix, rhs], outputs: [output] + [report, trace].compactMap { $0 })
            guard case .tall(let tallProblem) = problem.kind else { return try runAttention() }
            let problem = TallProblemBox(value: tallProblem)
            guard method != .surrogate else {
                throw .invalidArgument("--method surrogate is only for attention; gram/lstsq take auto, paper, pcg, direct or cholesky")
            }
            var options = SolveOptions()
            options.method = method.value
            options.sketch = sketch.value
            options.sketchSizeFactor = sketchSizeFactor
            options.tolerance = tolerance ?? 1e-12
            options.maxIterations = maxIterations
            options.seed = seed
            options.memoryBudget = try memoryBudgetBytes()
            try options.validate()
            let recorder = trace == nil ? nil : TraceRecorder()
            let engine = try engineOptions.makeEngineTyped().tracing(into: recorder)
            let a = try NpyArray(path: matrix)
            guard a.shape.count == 2 else {
                throw .invalidInput("\(matrix) has shape \(a.header.shapeText); A must be 2-D (n, d)")
            }
            try Self.checkTall(a, path: matrix)
            let b = try NpyArray(path: rhs)
            for note in [a.conversionNote, b.conversionNote].compactMap({ $0 }) where !engineOptions.quiet { print("note: \(note)") }
            let columns = try RightHandSides(b, expected: problem.value == .gram ? a.shape[1] : a.shape[0], problem: problem.value)
            try checkPower()
            try options.checkMemory(rows: a.shape[0], cols: a.shape[1])
            let progress = Progress(enabled: !engineOptions.quiet)
            defer { progress.stop() }
            let tiled = try TiledMatrix.load(a, tileRows: engineOptions.tileRows, engine: engine)
            let solver = try TallSolver(matrix: tiled, engine: engine, problem: problem.value, options: options)
            var solutions: [TallSolution] = []
            if problem.value == .gram {
                solutions = try solver.solveGram(block: columns.vectors, power: power)
            } else {
                solutions = try solver.solveLstsq(block: columns.vectors, power: power)
            }
            progress.stop()
            try write(solutions.map(\.x), reports: solutions.map(\.report.json), columns: columns, trace: recorder)
            if !engineOptions.quiet {
                for (k, s) in solutions.enumerated() {
                    if solutions.count > 1 { print("— right-hand side \(k)") }
                    print(s.report.text)
                }
            }
            return solutions.allSatisfy(\.report.converged)
        }
        if !outcome { throw ExitCode(3) }
    }

    /// A must be 2-D with n, d ≥ 1.
    static func checkMatrix(_ a: NpyArray, path: String) throws(TesseraError) {
        guard a.shape.count == 2 else { throw .invalidInput("\(path) has shape \(a.header.shapeText); A must be 2-D (n, d)") }
        guard a.shape[0] >= 1, a.shape[1] >= 1 else {
            throw .invalidInput("\(path) has shape \(a.header.shapeText); A needs at least one row and one column")
        }
    }

    /// A must be 2-D with n ≥ d ≥ 1.
    static func checkTall(_ a: NpyArray, path: String) throws(TesseraError) {
        try checkMatrix(a, path: path)
        guard a.shape[0] >= a.shape[1] else {
            throw .invalidInput("\(path) has \(a.shape[0]) rows and \(a.shape[1]) columns; Tessera needs n ≥ d (a tall matrix)")
        }
    }

    func memoryBudgetBytes() throws(TesseraError) -> UInt64? {
        try memoryBudget.map { (text) throws(TesseraError) in try ByteSize.parse(text) }
    }

    func checkPower() throws(TesseraError) {
        guard case .tall(let tall) = problem.kind else { return }
        let problem = TallProblemBox(value: tall)
        let minimum = problem.value == .gram ? 1 : 0
        guard power >= minimum, power <= maximumPower else {
            throw .invalidArgument("--power must lie in \(minimum)...\(maximumPower) for \(problem.value.rawValue) (got \(power))")
        }
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

/// The columns of b: a vector, or each column of a 2-D array.
struct RightHandSides {
    let vectors: [[Double]]
    let isMatrix: Bool

    init(_ b: NpyArray, expected: Int, problem: TallProblem) throws(TesseraError) {
        try self.init(b, expected: expected, what: problem == .gram ? "d (the columns of A)" : "n (the rows of A)", problem: problem.rawValue)
    }

    init(_ b: NpyArray, expected: Int, what: String, problem: String) throws(TesseraError) {
        if let bad = b.firstNonFiniteIndex() {
            throw .invalidInput("\(b.path) holds a non-finite value at flat index \(bad); remove or replace NaN/Inf entries")
        }
        let values = b.toArray()
        switch b.shape.count {
        case 1:
            guard b.shape[0] == expected else {
                throw .invalidInput("\(b.path) has \(b.shape[0]) entries; \(problem) needs \(what) = \(expected)")
            }
            vectors = [values]
            isMatrix = false
        case 2:
            let (m, k) = (b.shape[0], b.shape[1])
            guard m == expected, k >= 1 else {
                throw .invalidInput("\(b.path) has shape \(b.header.shapeText); \(problem) needs \(what) = \(expected) rows")
            }
            vectors = (0..<k).map { c in (0..<m).map { r in b.fortranOrder ? values[r + c * m] : values[r * k + c] } }
            isMatrix = true
        default:
            throw .invalidInput("\(b.path) has shape \(b.header.shapeText); b must be a vector or a 2-D array of columns")
        }
    }
}

/// Lets the gram/lstsq path keep reading `problem.value`.
struct TallProblemBox { let value: TallProblem }

enum SolveProblemArgument: String, ExpressibleByArgument, CaseIterable {
    case gram, lstsq, attention
    enum Kind { case tall(TallProblem), attention }
    var kind: Kind {
        switch self {
        case .gram: return .tall(.gram)
        case .lstsq: return .tall(.lstsq)
        case .attention: return .attention
        }
    }
}

enum ProblemArgument: String, ExpressibleByArgument, CaseIterable {
    case gram, lstsq
    var value: TallProblem { self == .gram ? .gram : .lstsq }
}

enum LowRankArgument: String, ExpressibleByArgument, CaseIterable {
    case rpcholesky, nystrom
}

enum MethodArgument: String, ExpressibleByArgument, CaseIterable {
    case auto, paper, pcg, direct, cholesky, surrogate
    var value: SolveMethod { SolveMethod(rawValue: rawValue) ?? .auto }
}

enum SketchArgument: String, ExpressibleByArgument, CaseIterable {
    case gaussian, srht, countsketch, sparseSign = "sparse-sign"
    var value: SketchKind { SketchKind(rawValue: rawValue) ?? .sparseSign }
}
