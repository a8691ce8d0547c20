import TesseraCore
import TesseraKernels
import TesseraTiles

/// A rank-k approximation K ≈ F·Fᵀ (F ∈ ℝ^{n×k}) by block randomly pivoted Cholesky (Chen,
/// Epperly, Tropp, Webber): each round samples b pivots with probability ∝ the residual
/// diagonal, forms G = K[:, S] − F·F[S, :]ᵀ, factors its pivot block H = G[S, :] = UᵀU and
/// appends G·U⁻¹. Rounds stop at rank k, when the residual trace falls below 10⁻¹⁴ of
/// trace(K), or when it falls below `enoughTrace` (for a ridge λ, λ/10: the residual's largest
/// eigenvalue is then below λ/10, and more rank cannot help the preconditioner). Cost
/// n·k·(d + k) flops and n·k memory; K is touched only through k columns.
/// The n-long steps of each round (K[:, S], the update GEMM, the triangular solve) are task
/// graphs over fixed row blocks, so F has the same bits for any number of workers.
public struct RandomlyPivotedCholesky: Sendable {
    /// F, n × capacity, column-major (leading dimension n); its first `rank` columns are used.
    public let factorBlock: SharedBlock
    public let rank: Int
    public let order: Int
    /// trace(K − FFᵀ) = Σ residual diagonal.
    public let residualTrace: Double
    public let pivots: [Int]

    /// Rows per task of the n-long steps (fixed, so bits do not depend on the worker count).
    static let rowBlock = 2_048

    /// F as an array (n × rank, column-major).
    public var factor: [Double] { Array(UnsafeBufferPointer(start: factorBlock.pointer, count: order * rank)) }

    /// A factor already in a block (n × ≥ rank): Taylor features, randomized Nyström's F.
    init(block: SharedBlock, rank: Int, order: Int, residualTrace: Double) {
        factorBlock = block
        self.rank = rank
        self.order = order
        self.residualTrace = residualTrace
        pivots = []
    }

