import Benchmark
import Synchronization
import Tessera
import TesseraKernels

/// Tiled AᵀA against one OpenBLAS dsyrk and one dgemm (both with OpenBLAS's threads = the
/// engine's workers) on the same matrix, each timed in every iteration; the ratios are recorded
/// as custom metrics (×100, so 115 means 1.15×) and printed.
final class GramComparison: Sendable {
    static let metrics: [BenchmarkMetric] = [
        .custom("tiled DAG ms"), .custom("OpenBLAS dsyrk ms"), .custom("OpenBLAS dgemm ms"),
        .custom("tiled / best OpenBLAS x100"), .custom("tiled GFLOP/s", polarity: .prefersLarger),
    ]

    let engine: Engine
    let tiled: TiledMatrix
    let denseCopy: SharedBlock   // column-major copy, for the peers
    var dense: UnsafeMutablePointer<Double> { denseCopy.pointer }
    let rows: Int, cols: Int

    private static let cache = Locked<GramComparison?>(nil)

    static func shared(rows: Int, cols: Int) throws -> GramComparison {
        try cache.withLock { (c) throws -> GramComparison in
            if let c { return c }
            let made = try GramComparison(rows: rows, cols: cols)
            c = made
            return made
        }
    }

    init(rows: Int, cols: Int) throws {
        self.rows = rows
        self.cols = cols
        engine = try Engine()
        let layout = try TileLayout(rows: rows, cols: cols, tileRows: engine.recommendedTileRows(rows: rows, cols: cols).tileRows)
        let rng = Philox4x32(seed: 1)
        tiled = try TiledMatrix(layout: layout, engine: engine) { r, c in rng.normal(index: UInt64(r * cols + c), stream: 0) }
        denseCopy = try SharedBlock(rows: rows, cols: cols, engine: engine)
        let copy = tiled.toColumnMajorArray()
        copy.withUnsafeBufferPointer { denseCopy.pointer.update(from: $0.baseAddress!, count: copy.count) }
        print("AtA benchmark: \(rows) × \(cols), \(layout.tileCount) tiles of \(layout.tileRows) rows, "
              + "\(engine.workerCount) workers, OpenBLAS core \(OpenBLASRuntime.coreName)")
    }

    func measureOnce(into benchmark: Benchmark) throws {
        var t0 = MonotonicClock.nanoseconds()
        let g = try tiled.gram(engine: engine)
        let tiledNs = MonotonicClock.nanoseconds() - t0
        blackHole(g)

        let d = cols
        var c = [Double](repeating: 0, count: d * d)
        OpenBLASRuntime.setThreadCount(engine.workerCount)
        t0 = MonotonicClock.nanoseconds()
        BLAS.syrk(.upper, .transpose, n: d, k: rows, alpha: 1, a: dense, lda: rows, beta: 0, c: &c, ldc: d)
        let syrkNs = MonotonicClock.nanoseconds() - t0
        t0 = MonotonicClock.nanoseconds()
        BLAS.gemm(.transpose, .none, m: d, n: d, k: rows, alpha: 1, a: dense, lda: rows, b: dense, ldb: rows,
                  beta: 0, c: &c, ldc: d)
        let gemmNs = MonotonicClock.nanoseconds() - t0
        OpenBLASRuntime.setThreadCount(1)
        blackHole(c)

        let best = min(syrkNs, gemmNs)
        let ratio = Double(tiledNs) / Double(best)
        let gflops = Flops.syrk(rows: rows, cols: cols) / Double(tiledNs)
        benchmark.measurement(.custom("tiled DAG ms"), Int(tiledNs / 1_000_000))
        benchmark.measurement(.custom("OpenBLAS dsyrk ms"), Int(syrkNs / 1_000_000))
        benchmark.measurement(.custom("OpenBLAS dgemm ms"), Int(gemmNs / 1_000_000))
        benchmark.measurement(.custom("tiled / best OpenBLAS x100"), Int((ratio * 100).rounded()))
        benchmark.measurement(.custom("tiled GFLOP/s", polarity: .prefersLarger), Int(gflops.rounded()))
        print("AtA: tiled \(tiledNs / 1_000_000) ms, dsyrk \(syrkNs / 1_000_000) ms, dgemm \(gemmNs / 1_000_000) ms, "
              + "tiled/best = \(Double(Int(ratio * 1000)) / 1000) (target ≤ 1.15), tiled \(Int(gflops)) GFLOP/s")
    }
}

/// The runtime's fixed cost: a graph of independent empty tasks, built then run.
enum EmptyTasks {
    static let metrics: [BenchmarkMetric] = [.wallClock, .custom("run ns per task"), .custom("build ns per task")]

    static func measureOnce(count: Int, into benchmark: Benchmark) throws {
        let engine = try Engine()
        var t0 = MonotonicClock.nanoseconds()
        let graph = TaskGraph()
        for _ in 0..<count { graph.add(name: "empty") { _ in } }
        let buildNs = MonotonicClock.nanoseconds() - t0
        t0 = MonotonicClock.nanoseconds()
        try engine.run(graph)
        let runNs = MonotonicClock.nanoseconds() - t0
        benchmark.measurement(.custom("run ns per task"), Int(runNs) / count)
        benchmark.measurement(.custom("build ns per task"), Int(buildNs) / count)
        print("empty tasks: \(count) on \(engine.workerCount) workers: run \(Int(runNs) / count) ns/task, build \(Int(buildNs) / count) ns/task (target < 5000 ns)")
    }
}
