import ArgumentParser
import Tessera
import TesseraIO

extension Solve {
    /// `tessera solve attention`: (exp(AAᵀ) + λI)x = b.
    func runAttention() throws(TesseraError) -> Bool {
        var options = AttentionOptions()
        switch method {
        case .auto: options.method = .auto
        case .pcg: options.method = .pcg
        case .direct: options.method = .direct
        case .paper: options.method = .paper
        case .surrogate: options.method = .surrogate
        case .cholesky:
            throw .invalidArgument("--method cholesky is for gram/lstsq; attention takes auto, pcg, direct, paper or surrogate")
        }
        options.ridge = ridge
        options.tolerance = tolerance ?? 1e-10
        options.maxIterations = maxIterations
        options.rank = rank
        options.lowRank = preconditioner == .nystrom ? .nystrom : .rpcholesky
        options.seed = seed
        options.memoryBudget = try memoryBudgetBytes()
        let recorder = trace == nil ? nil : TraceRecorder()
        let engine = try engineOptions.makeEngineTyped().tracing(into: recorder)
        let a = try NpyArray(path: matrix)
        try Self.checkMatrix(a, path: matrix)
        let b = try NpyArray(path: rhs)
        for note in [a.conversionNote, b.conversionNote].compactMap({ $0 }) where !engineOptions.quiet { print("note: \(note)") }
        let columns = try RightHandSides(b, expected: a.shape[0], what: "n (the rows of A)", problem: "attention")
        _ = try AttentionSolver.plan(rows: a.shape[0], cols: a.shape[1], options: options)
        let progress = Progress(enabled: !engineOptions.quiet)
        defer { progress.stop() }
        let tiled = try TiledMatrix.load(a, tileRows: engineOptions.tileRows, engine: engine)
        let solver = try AttentionSolver(matrix: tiled, engine: engine, options: options)
        var solutions: [AttentionSolution] = []
        for column in columns.vectors { solutions.append(try solver.solve(column)) }
        progress.stop()
        try write(solutions.map(\.x), reports: solutions.map(\.json), columns: columns, trace: recorder)
        if !engineOptions.quiet {
            for (k, s) in solutions.enumerated() {
                if solutions.count > 1 { print("— right-hand side \(k)") }
                print(s.text)
            }
        }
        return solutions.allSatisfy(\.converged)
    }
}

/// Sizes such as 512M, 4G, 1.5G or plain bytes.
enum ByteSize {
    static func parse(_ text: String) throws(TesseraError) -> UInt64 {
        let units: [Character: Double] = ["K": 1024, "M": 1_048_576, "G": 1_073_741_824, "T": 1_099_511_627_776]
        var body = Substring(text.uppercased())
        if body.hasSuffix("B") { body = body.dropLast() }
        var scale = 1.0
        if let last = body.last, let u = units[last] { scale = u; body = body.dropLast() }
        guard let value = Double(body), value > 0, value.isFinite, value * scale < 1.8e19 else {
            throw .invalidArgument("--memory-budget '\(text)' is not a size; write e.g. 4G, 512M or a number of bytes")
        }
        return UInt64(value * scale)
    }
}