    public init(kernel: KernelOperator, rank requested: Int, blockSize: Int = 100, seed: UInt64,
                enoughTrace: Double = 0) throws(TesseraError) {
        let n = kernel.order, engine = kernel.engine
        let k = max(1, min(requested, n))
        var residual = kernel.diagonal()
        let initialTrace = residual.reduce(0, +)
        let f = try SharedBlock(rows: n, cols: k, engine: engine, zeroed: false)   // each column written before it is read
        var cols = 0, pivots: [Int] = []
        let rng = Philox4x32(seed: seed)
        var round: UInt64 = 0
        while cols < k {
            try Interruption.check()
            let trace = residual.reduce(0, +)
            if !(trace > 1e-14 * initialTrace) || trace <= enoughTrace { break }
            let b = min(blockSize, k - cols)
            let s = Self.sample(b, weights: residual, rng: rng, round: round)
            round += 1
            if s.isEmpty { break }
            let m = s.count
            // G = K[:, S] lands in F's next m columns and is turned into the new columns in place.
            try kernel.fillColumns(s, into: f, firstColumn: cols)
            if cols > 0 {
                var fs = [Double](repeating: 0, count: m * cols)   // F[S, :], m × cols
                for (r, i) in s.enumerated() { for c in 0..<cols { fs[r + c * m] = f.pointer[i + c * n] } }
                let fsBlock = try SharedBlock(fs, engine: engine)
                let done = cols
                try engine.forEachBlock(of: n, size: Self.rowBlock, name: "rpc-update") { r0, rows in
                    BLAS.gemm(.none, .transpose, m: rows, n: m, k: done, alpha: -1, a: f.pointer + r0, lda: n,
                              b: fsBlock.pointer, ldb: m, beta: 1, c: f.pointer + done * n + r0, ldc: n)
                }
            }
            var h = [Double](repeating: 0, count: m * m)
            for (r, i) in s.enumerated() { for c in 0..<m { h[r + c * m] = f.pointer[i + (cols + c) * n] } }
            let u = try SharedBlock(Self.robustCholesky(h, order: m), engine: engine)
            let first = cols
            try engine.forEachBlock(of: n, size: Self.rowBlock, name: "rpc-solve") { r0, rows in
                BLAS.trsm(left: false, .upper, .none, m: rows, n: m, alpha: 1, t: u.pointer, ldt: m,
                          b: f.pointer + first * n + r0, ldb: n)
            }
            for c in 0..<m {
                let g = f.pointer + (cols + c) * n
                for i in 0..<n { let v = g[i]; residual[i] = max(0, residual[i] - v * v) }
            }
            for i in s { residual[i] = 0 }
            cols += m
            pivots += s
        }
        factorBlock = f
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
/// P⁻¹v = (v − F·(μI + FᵀF)⁻¹·Fᵀv)/μ. Setup: FᵀF by column blocks of its upper triangle (n·k²
/// flops) and a tiled Cholesky (k³/3), all as task graphs; each application 4nk + 2k² flops
/// (Fᵀv by column blocks, F·t by row blocks: fixed splits, so bits do not depend on the worker
/// count). Memory: F (shared with the low-rank factor) and k².
public struct WoodburyPreconditioner: Sendable {
    let f: SharedBlock
    let n: Int
    let k: Int
    let mu: Double
    let engine: Engine
    let core: SharedBlock   // upper Cholesky factor of μI + FᵀF (k × k)

    static let columnBlock = 256

    public init(lowRank: RandomlyPivotedCholesky, shift mu: Double, engine: Engine) throws(TesseraError) {
        let n = lowRank.order, k = lowRank.rank, f = lowRank.factorBlock
        let c = try SharedBlock(rows: max(1, k), cols: max(1, k), engine: engine)
        if k > 0 {
            // C[0 ..< j0 + width, J] = F[:, 0 ..< j0 + width]ᵀ · F[:, J]: the upper triangle's column block J.
            try engine.forEachBlock(of: k, size: Self.columnBlock, name: "woodbury-gram") { j0, width in
                BLAS.gemm(.transpose, .none, m: j0 + width, n: width, k: n, alpha: 1, a: f.pointer, lda: n,
                          b: f.pointer + j0 * n, ldb: n, beta: 0, c: c.pointer + j0 * k, ldc: k)
            }
            for i in 0..<k { c.pointer[i + i * k] += mu }
            try TiledCholesky.factor(c, order: k, engine: engine)
        }
        self.n = n
        self.k = k
        self.f = f
        self.mu = mu
        self.engine = engine
        core = c
    }

    public func apply(_ v: [Double]) throws(TesseraError) -> [Double] {
        guard k > 0 else { return v.map { $0 / mu } }
        let n = n, k = k, f = f
        let vs = try SharedBlock(v, engine: engine)
        let t = try SharedBlock(rows: k, engine: engine)
        try engine.forEachBlock(of: k, size: Self.columnBlock, name: "woodbury-project") { j0, width in
            BLAS.gemv(.transpose, m: n, n: width, alpha: 1, a: f.pointer + j0 * n, lda: n, x: vs.pointer, beta: 0, y: t.pointer + j0)
        }
        BLAS.trsv(.upper, .transpose, n: k, t: core.pointer, ldt: k, x: t.pointer)
        BLAS.trsv(.upper, .none, n: k, t: core.pointer, ldt: k, x: t.pointer)
        let w = try SharedBlock(rows: n, engine: engine)
        let scale = 1 / mu
        try engine.forEachBlock(of: n, size: RandomlyPivotedCholesky.rowBlock, name: "woodbury-expand") { r0, rows in
            let out = w.pointer + r0
            for i in 0..<rows { out[i] = vs.pointer[r0 + i] }
            BLAS.gemv(.none, m: rows, n: k, alpha: -1, a: f.pointer + r0, lda: n, x: t.pointer, beta: 1, y: out)
            for i in 0..<rows { out[i] *= scale }
        }
        return w.toArray()
    }
}
