import Benchmark
import Foundation
import Tessera
import TesseraIO
import TesseraKernels

// Questions answered here, side by side in one run (A with rows of norm 1, d = 64):
// 1. n = 20,000: is `auto` ≥ 3× faster than SciPy (K = np.exp(A @ A.T), cho_factor, cho_solve)
//    at relative residual ≤ 1e-10? SciPy runs twice: with the machine's threads and with
//    OPENBLAS_NUM_THREADS=1 (OpenBLAS 0.3.31 was seen to crash on 2 threads at n ≥ 16,000).
// 2. n = 60,000 (K would be 29 GB): Tessera's time, peak resident memory, and the time of one
//    kernel product, for relative residual ≤ 1e-8.
// Sizes: TESSERA_ATTENTION_N (default 20000) and TESSERA_ATTENTION_LARGE_N (default 60000).

let benchmarks: @Sendable () -> Void = {
    let config = Benchmark.Configuration(metrics: [.wallClock, .peakMemoryResident], warmupIterations: 0,
                                         maxDuration: .seconds(7200), maxIterations: 1)
    let n = Int(ProcessEnvironment.value("TESSERA_ATTENTION_N") ?? "") ?? 20_000
    let large = Int(ProcessEnvironment.value("TESSERA_ATTENTION_LARGE_N") ?? "") ?? 60_000
    Benchmark("attention n=\(n) d=64 lambda=1e-3: auto vs SciPy Cholesky", configuration: config) { _ in
        try AttentionComparison(n: n, d: 64, ridge: 1e-3).run()
    }
    Benchmark("attention n=5000 d=32 lambda=1e-3: paper vs CG vs pcg, surrogate", configuration: config) { _ in
        try MethodComparison(n: 5_000, d: 32, ridge: 1e-3).run()
    }
    Benchmark("attention n=\(large) d=64 lambda=1e-3: K never stored", configuration: config) { _ in
        try LargeAttention(n: large, d: 64, ridge: 1e-3).run()
    }
}

enum AttentionProblem {
    /// Rows of norm 1 in Philox-random directions; b = (K + λI)·x_true is not needed for timing,
    /// so b ~ N(0, I).
    static func make(n: Int, d: Int, engine: Engine) throws -> (TiledMatrix, [Double]) {
        let rng = Philox4x32(seed: 7)
        let a = try ProblemGenerator.attentionMatrix(rows: n, cols: d, seed: 7, stream: 0, engine: engine)
        return (a, (0..<n).map { rng.normal(index: UInt64($0), stream: 1) })
    }
}

struct AttentionComparison {
    let n: Int, d: Int, ridge: Double

    func run() throws {
        let engine = try Engine()
        let (a, b) = try AttentionProblem.make(n: n, d: d, engine: engine)
        let dir = NSTemporaryDirectory() + "tessera-att-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try NpyWriter.write(a, to: dir + "/A.npy")
        try NpyWriter.write(b, shape: [n], to: dir + "/b.npy")

        print("\nattention n = \(n), d = \(d), λ = \(ridge), \(engine.workerCount) workers, OpenBLAS core \(OpenBLASRuntime.coreName)")
        let t0 = MonotonicClock.nanoseconds()
        let s = try AttentionSolver(matrix: a, engine: engine, problem: .attention(ridge: ridge)).solve(b).report
        let tessera = Double(MonotonicClock.nanoseconds() - t0) / 1e9
        print("  tessera auto→\(s.method.rawValue): \(Format.fixed(tessera, 2)) s, \(s.iterations.reduce(0, +)) iterations, relative residual \(Format.sci(s.relativeResidual))")
        print("    \(s.reason)")
        for threads in [String(engine.workerCount), "1"] {
            let peer = try Python.run(script: "attention_peers.py", arguments: [dir + "/A.npy", dir + "/b.npy", String(ridge)],
                                      environment: ["OPENBLAS_NUM_THREADS": threads])
            if let seconds = peer["seconds"] as? Double {
                let form = peer["form_seconds"] as? Double ?? .nan
                let residual = peer["relative_residual"] as? Double ?? .nan
                print("  scipy cho_factor/cho_solve, \(threads) thread(s): \(Format.fixed(seconds, 2)) s (forming K \(Format.fixed(form, 2)) s), relative residual \(Format.sci(residual)); SciPy/Tessera = \(Format.fixed(seconds / tessera, 2))×")
            } else {
                print("  scipy, \(threads) thread(s): failed: \(peer["error"] ?? "?")")
            }
        }
    }
}

