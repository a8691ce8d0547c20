#if canImport(Glibc)
import Glibc
#endif
import CTessera
import Dispatch
import Synchronization
import Tessera

/// `tessera_solve_batched`: many small independent gram/lstsq problems of one shape, the
/// throughput case (as cuBLAS's `gelsBatched`). Each problem is solved whole on one worker with
/// single-threaded BLAS, and the context's workers take problems from a shared counter, so the
/// bits of each x do not depend on the worker count.
///
/// Per problem (A n × d, in place in the caller's layout): G = AᵀA (one SYRK, n·d² flops),
/// R = chol(G); gram: x = (RᵀR)⁻ʲ b by 2j triangular solves; lstsq: x₀ = R⁻¹R⁻ᵀAᵀb corrected once
/// (x₀ += R⁻¹R⁻ᵀAᵀ(b − Ax₀), the corrected semi-normal equations, accurate while κ(A)²·u < 1),
/// then x = (RᵀR)⁻ʲ x₀. The certificate, from fresh products with A, as a plan's: gram the
/// backward error ‖(AᵀA)ʲx − b‖/(‖A‖^{2j}‖x‖ + ‖b‖), lstsq the optimality ‖Mᵀr‖/(‖M‖₂‖r‖) for
/// M = A(AᵀA)ʲ, with ‖A‖₂ = σ_max from a power iteration on RᵀR, and the float64 floor of each.
/// Memory per worker: d² + 2·max(n, d) + n + 2d doubles.
enum BatchedSolve {
    struct Shape {
        let rows: Int
        let cols: Int
        let ld: Int
        let order: StorageOrder
        let problem: Problem
        let tolerance: Double
    }

