#if canImport(Glibc)
import Glibc
#endif

/// The attention tests' oracle: (exp(AAᵀ) + λI)·x by plain loops with libm's exp over a dense
/// column-major A (n × d), sharing no code with the tiled kernel products. Cost n²·(d + 1) flops
/// and n² exps.
public enum DenseKernel {
    public static func product(_ a: [Double], rows n: Int, cols d: Int, ridge: Double, x: [Double]) -> [Double] {
        (0..<n).map { i in
            var sum = ridge * x[i]
            for k in 0..<n {
                var dot = 0.0
                for c in 0..<d { dot += a[i + c * n] * a[k + c * n] }
                sum += exp(dot) * x[k]
            }
            return sum
        }
    }
}
