import ArgumentParser
import Tessera
import TesseraIO
#if canImport(Glibc)
import Glibc
#endif

/// `tessera generate gram|lstsq|attention`: a problem with a known solution, written as A.npy,
/// b.npy and x_true.npy, all three committed together (`AtomicFileGroup`).
///
/// gram/lstsq: A = UΣVᵀ with prescribed singular values, streamed to A.npy block of rows by block
/// of rows as `ProblemGenerator.generate` makes it (`NpyRowSink`), so A is never held: memory is
/// O(b·d per worker + d² + n), and a 36 GB A can be written on a machine with less memory.
/// attention: A is held (b needs the kernel exp(AAᵀ)) and written through the same streamed stage.
struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write A.npy, b.npy and x_true.npy for a problem with a known solution.")

    @Argument(help: "The problem: gram, lstsq or attention.")
    var problem: SolveProblemArgument

    @Option(parsing: .unconditional, help: "Rows n of A.")
    var rows: Int

    @Option(parsing: .unconditional, help: "Columns d of A (n ≥ d).")
    var cols: Int

    @Option(parsing: .unconditional, help: "gram/lstsq: condition number κ(A) = σmax/σmin (singular values log-spaced from 1 to 1/κ).")
    var condition: Double = 1000

    @Option(name: .customLong("row-norm"), parsing: .unconditional, help: "attention: every row of A has this norm (random directions).")
    var rowNorm: Double = 1

    @Option(parsing: .unconditional, help: "attention: b = (exp(AAᵀ) + λI)·x_true for this λ.")
    var ridge: Double = 0

    @Option(parsing: .unconditional, help: "The power j the right-hand side is made for.")
    var power: Int = 1

    @Option(parsing: .unconditional, help: "Seed (the same seed gives the same files on any machine).")
    var seed: UInt64 = 1

    @Option(name: .customLong("output-dir"), help: "Directory for the files (created if missing).")
    var outputDir: String

    @OptionGroup var engineOptions: EngineOptions

    func run() throws {
        try CLIErrors.reporting { () throws(TesseraError) in
            let engine = try engineOptions.makeEngineTyped()
            try Preflight.generate(rows: rows, cols: cols, ridge: problem == .attention ? ridge : nil, workers: engine.workerCount)
            let tall: TallProblem = problem == .gram ? .gram : .lstsq
            if problem != .attention {
                try ProblemGenerator.validate(tall, rows: rows, cols: cols, condition: condition, power: power)
            }
            // The directory is made only now, and removed again (it is empty then) if the run
            // fails: a failed run leaves nothing, not even an empty directory.
            let created = mkdir(outputDir, 0o755) == 0
            if !created {
                let reason = errno
                var info = stat()
                if reason != EEXIST { throw .io("cannot create \(outputDir): \(String(cString: strerror(reason)))") }
                if stat(outputDir, &info) == 0 && (info.st_mode & S_IFMT) != S_IFDIR {
                    throw .io("cannot write into \(outputDir): it exists and is not a directory; choose a directory for --output-dir")
                }
            }
            do throws(TesseraError) {
                try generate(tall, engine: engine)
            } catch {
                if created { rmdir(outputDir) }
                throw error
            }
        }
    }

    /// Writes A, b and x_true into the output directory (all or nothing).
    func generate(_ tall: TallProblem, engine: Engine) throws(TesseraError) {
        if problem == .attention { return try generateAttention(engine: engine) }
        let files = AtomicFileGroup()
        let p = try files.stage(path: outputDir + "/A.npy") { (file) throws(TesseraError) -> GeneratedAnswer in
            let sink = try NpyRowSink(file: file, rows: rows, cols: cols)
            return try ProblemGenerator.generate(tall, rows: rows, cols: cols, condition: condition, power: power,
                                                 seed: seed, engine: engine, into: sink)
        }
        try NpyWriter.requireFinite(p.rhs, "b = \(problem == .gram ? "(AᵀA)^j" : "A(AᵀA)^j")·x_true", advice: "lower --power or --condition")
        try files.stage(NpyWriter.encode(p.rhs, shape: [p.rhs.count]), to: outputDir + "/b.npy")
        try files.stage(NpyWriter.encode(p.solution, shape: [cols]), to: outputDir + "/x_true.npy")
        try files.commit()
        if !engineOptions.quiet {
            print("wrote \(outputDir)/A.npy (\(rows) × \(cols), κ = \(Format.sci(condition))), b.npy (\(p.rhs.count)), x_true.npy (\(cols)) for \(problem.rawValue) with j = \(power)")
        }
    }
}

extension Generate {
    /// A with rows of norm `rowNorm` in Philox-random directions, x_true ~ N(0, I),
    /// b = (exp(AAᵀ) + λI)·x_true by one exact kernel product.
    func generateAttention(engine: Engine) throws(TesseraError) {
        let rng = Philox4x32(seed: seed)
        let a = try ProblemGenerator.attentionMatrix(rows: rows, cols: cols, rowNorm: rowNorm, seed: seed, stream: PhiloxStream.attentionMatrix,
                                                     engine: engine, tileRows: engineOptions.tileRows)
        let kernel = try KernelOperator(matrix: a, engine: engine, ridge: ridge)
        let x = (0..<rows).map { rng.normal(index: UInt64($0), stream: PhiloxStream.attentionSolution) }
        let b = try kernel.apply(x)
        try NpyWriter.requireFinite(b, "b = (exp(AAᵀ) + λI)·x_true", advice: "lower --row-norm or --ridge")
        let files = AtomicFileGroup()
        try NpyWriter.stage(a, in: files, to: outputDir + "/A.npy")
        try files.stage(NpyWriter.encode(b, shape: [rows]), to: outputDir + "/b.npy")
        try files.stage(NpyWriter.encode(x, shape: [rows]), to: outputDir + "/x_true.npy")
        try files.commit()
        if !engineOptions.quiet {
            print("wrote \(outputDir)/A.npy (\(rows) × \(cols), rows of norm \(rowNorm)), b.npy = (exp(AAᵀ) + \(ridge)·I)·x_true, x_true.npy (\(rows))")
        }
    }
}
