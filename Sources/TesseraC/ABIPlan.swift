#if canImport(Glibc)
import Glibc
#endif
import CTessera
import Tessera

/// A plan: a prepared solver for one A (factor or preconditioner built once), immutable, so any
/// number of threads may solve on it at once with the same bits as one at a time. Held by the C
/// side as an opaque `tessera_plan *` (a retained reference); it keeps its context alive.
///
/// A float64 A is viewed in place (`TiledMatrix(viewing:)`): the caller keeps it alive and
/// unchanged until `tessera_plan_destroy`, as the header says. float32 is converted into
/// Tessera's own tiles inside the task graph (`copyIn`). Invariant (why `@unchecked Sendable` is
/// sound): `methodText` is written once in `init` and freed in `deinit`; the progress callback is
/// only called on the thread of the call that runs the solve.
final class ABIPlan: @unchecked Sendable {
    let context: ABIContext
    let solver: any PreparedSolver
    let rows: Int
    let cols: Int
    let settings: ABIOptions
    let methodText: UnsafeMutablePointer<CChar>?
    /// A as the solver reads it (views of the caller's memory, or converted tiles).
    let matrix: TiledMatrix
    /// The caller's A when it is used in place, else nil.
    let dataInPlace: UnsafeRawPointer?

    init(context: ABIContext, matrix raw: RawMatrix, settings: ABIOptions) throws(TesseraError) {
        self.context = context
        self.settings = settings
        rows = raw.rows
        cols = raw.cols
        let engine = context.engine
        let inPlace = raw.kind == .float64
        let plan = try SolvePlan.make(settings.problem, shape: [raw.rows, raw.cols], source: "A", matrixInPlace: inPlace,
                                      workers: engine.workerCount, options: settings.options)
        let layout = try TileLayout(rows: raw.rows, cols: raw.cols, tileRows: engine.recommendedTileRows(rows: raw.rows, cols: raw.cols).tileRows)
        let matrix: TiledMatrix
        dataInPlace = inPlace ? raw.base : nil
        if inPlace {
            matrix = try TiledMatrix(viewing: raw, layout: layout, engine: engine, name: "A")
        } else {
            matrix = try TiledMatrix(layout: layout, engine: engine, zeroed: false, reportsInRowOrder: raw.rowMajor)
            if let bad = try matrix.copyIn(raw, engine: engine) {
                throw .invalidInput("A holds a non-finite value at row \(bad.row), column \(bad.col); remove or replace NaN/Inf entries")
            }
        }
        self.matrix = matrix
        let monitor = settings.monitor ?? SolveMonitor()
        solver = try monitor.observing { () throws(TesseraError) in try plan.prepare(matrix: matrix, engine: engine) }
        let text: String
        switch plan {
        case .tall(let p):
            let tall = solver as? TallSolver
            let used = tall?.method ?? p.method
            let base = used == p.method ? "\(used.rawValue): \(p.reason)" : "\(used.rawValue): \(p.reason); the exact factor fell back to \(used.rawValue)"
            if let svd = tall?.minNorm {
                text = base + "; A is numerically rank deficient (rank \(svd.rank) of \(p.cols)): minimum-norm solutions by the rank-revealing route (Householder QR of A, SVD of R)"
            } else {
                text = base
            }
        case .attention(let p):
            text = "\(p.method.rawValue): \(p.reason)"
        }
        methodText = strdup(text)
    }

    deinit { free(methodText) }

    var problem: Problem { solver.problem }

    /// The length of b: d for gram, n for lstsq and attention.
    var rhsLength: Int { problem.rightHandSideLength(rows: rows, cols: cols) }

    /// The length of x: d for gram and lstsq, n for attention.
    var solutionLength: Int { problem.solutionLength(rows: rows, cols: cols) }

    static func from(_ pointer: OpaquePointer?) throws(TesseraError) -> ABIPlan {
        guard let pointer else { throw .invalidArgument("plan is NULL") }
        return Unmanaged<ABIPlan>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
    }
}

