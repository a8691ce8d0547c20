import CTessera
import Tessera

/// A `tessera_options` read at the boundary: every field checked (enum values, struct size),
/// then mapped to the library's `Problem` and `SolveOptions`, whose own validation
/// (`SolvePlan.make`) checks the ranges. The progress callback and its user data are kept as
/// given.
struct ABIOptions {
    let problem: Problem
    let options: SolveOptions
    let progress: tessera_progress_fn?
    let phase: tessera_phase_fn?
    let progressUserData: UnsafeMutableRawPointer?

    init(_ pointer: UnsafePointer<tessera_options>?) throws(TesseraError) {
        let given = try ABIStatus.required(pointer, "options")
        let size = Int(given.pointee.struct_size), full = MemoryLayout<tessera_options>.size
        let oldest = MemoryLayout<tessera_options>.offset(of: \tessera_options.progress) ?? full
        guard size >= oldest, size <= full else {
            throw .invalidArgument("options.struct_size is \(size), not the size of a tessera_options this library knows (\(full) bytes); fill it with tessera_options_init(&o, sizeof o)")
        }
        // An older, shorter struct: the fields it lacks keep their defaults.
        var c = tessera_options()
        _ = tessera_options_init(&c, UInt32(full))
        withUnsafeMutableBytes(of: &c) { $0.copyMemory(from: UnsafeRawBufferPointer(start: given, count: size)) }
        switch c.problem {
        case TESSERA_GRAM: problem = .gram(power: Int(c.power))
        case TESSERA_LSTSQ: problem = .lstsq(power: Int(c.power))
        case TESSERA_ATTENTION: problem = .attention(ridge: c.ridge)
        default: throw .invalidArgument("options.problem is \(c.problem.rawValue); use TESSERA_GRAM, TESSERA_LSTSQ or TESSERA_ATTENTION")
        }
        var o = SolveOptions()
        switch c.method {
        case TESSERA_METHOD_AUTO: o.method = nil
        case TESSERA_METHOD_PAPER: o.method = .paper
        case TESSERA_METHOD_PCG: o.method = .pcg
        case TESSERA_METHOD_DIRECT: o.method = .direct
        case TESSERA_METHOD_CHOLESKY: o.method = .cholesky
        case TESSERA_METHOD_SURROGATE: o.method = .surrogate
        default: throw .invalidArgument("options.method is \(c.method.rawValue); use a TESSERA_METHOD_ value")
        }
        switch c.sketch {
        case TESSERA_SKETCH_SPARSE_SIGN: o.sketch = .sparseSign
        case TESSERA_SKETCH_GAUSSIAN: o.sketch = .gaussian
        case TESSERA_SKETCH_SRHT: o.sketch = .srht
        case TESSERA_SKETCH_COUNTSKETCH: o.sketch = .countsketch
        default: throw .invalidArgument("options.sketch is \(c.sketch.rawValue); use a TESSERA_SKETCH_ value")
        }
        o.sketchSizeFactor = c.sketch_size_factor
        o.tolerance = c.tolerance == 0 ? nil : c.tolerance
        guard c.max_iterations >= 1, c.max_iterations <= 10_000_000 else {
            throw .invalidArgument("options.max_iterations is \(c.max_iterations); use 1 to 10,000,000")
        }
        o.maxIterations = Int(c.max_iterations)
        o.seed = c.seed
        o.memoryBudget = c.memory_budget == 0 ? nil : c.memory_budget
        guard c.rank >= 0, c.rank <= Int64(Int32.max) else { throw .invalidArgument("options.rank is \(c.rank); use 0 (the planner's) or a positive rank") }
        o.rank = c.rank == 0 ? nil : Int(c.rank)
        switch c.rank_deficient {
        case TESSERA_RANK_MIN_NORM: o.rankDeficient = .minNorm
        case TESSERA_RANK_REFUSE: o.rankDeficient = .refuse
        default: throw .invalidArgument("options.rank_deficient is \(c.rank_deficient.rawValue); use TESSERA_RANK_MIN_NORM or TESSERA_RANK_REFUSE")
        }
        guard c.rcond == -1 || (c.rcond >= 0 && c.rcond < 1) else {
            throw .invalidArgument("options.rcond is \(c.rcond); use -1 (NumPy's default, machine epsilon × max(n, d)) or a value in [0, 1)")
        }
        o.rcond = c.rcond == -1 ? nil : c.rcond
        switch c.precision {
        case TESSERA_PRECISION_AUTO: o.precision = nil
        case TESSERA_PRECISION_DOUBLE: o.precision = .double
        case TESSERA_PRECISION_MIXED: o.precision = .mixed
        default: throw .invalidArgument("options.precision is \(c.precision.rawValue); use a TESSERA_PRECISION_ value")
        }
        options = o
        progress = c.progress
        phase = c.phase
        progressUserData = c.progress_user_data
    }

    /// The monitor that forwards each iteration and each phase to the callbacks (nil without
    /// either); a nonzero return of the progress callback stops the solve.
    var monitor: SolveMonitor? {
        guard progress != nil || phase != nil else { return nil }
        let callback = ProgressCallback(function: progress, phase: phase, userData: progressUserData)
        return SolveMonitor(handler: { iteration, residual in callback.call(iteration: iteration, residual: residual) },
                            onPhase: { callback.enter($0) })
    }
}

/// A C progress callback and its user data. Invariant (why `@unchecked Sendable` is sound): the
/// monitor calls it only on the thread that called `tessera_solve`/`tessera_plan_create`, during
/// that call, as the header documents; Tessera never dereferences the user data.
struct ProgressCallback: @unchecked Sendable {
    let function: tessera_progress_fn?
    let phase: tessera_phase_fn?
    let userData: UnsafeMutableRawPointer?

    func call(iteration: Int, residual: Double) -> Bool {
        guard let function else { return true }
        return function(userData, Int64(iteration), residual) == 0
    }

    func enter(_ p: SolvePhase) {
        phase?(userData, tessera_phase(rawValue: UInt32(p.rawValue)))
    }
}
