import ArgumentParser
import Tessera
import TesseraIO
#if canImport(Glibc)
import Glibc
#endif

/// `tessera gram-matrix`: G = AᵀA of a `.npy` matrix, computed by the tiled DAG and written as
/// `.npy` (atomically: a failed run leaves no file).
struct GramMatrix: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gram-matrix",
        abstract: "Compute G = AᵀA of an n×d .npy matrix with the tiled runtime and write it as a d×d .npy.")

    @Option(help: "Input matrix A (.npy, 2-D; float64, or float32/integers converted).")
    var matrix: String

    @Option(help: "Output file for G (.npy, float64).")
    var output: String

    @Option(help: "Write a Chrome trace of the tasks (open in Perfetto).")
    var trace: String?

    @OptionGroup var engineOptions: EngineOptions

    func run() throws {
        let engine = try engineOptions.makeEngine()
        try CLIErrors.reporting { () throws(TesseraError) in
            try PathChecks.distinct(inputs: [matrix], outputs: [output] + (trace.map { [$0] } ?? []))
            let array = try NpyArray(path: matrix)
            if let note = array.conversionNote, !engineOptions.quiet { print("note: \(note)") }
            try Preflight.gramMatrix(shape: array.shape, source: matrix, matrixInPlace: array.canBeUsedInPlace)
            let a = try TiledMatrix.load(array, tileRows: engineOptions.tileRows, engine: engine)
            let recorder = trace == nil ? nil : TraceRecorder()
            let t0 = MonotonicClock.nanoseconds()
            let g = try a.gram(engine: engine, trace: recorder)
            let seconds = Double(MonotonicClock.nanoseconds() - t0) / 1e9
            try NpyWriter.requireFinite(g, "G = AᵀA of \(matrix)", advice: "A's column norms are too large for their squares (beyond 1.3e154 each); scale A down")
            let files = AtomicFileGroup()
            try files.stage(NpyWriter.encode(g, shape: [a.cols, a.cols]), to: output)
            if let trace, let recorder { try files.stage(text: recorder.chromeTraceJSON(), to: trace) }
            try files.commit()
            if !engineOptions.quiet {
                print("wrote \(output): AᵀA of \(a.rows) × \(a.cols), \(a.layout.tileCount) tiles of \(a.layout.tileRows) rows, \(Format.fixed(seconds, 3)) s on \(engine.workerCount) workers")
            }
        }
    }
}