    /// Solves problem k into x (length d) and returns its info, or throws for this problem alone.
    static func solveOne(a: UnsafePointer<Double>, b: UnsafePointer<Double>, x: UnsafeMutablePointer<Double>,
                         shape s: Shape, scratch: UnsafeMutablePointer<Double>) throws(TesseraError) -> tessera_info {
        let n = s.rows, d = s.cols, j = s.problem.power ?? 0
        let tile = Tile(base: UnsafeMutablePointer(mutating: a), rows: n, cols: d, ld: s.ld, order: s.order)
        let g = scratch, work = scratch + d * d, residual = work + max(n, d)
        let at = tile.operand(transposed: true)
        BLAS.syrk(.upper, at.flag, n: d, k: n, alpha: 1, a: at.pointer, lda: at.ld, beta: 0, c: g, ldc: d)
        do {
            try LAPACK.potrf(n: d, a: g, lda: d)
        } catch {
            throw .numerical("AᵀA is not numerically positive definite (A is rank deficient or κ(A) ≳ 1e8)")
        }
        func gramInverse(_ v: UnsafeMutablePointer<Double>) {   // v ← (RᵀR)⁻¹v
            BLAS.trsv(.upper, .transpose, n: d, t: g, ldt: d, x: v)
            BLAS.trsv(.upper, .none, n: d, t: g, ldt: d, x: v)
        }
        // Cholesky of AᵀA succeeds on rounding noise when A is (nearly) rank deficient; the
        // route is sound only while κ(A)²·u < 1, so κ(A) from power iterations is checked.
        let kappa = conditionEstimate(r: g, order: d, scratch: work)
        guard kappa.isFinite, kappa < Self.conditionLimit else {
            throw .rankDeficient("A is numerically rank deficient or too ill-conditioned for the batched Cholesky route (κ(A) ≈ \(Format.sci(kappa)), limit \(Format.sci(Self.conditionLimit))); remove dependent columns, or solve it with a plan (tessera_plan_create), which gives the minimum-norm solution")
        }
        let bLength = s.problem.tallKind == .gram ? d : n
        // v ← AᵀA·v in one pass over A (the fused kernels read each row or panel once); `residual`
        // is free scratch here (n ≥ one panel's rows).
        func gramTimes(_ v: UnsafeMutablePointer<Double>) {
            let product = residual + n
            if s.order == .rowMajor {
                GramVectorProduct.applyRows(a, ld: s.ld, rows: n, cols: d, columns: 1, y: v, w: product)
            } else {
                GramVectorProduct.apply(a, ld: s.ld, rows: n, cols: d, y: v, scratch: residual, w: product)
            }
            v.update(from: product, count: d)
        }
        if s.problem.tallKind == .gram {
            x.update(from: b, count: d)
        } else {
            tile.gemv(transposed: true, x: b, beta: 0, y: x)                 // Aᵀb
            gramInverse(x)
            residual.update(from: b, count: n)
            tile.gemv(transposed: false, alpha: -1, x: x, beta: 1, y: residual)  // b − Ax₀
            tile.gemv(transposed: true, x: residual, beta: 0, y: work)
            gramInverse(work)
            BLAS.axpy(count: d, alpha: 1, x: work, y: x)
        }
        for _ in 0..<j { gramInverse(x) }
        var info = tessera_info()
        info.rank = -1
        info.smallest_kept_singular_value = .nan
        info.largest_dropped_singular_value = .nan
        info.status = TESSERA_OK
        info.tolerance = s.tolerance
        info.method = TESSERA_METHOD_CHOLESKY
        info.condition_a = .nan
        info.condition_preconditioned = .nan
        let bNorm = BLAS.nrm2(count: bLength, b), xNorm = BLAS.nrm2(count: d, x)
        let sigma = largestSingularValue(r: g, order: d, scratch: residual + n)
        let unitRoundoff = Double.ulpOfOne / 2
        work.update(from: x, count: d)                      // (AᵀA)ʲx by j fresh passes over A
        for _ in 0..<j { gramTimes(work) }
        if s.problem.tallKind == .gram {
            BLAS.axpy(count: d, alpha: -1, x: b, y: work)
            info.accuracy = BLAS.nrm2(count: d, work) / max(pow(sigma, 2 * Double(j)) * xNorm + bNorm, .leastNormalMagnitude)
            info.accuracy_kind = 0
            info.accuracy_floor = unitRoundoff
        } else {
            // r = b − A(AᵀA)ʲx, then Mᵀr = (AᵀA)ʲAᵀr for M = A(AᵀA)ʲ, ‖M‖₂ = σ_max^{2j+1}.
            residual.update(from: b, count: n)
            tile.gemv(transposed: false, alpha: -1, x: work, beta: 1, y: residual)
            let rNorm = BLAS.nrm2(count: n, residual)
            tile.gemv(transposed: true, x: residual, beta: 0, y: work)
            for _ in 0..<j { gramTimes(work) }
            let normM = pow(sigma, Double(2 * j + 1))
            info.accuracy = rNorm == 0 ? 0 : BLAS.nrm2(count: d, work) / max(normM * rNorm, .leastNormalMagnitude)
            info.accuracy_kind = 2
            info.accuracy_floor = rNorm == 0 ? unitRoundoff : unitRoundoff * normM * xNorm / rNorm
        }
        info.tolerance_met = info.accuracy <= max(s.tolerance, info.accuracy_floor) ? 1 : 0
        if info.tolerance_met == 0 { info.status = TESSERA_NOT_CONVERGED }
        return info
    }

    /// κ(A) above which the normal-equations route cannot give float64 accuracy (κ²·u ≈ 0.2).
    static let conditionLimit = 3e7

    /// κ₂(R) = κ₂(A): σ_max by power steps on RᵀR and σ_min by power steps on (RᵀR)⁻¹
    /// (`steps` each; estimates from below and above, close for any spectrum — a rank
    /// deficiency's gap makes the second converge at once). Plain loops over the d×d triangle:
    /// for the small d of a batch, BLAS call overheads would cost more than the arithmetic.
    /// Scratch: 2d doubles.
    static func conditionEstimate(r: UnsafePointer<Double>, order d: Int, scratch: UnsafeMutablePointer<Double>) -> Double {
        let largest = largestSingularValue(r: r, order: d, scratch: scratch)
        let v = scratch, w = scratch + d
        for i in 0..<d { v[i] = (1 + Double(i % 7)) / Double(d) }
        var inverse = 0.0
        for _ in 0..<steps {
            Triangle.solveTransposed(r, d, v, into: w)     // w = R⁻ᵀv
            Triangle.solve(r, d, w)                        // w = R⁻¹R⁻ᵀv
            let norm = BLAS.nrm2(count: d, w)
            guard norm > 0, norm.isFinite else { return .infinity }
            inverse = norm
            for i in 0..<d { v[i] = w[i] / norm }
        }
        return largest * inverse.squareRoot()
    }