struct LargeAttention {
    let n: Int, d: Int, ridge: Double

    func run() throws {
        let engine = try Engine()
        let (a, b) = try AttentionProblem.make(n: n, d: d, engine: engine)
        var options = SolveOptions()
        options.tolerance = 1e-8
        options.method = .pcg
        options.memoryBudget = 3 << 30
        let kernel = try KernelOperator(matrix: a, engine: engine, ridge: ridge)
        let t0 = MonotonicClock.nanoseconds()
        _ = try kernel.apply(b)
        let product = Double(MonotonicClock.nanoseconds() - t0) / 1e9
        let t1 = MonotonicClock.nanoseconds()
        let s = try AttentionSolver(matrix: a, engine: engine, problem: .attention(ridge: ridge), options: options).solve(b).report
        let total = Double(MonotonicClock.nanoseconds() - t1) / 1e9
        print("\nattention n = \(n), d = \(d), λ = \(ridge): one kernel product \(Format.fixed(product, 2)) s; "
              + "solve \(Format.fixed(total, 1)) s = \(Format.fixed(total / product, 1)) products; \(s.iterations.reduce(0, +)) iterations, "
              + "relative residual \(Format.sci(s.relativeResidual)) (target 1e-8); peak resident memory: see the table")
        print(s.text)
    }
}

/// Runs a peer script from Benchmarks/peers and parses its one JSON line.
enum Python {
    static func run(script: String, arguments: [String], environment: [String: String]) throws -> [String: Any] {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("peers/" + script).path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", path] + arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        if p.terminationStatus != 0 {
            return ["error": "peer process exited with status \(p.terminationStatus)\(p.terminationReason == .uncaughtSignal ? " (signal: crashed)" : "")"]
        }
        let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? "{}"
        return (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? ["error": "unreadable output"]
    }
}

/// The paper's method against plain CG (no preconditioner) and `pcg`, plus what the surrogate
/// (ΦΦᵀ + μI)x = b alone achieves against the true K; all with K products on the fly.
struct MethodComparison {
    let n: Int, d: Int, ridge: Double

    func run() throws {
        let engine = try Engine()
        let (a, b) = try AttentionProblem.make(n: n, d: d, engine: engine)
        print("\nattention n = \(n), d = \(d), λ = \(ridge): methods side by side (tolerance 1e-10, cap 1000 iterations)")
        print("  method      iterations  relative residual  seconds")
        for method in [SolveMethod.paper, .pcg, .surrogate] {
            var options = SolveOptions()
            options.method = method
            options.maxIterations = 1_000
            options.mayStoreKernel = false    // compare on-the-fly products
            let t0 = MonotonicClock.nanoseconds()
            let s = try AttentionSolver(matrix: a, engine: engine, problem: .attention(ridge: ridge), options: options).solve(b).report
            let seconds = Double(MonotonicClock.nanoseconds() - t0) / 1e9
            print("  \(method.rawValue.padding(12))\(String(s.iterations.reduce(0, +)).padding(12))\(Format.sci(s.relativeResidual).padding(19))\(Format.fixed(seconds, 2))")
        }
        let kernel = try KernelOperator(matrix: a, engine: engine, ridge: ridge)
        let t0 = MonotonicClock.nanoseconds()
        let cg = try ConjugateGradients.forKernel(maxIterations: 1_000)
            .solve(kernel, rhs: b, preconditioner: IdentityPreconditioner(), relativeTolerance: 1e-10)
        let seconds = Double(MonotonicClock.nanoseconds() - t0) / 1e9
        let residual = try kernel.apply(cg.solution).plus(-1, b).norm2 / b.norm2
        print("  \("plain CG".padding(12))\(String(cg.iterations).padding(12))\(Format.sci(residual).padding(19))\(Format.fixed(seconds, 2))")
    }
}

extension String {
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(1, width - count)) }
}
