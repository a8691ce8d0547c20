import TesseraCore
import TesseraKernels

/// A rank-k approximation K ≈ F·Fᵀ (F ∈ ℝ^{n×k}) by block randomly pivoted Cholesky (Chen,
/// Epperly, Tropp, Webber): each round samples b pivots with probability ∝ the residual
/// diagonal, forms G = K[:, S] − F·F[S, :]ᵀ, factors its pivot block H = G[S, :] = UᵀU and
/// appends G·U⁻¹. Rounds stop at rank k or when the residual trace falls below 10⁻¹⁴ of
/// trace(K). Cost n·k·(d + k) flops and n·k memory; K is touched only through k columns.
public struct RandomlyPivotedCholesky: Sendable {
    /// F, n × rank, column-major.
    public let factor: [Double]
    public let rank: Int
    public let order: Int
    /// trace(K − FFᵀ) = Σ residual diagonal.
    public let residualTrace: Double
    public let pivots: [Int]

    /// A given factor F (n × rank) with its residual trace, e.g. Taylor features.
    public init(factor: [Double], rank: Int, order: Int, residualTrace: Double) {
        self.factor = factor
        self.rank = rank
        self.order = order
        self.residualTrace = residualTrace
        pivots = []
    }

    public init(kernel: KernelOperator, rank requested: Int, blockSize: Int = 100, seed: UInt64) throws(TesseraError) {
        let n = kernel.order
        let k = max(1, min(requested, n))
        var residual = kernel.diagonal()
        let initialTrace = residual.reduce(0, +)
        var f: [Double] = []          // grows column-block by column-block, n × cols
        var cols = 0, pivots: [Int] = []
        let rng = Philox4x32(seed: seed)
        var round: UInt64 = 0
        while cols < k {
            try Interruption.check()
            let trace = residual.reduce(0, +)
            if !(trace > 1e-14 * initialTrace) { break }
            let b = min(blockSize, k - cols)
            let s = Self.sample(b, weights: residual, rng: rng, round: round)
            round += 1
            if s.isEmpty { break }
            var g = try kernel.columns(s)           // n × m
            let m = s.count
            if cols > 0 {
                var fs = [Double](repeating: 0, count: m * cols)   // F[S, :], m × cols
                for (r, i) in s.enumerated() { for c in 0..<cols { fs[r + c * m] = f[i + c * n] } }
                BLAS.gemm(.none, .transpose, m: n, n: m, k: cols, alpha: -1, a: f, lda: n, b: fs, ldb: m, beta: 1, c: &g, ldc: n)
            }
            var h = [Double](repeating: 0, count: m * m)
            for (r, i) in s.enumerated() { for c in 0..<m { h[r + c * m] = g[i + c * n] } }
            let u = try Self.robustCholesky(h, order: m)
            u.withUnsafeBufferPointer { ub in
                g.withUnsafeMutableBufferPointer { gb in
                    BLAS.trsm(left: false, .upper, .none, m: n, n: m, alpha: 1, t: ub.baseAddress!, ldt: m, b: gb.baseAddress!, ldb: n)
                }
            }
            f += g
            cols += m
            pivots += s
            for c in 0..<m {
                for i in 0..<n { let v = g[i + c * n]; residual[i] = max(0, residual[i] - v * v) }
            }
            for i in s { residual[i] = 0 }
        }
        factor = f
        rank = cols
        order = n
        residualTrace = residual.reduce(0, +)
        self.pivots = pivots
    }

    /// Up to b distinct indices drawn ∝ weights (sequential sampling without replacement).
    static func sample(_ b: Int, weights: [Double], rng: Philox4x32, round: UInt64) -> [Int] {
        var w = weights
        var chosen: [Int] = []
        for draw in 0..<b {
            let total = w.reduce(0, +)
            guard total > 0 else { break }
            var u = rng.uniform(index: UInt64(draw), stream: 1_000 + round) * total
            var pick = w.count - 1
            for (i, v) in w.enumerated() where v > 0 {
                if u < v { pick = i; break }
                u -= v
            }
            if w[pick] <= 0 { break }
            chosen.append(pick)
            w[pick] = 0
        }
        return chosen.sorted()
    }

    /// Upper Cholesky factor of a symmetric PSD block, with a growing diagonal shift when it is
    /// numerically singular (pivots that the residual already explains).
    static func robustCholesky(_ h: [Double], order m: Int) throws(TesseraError) -> [Double] {
        let scale = (0..<m).map { h[$0 + $0 * m] }.max() ?? 1
        var shift = 0.0
        for _ in 0..<8 {
            var a = h
            for i in 0..<m { a[i + i * m] += shift }
            do throws(TesseraError) {
                try a.withUnsafeMutableBufferPointer { (p) throws(TesseraError) in try LAPACK.potrf(n: m, a: p.baseAddress!, lda: m) }
                for j in 0..<m { for i in (j + 1)..<max(j + 1, m) { a[i + j * m] = 0 } }
                return a
            } catch {
                shift = shift == 0 ? 1e-13 * max(scale, .leastNormalMagnitude) : shift * 100
            }
        }
        throw .numerical("randomly pivoted Cholesky: the pivot block is not positive semidefinite")
    }
}

/// The preconditioner P = F·Fᵀ + μI applied by the Woodbury identity:
/// P⁻¹v = (v − F·(μI + FᵀF)⁻¹·Fᵀv)/μ. Cost 4nk + k² per application, k² + nk memory.
public struct WoodburyPreconditioner: Sendable {
    let f: [Double]
    let n: Int
    let k: Int
    let mu: Double
    let core: [Double]   // Cholesky factor (upper) of μI + FᵀF

    public init(lowRank: RandomlyPivotedCholesky, shift mu: Double) throws(TesseraError) {
        let n = lowRank.order, k = lowRank.rank, f = lowRank.factor
        var c = [Double](repeating: 0, count: k * k)
        if k > 0 {
            BLAS.gemm(.transpose, .none, m: k, n: k, k: n, alpha: 1, a: f, lda: n, b: f, ldb: n, beta: 0, c: &c, ldc: k)
            for i in 0..<k { c[i + i * k] += mu }
            try c.withUnsafeMutableBufferPointer { (p) throws(TesseraError) in try LAPACK.potrf(n: k, a: p.baseAddress!, lda: k) }
        }
        self.n = n
        self.k = k
        self.f = f
        self.mu = mu
        core = c
    }

    public func apply(_ v: [Double]) -> [Double] {
        guard k > 0 else { return v.map { $0 / mu } }
        var t = [Double](repeating: 0, count: k)
        BLAS.gemv(.transpose, m: n, n: k, alpha: 1, a: f, lda: n, x: v, beta: 0, y: &t)
        core.withUnsafeBufferPointer { c in
            t.withUnsafeMutableBufferPointer { tb in
                BLAS.trsv(.upper, .transpose, n: k, t: c.baseAddress!, ldt: k, x: tb.baseAddress!)
                BLAS.trsv(.upper, .none, n: k, t: c.baseAddress!, ldt: k, x: tb.baseAddress!)
            }
        }
        var w = v
        BLAS.gemv(.none, m: n, n: k, alpha: -1, a: f, lda: n, x: t, beta: 1, y: &w)
        return w.map { $0 / mu }
    }
}