    /// Power steps per estimate.
    static let steps = 12

    /// σ_max(A) = ‖R‖₂ by power steps on RᵀR (scratch: 2d doubles); a lower bound, within a few
    /// percent for any spectrum after 12 steps.
    static func largestSingularValue(r: UnsafePointer<Double>, order d: Int, scratch: UnsafeMutablePointer<Double>) -> Double {
        let v = scratch, w = scratch + d
        for i in 0..<d { v[i] = 1 / Double(d).squareRoot() }
        var estimate = 0.0
        for _ in 0..<steps {
            Triangle.multiply(r, d, v, into: w)            // w = Rv
            Triangle.multiplyTransposed(r, d, w, into: v)  // v = RᵀRv
            let norm = BLAS.nrm2(count: d, v)
            guard norm > 0, norm.isFinite else { break }
            estimate = norm
            for i in 0..<d { v[i] /= norm }
        }
        return estimate.squareRoot()
    }

    /// Products and solves with an upper triangle R (column-major, d×d) in plain loops.
    enum Triangle {
        static func multiply(_ r: UnsafePointer<Double>, _ d: Int, _ x: UnsafePointer<Double>, into y: UnsafeMutablePointer<Double>) {
            for i in 0..<d { y[i] = 0 }
            for j in 0..<d { let xj = x[j], column = r + j * d; for i in 0...j { y[i] += column[i] * xj } }
        }

        static func multiplyTransposed(_ r: UnsafePointer<Double>, _ d: Int, _ x: UnsafePointer<Double>, into y: UnsafeMutablePointer<Double>) {
            for j in 0..<d { let column = r + j * d; var s = 0.0; for i in 0...j { s += column[i] * x[i] }; y[j] = s }
        }

        /// y = R⁻ᵀx (forward substitution on Rᵀ).
        static func solveTransposed(_ r: UnsafePointer<Double>, _ d: Int, _ x: UnsafePointer<Double>, into y: UnsafeMutablePointer<Double>) {
            for j in 0..<d {
                let column = r + j * d
                var s = x[j]
                for i in 0..<j { s -= column[i] * y[i] }
                y[j] = s / column[j]
            }
        }

        /// x ← R⁻¹x (back substitution).
        static func solve(_ r: UnsafePointer<Double>, _ d: Int, _ x: UnsafeMutablePointer<Double>) {
            for j in stride(from: d - 1, through: 0, by: -1) {
                let column = r + j * d
                x[j] /= column[j]
                let xj = x[j]
                for i in 0..<j { x[i] -= column[i] * xj }
            }
        }
    }
}

