/// Floating-point operation counts of the kernels Tessera schedules, for cost models and
/// the GFLOP/s figures benchmarks print. Each is the conventional LAPACK Working Note count.
public enum Flops {
    /// C = AᵀA for A ∈ ℝ^{n×d}, one triangle (SYRK): n·d·(d+1).
    public static func syrk(rows n: Int, cols d: Int) -> Double { Double(n) * Double(d) * Double(d + 1) }
    /// C = A·B, A ∈ ℝ^{m×k}, B ∈ ℝ^{k×n}: 2mnk.
    public static func gemm(m: Int, n: Int, k: Int) -> Double { 2 * Double(m) * Double(n) * Double(k) }
    /// y = Ax, A ∈ ℝ^{m×n}: 2mn.
    public static func gemv(m: Int, n: Int) -> Double { 2 * Double(m) * Double(n) }
    /// Householder QR of an m×n matrix, m ≥ n: 2mn² − ⅔n³.
    public static func geqrf(m: Int, n: Int) -> Double {
        2 * Double(m) * Double(n) * Double(n) - 2.0 / 3.0 * Double(n) * Double(n) * Double(n)
    }
}