/// The caller's A as a `RawMatrix`, every argument checked: non-null, n ≥ 1, d ≥ 1, ld at least
/// d (row-major) or n (column-major), the extent n·ld representable, a known order and dtype,
/// and alignment for the element type.
func callerMatrix(_ a: UnsafeRawPointer?, _ n: Int64, _ d: Int64, _ ld: Int64, _ order: tessera_order,
                  _ dtype: tessera_dtype) throws(TesseraError) -> RawMatrix {
    let base = try ABIStatus.required(a, "a")
    let rows = try ABIStatus.size(n, "n"), cols = try ABIStatus.size(d, "d")
    let rowMajor: Bool
    switch order {
    case TESSERA_ROW_MAJOR: rowMajor = true
    case TESSERA_COLUMN_MAJOR: rowMajor = false
    default: throw .invalidArgument("order is \(order.rawValue); use TESSERA_ROW_MAJOR or TESSERA_COLUMN_MAJOR")
    }
    let kind: ElementKind
    switch dtype {
    case TESSERA_FLOAT64: kind = .float64
    case TESSERA_FLOAT32: kind = .float32
    default: throw .invalidArgument("dtype is \(dtype.rawValue); use TESSERA_FLOAT64 or TESSERA_FLOAT32")
    }
    let minimum = rowMajor ? cols : rows
    guard ld >= Int64(minimum) else {
        throw .invalidArgument("ld is \(ld); for a \(rowMajor ? "row" : "column")-major \(rows) × \(cols) A it must be at least \(minimum)")
    }
    let leading = Int(ld)
    _ = try Checked.product([rowMajor ? rows : cols, leading, kind.size], "A of \(rows) × \(cols) with ld \(leading)")
    guard Int(bitPattern: base) % kind.size == 0 else {
        throw .invalidArgument("a is not aligned for \(kind.label) (address \(Int(bitPattern: base)))")
    }
    return RawMatrix(base: base, kind: kind, rows: rows, cols: cols, rowMajor: rowMajor, ld: leading)
}

@c @implementation
public func tessera_plan_create(_ context: OpaquePointer?, _ a: UnsafeRawPointer?, _ n: Int64, _ d: Int64, _ ld: Int64,
                                _ order: tessera_order, _ dtype: tessera_dtype, _ options: UnsafePointer<tessera_options>?,
                                _ out: UnsafeMutablePointer<OpaquePointer?>?) -> tessera_status {
    ABIStatus.entry("tessera_plan_create") { () throws(TesseraError) in
        let out = try ABIStatus.required(out, "out")
        out.pointee = nil
        let context = try ABIContext.from(context)
        let settings = try ABIOptions(options)
        let raw = try callerMatrix(a, n, d, ld, order, dtype)
        let plan = try ABIPlan(context: context, matrix: raw, settings: settings)
        out.pointee = OpaquePointer(Unmanaged.passRetained(plan).toOpaque())
        return TESSERA_OK
    }
}

@c @implementation
public func tessera_plan_rhs_length(_ plan: OpaquePointer?) -> Int64 {
    guard let plan = try? ABIPlan.from(plan) else { return 0 }
    return Int64(plan.rhsLength)
}

@c @implementation
public func tessera_plan_solution_length(_ plan: OpaquePointer?) -> Int64 {
    guard let plan = try? ABIPlan.from(plan) else { return 0 }
    return Int64(plan.solutionLength)
}

@c @implementation
public func tessera_plan_method(_ plan: OpaquePointer?) -> UnsafePointer<CChar>? {
    guard let plan = try? ABIPlan.from(plan) else { return nil }
    return UnsafePointer(plan.methodText)
}

@c @implementation
public func tessera_plan_matrix_data(_ plan: OpaquePointer?) -> UnsafeRawPointer? {
    guard let plan = try? ABIPlan.from(plan) else { return nil }
    return plan.dataInPlace
}

@c @implementation
public func tessera_plan_cross_kernel(_ plan: OpaquePointer?, _ b: UnsafePointer<Double>?, _ m: Int64, _ ldb: Int64,
                                      _ order: tessera_order, _ alpha: UnsafePointer<Double>?,
                                      _ out: UnsafeMutablePointer<Double>?) -> tessera_status {
    ABIStatus.entry("tessera_plan_cross_kernel") { () throws(TesseraError) in
        let plan = try ABIPlan.from(plan)
        guard plan.problem.tallKind == nil else { throw .invalidArgument("the cross kernel is for attention plans") }
        let alpha = try ABIStatus.required(alpha, "alpha"), out = try ABIStatus.required(out, "out")
        let raw = try callerMatrix(b, m, Int64(plan.cols), ldb, order, TESSERA_FLOAT64)
        let engine = plan.context.engine
        let layout = try TileLayout(rows: raw.rows, cols: raw.cols, tileRows: engine.recommendedTileRows(rows: raw.rows, cols: raw.cols).tileRows)
        let rows = try TiledMatrix(viewing: raw, layout: layout, engine: engine, name: "B")
        let y = try plan.matrix.crossKernelMultiply(rows: rows, Array(UnsafeBufferPointer(start: alpha, count: plan.rows)), engine: engine)
        out.update(from: y, count: raw.rows)
        return TESSERA_OK
    }
}

@c @implementation
public func tessera_plan_destroy(_ plan: OpaquePointer?) {
    guard let plan else { return }
    Unmanaged<ABIPlan>.fromOpaque(UnsafeRawPointer(plan)).release()
}
