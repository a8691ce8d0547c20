import TesseraCore

/// Chooses a method from a cost model: the tiled SYRK route (`cholesky`) costs n·d² flops at
/// BLAS-3 speed; the sketch-and-precondition route (`pcg`) costs a sketch plus one pass over A
/// (8nd bytes, memory-bound) per iteration. Figures are deliberately simple machine constants;
/// the report prints both estimates and the choice.
///
/// Calibration (2-core AVX2 machine, OpenBLAS 0.3.21): single-threaded DSYRK on one tile runs at
/// 42–64 GFLOP/s for d = 256…2,000 (n·d² counted), and a fused AᵀA·y pass over 2 GB takes
/// ≈ 0.15 s on two workers. With the earlier 28 GFLOP/s the model picked `pcg` at
/// (125,000 × 2,000), j = 1, where it took 13.3 s against 5.2 s for NumPy's normal equations.
public struct Planner: Sendable {
    /// Sustained DGEMM/SYRK rate per worker (flop/s) and memory bandwidth (byte/s) assumed.
    public var flopsPerWorker: Double = 45e9
    public var bytesPerSecond: Double = 13e9
    /// Single-threaded LAPACK rate for the small dense factorizations (QR of SA).
    public var lapackFlops: Double = 20e9
    /// Passes a preconditioned Krylov stage typically needs at sketch factor 4 to reach 1e-12.
    public var iterationsPerStage: Double = 40

    public init() {}

    public struct Plan: Sendable {
        public let method: SolveMethod
        public let reason: String
    }

    public func plan(problem: TallProblem, rows n: Int, cols d: Int, power j: Int, workers: Int,
                     options: SolveOptions) -> Plan {
        if options.method != .auto { return Plan(method: options.method, reason: "chosen with --method") }
        let nd = Double(n) * Double(d)
        let pass = 8 * nd / bytesPerSecond
        let factor = nd * Double(d) / (flopsPerWorker * Double(max(workers, 1)))
        let lsStages = problem == .lstsq ? 1.0 : 0.0
        let verification = Double(j) + (problem == .lstsq ? Double(j) + 2 : 0)
        let cholesky = factor + pass * (verification + lsStages * 8)
        let s = options.sketchSizeFactor * Double(d)
        let sketchQR = 2 * s * Double(d) * Double(d) / lapackFlops
        let iterative = sketchQR + pass * (2 + iterationsPerStage * (Double(j) + 2 * lsStages) + verification)
        let text = "predicted: cholesky route \(Self.seconds(cholesky)), sketch+pcg route \(Self.seconds(iterative))"
        if cholesky <= iterative {
            return Plan(method: .cholesky, reason: "n·d² SYRK is cheaper than ~\(Int(iterationsPerStage)) passes per stage over A (\(text))")
        }
        return Plan(method: .pcg, reason: "d is large: passes over A are cheaper than the n·d² Gram (\(text))")
    }

    static func seconds(_ s: Double) -> String {
        s < 1 ? "\(Int((s * 1000).rounded())) ms" : "\(Double(Int(s * 10)) / 10) s"
    }
}
