import Benchmark
import Tessera

// Questions answered here, each against NumPy/SciPy on the same .npy inputs in the same run:
// 1. gram, κ = 1e3, j = 1, 2, 3: is `auto` no slower than the fastest peer, ≥ 10× faster than
//    the SciPy QR route, with backward error ≤ 1e-13?
// 2. lstsq, j = 0, 1: is `auto` ≥ 5× faster than numpy.linalg.lstsq / scipy gelsy, with
//    optimality ≤ 1e-12?
// 3. Where does each method spend its time (phase breakdown), and how fast is the `direct`
//    factorization against the machine's DGEMM rate?
// Shapes: about 2 GB each, (4e6, 64), (1e6, 256), (2.5e5, 1000), (1.25e5, 2000). Scale every n
// with TESSERA_BENCH_SCALE (e.g. 0.125 for a quick look) or pick shapes with
// TESSERA_BENCH_SHAPES="1000000x256,125000x2000".

let benchmarks: @Sendable () -> Void = {
    let config = Benchmark.Configuration(metrics: PeerComparison.metrics, warmupIterations: 0,
                                         maxDuration: .seconds(7200), maxIterations: 1)
    for shape in BenchmarkShapes.selected() {
        Benchmark("gram \(shape.rows)x\(shape.cols) k=1e3 j=1,2,3 vs NumPy/SciPy", configuration: config) { benchmark in
            try PeerComparison(shape: shape).run(.gram, powers: [1, 2, 3], into: benchmark)
        }
        Benchmark("lstsq \(shape.rows)x\(shape.cols) k=1e3 j=0,1 vs NumPy/SciPy", configuration: config) { benchmark in
            try PeerComparison(shape: shape).run(.lstsq, powers: [0, 1], into: benchmark)
        }
    }
    let phases = BenchmarkShapes.phaseShape()
    Benchmark("phases of each method \(phases.rows)x\(phases.cols), and direct GFLOP/s vs DGEMM",
              configuration: .init(metrics: [.wallClock], warmupIterations: 0, maxDuration: .seconds(3600), maxIterations: 1)) { _ in
        try PhaseBreakdown(shape: phases).run()
    }
}