@c @implementation
public func tessera_solve_batched(_ context: OpaquePointer?, _ options: UnsafePointer<tessera_options>?, _ count: Int64,
                                  _ a: UnsafePointer<Double>?, _ n: Int64, _ d: Int64, _ ld: Int64, _ order: tessera_order,
                                  _ strideA: Int64, _ b: UnsafePointer<Double>?, _ strideB: Int64,
                                  _ x: UnsafeMutablePointer<Double>?, _ strideX: Int64,
                                  _ info: UnsafeMutablePointer<tessera_info>?) -> tessera_status {
    ABIStatus.entry("tessera_solve_batched") { () throws(TesseraError) in
        let context = try ABIContext.from(context)
        let settings = try ABIOptions(options)
        let problem = settings.problem
        guard problem.tallKind != nil else { throw .invalidArgument("batched solves are for gram and lstsq problems; use a plan for attention") }
        try problem.validate()
        let total = try ABIStatus.size(count, "count")
        let raw = try callerMatrix(a, n, d, ld, order, TESSERA_FLOAT64)
        guard raw.rows >= raw.cols else { throw .invalidArgument("n is \(n), d is \(d); each A must have at least as many rows as columns") }
        let b = try ABIStatus.required(b, "b"), x = try ABIStatus.required(x, "x")
        let extent = raw.rowMajor ? (raw.rows - 1) * raw.ld + raw.cols : (raw.cols - 1) * raw.ld + raw.rows
        let bLength = problem.tallKind == .gram ? raw.cols : raw.rows
        guard strideA >= Int64(extent) else { throw .invalidArgument("stride_a is \(strideA); one A spans \(extent) elements, so it must be at least that") }
        guard strideB >= Int64(bLength) else { throw .invalidArgument("stride_b is \(strideB); it must be at least the length of b, \(bLength)") }
        guard strideX >= Int64(raw.cols) else { throw .invalidArgument("stride_x is \(strideX); it must be at least d = \(raw.cols)") }
        for (stride, name) in [(strideA, "a"), (strideB, "b"), (strideX, "x")] {
            _ = try Checked.product([total, Int(stride), 8], "\(name) for \(total) problems with stride \(stride)")
        }
        let infoStride = try info.map { (first) throws(TesseraError) in try ABIInfo.stride(first) }
        let shape = BatchedSolve.Shape(rows: raw.rows, cols: raw.cols, ld: raw.ld, order: raw.rowMajor ? .rowMajor : .columnMajor,
                                       problem: problem, tolerance: settings.options.tolerance(for: problem))
        let scratchCount = raw.cols * raw.cols + 2 * max(raw.rows, raw.cols) + raw.rows + 2 * raw.cols
        let workers = max(1, min(context.engine.workerCount, total))
        let next = Atomic<Int>(0)
        let failures = Locked([Int: TesseraError]())
        let notMet = Atomic<Int>(0)
        let buffers = Pointers(a: raw.base.assumingMemoryBound(to: Double.self), b: b, x: x, info: info.map { UnsafeMutableRawPointer($0) })
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            let scratch = UnsafeMutablePointer<Double>.allocate(capacity: scratchCount)
            defer { scratch.deallocate() }
            while true {
                let k = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard k < total else { return }
                if Interruption.pendingSignal != nil { failures.withLock { $0[k] = .interrupted(signal: Interruption.pendingSignal ?? 0) }; continue }
                let xk = buffers.x + k * Int(strideX)
                var result: tessera_info
                do throws(TesseraError) {
                    result = try BatchedSolve.solveOne(a: buffers.a + k * Int(strideA), b: buffers.b + k * Int(strideB), x: xk,
                                                       shape: shape, scratch: scratch)
                } catch {
                    failures.withLock { $0[k] = error }
                    for i in 0..<shape.cols { xk[i] = .nan }
                    result = tessera_info()
                    result.rank = -1
                    result.smallest_kept_singular_value = .nan
                    result.largest_dropped_singular_value = .nan
                    result.status = ABIStatus.code(for: error)
                    result.accuracy = .nan
                }
                if result.status == TESSERA_NOT_CONVERGED { notMet.add(1, ordering: .relaxed) }
                if let base = buffers.info, let infoStride {
                    ABIInfo.store(result, history: [], at: base + k * infoStride, size: infoStride, readsBuffer: false)
                }
            }
        }
        if let (k, error) = failures.withLock({ $0.min { $0.key < $1.key } }) {
            let others = failures.withLock { $0.count } - 1
            throw error.withMessage("problem \(k): \(error.message)" + (others > 0 ? " (and \(others) more; see their tessera_info)" : ""))
        }
        if notMet.load(ordering: .relaxed) > 0 {
            ABIStatus.record("tessera_solve_batched: \(notMet.load(ordering: .relaxed)) of \(total) problems missed the tolerance; their x was written (see their tessera_info)")
            return TESSERA_NOT_CONVERGED
        }
        return TESSERA_OK
    }
}

/// The caller's batched arrays. Invariant (why `@unchecked Sendable` is sound): the caller keeps
/// them alive for the call, and each worker writes only the x and info of the problems it took.
struct Pointers: @unchecked Sendable {
    let a: UnsafePointer<Double>
    let b: UnsafePointer<Double>
    let x: UnsafeMutablePointer<Double>
    let info: UnsafeMutableRawPointer?
}

extension TesseraError {
    /// The same kind of error with another message.
    func withMessage(_ message: String) -> TesseraError {
        switch self {
        case .invalidArgument: return .invalidArgument(message)
        case .invalidInput: return .invalidInput(message)
        case .io: return .io(message)
        case .numerical: return .numerical(message)
        case .rankDeficient: return .rankDeficient(message)
        case .resourceLimit: return .resourceLimit(message)
        case .internalFailure: return .internalFailure(message)
        case .interrupted(let s): return .interrupted(signal: s)
        }
    }
}
