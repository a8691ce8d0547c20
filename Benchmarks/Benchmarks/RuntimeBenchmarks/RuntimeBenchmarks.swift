import Benchmark
import Tessera
import TesseraKernels

// Questions answered here, each measured side by side in one run:
// 1. Is the tiled DAG Gram matrix AᵀA (1,000,000 × 256, all workers) within 1.15× of
//    OpenBLAS's own multithreaded dsyrk / dgemm on the same matrix?
// 2. What does the runtime cost per empty task, at 100,000 tasks (target < 5 µs)?
// Sizes can be shrunk for a quick look: TESSERA_BENCH_ROWS, TESSERA_BENCH_COLS.

let benchmarks: @Sendable () -> Void = {
    let rows = Int(ProcessEnvironment.value("TESSERA_BENCH_ROWS") ?? "") ?? 1_000_000
    let cols = Int(ProcessEnvironment.value("TESSERA_BENCH_COLS") ?? "") ?? 256

    Benchmark("AtA \(rows)x\(cols): tiled DAG vs OpenBLAS",
              configuration: .init(metrics: GramComparison.metrics, warmupIterations: 1,
                                   maxDuration: .seconds(60), maxIterations: 5)) { benchmark in
        let comparison = try GramComparison.shared(rows: rows, cols: cols)
        for _ in benchmark.scaledIterations { try comparison.measureOnce(into: benchmark) }
    }

    Benchmark("Runtime: 100000 empty tasks",
              configuration: .init(metrics: EmptyTasks.metrics, warmupIterations: 1,
                                   maxDuration: .seconds(20), maxIterations: 20)) { benchmark in
        for _ in benchmark.scaledIterations { try EmptyTasks.measureOnce(count: 100_000, into: benchmark) }
    }
}
