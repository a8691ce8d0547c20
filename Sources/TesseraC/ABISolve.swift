import CTessera
import Tessera

/// `tessera_solve`: the right-hand sides (and warm starts) are checked (lengths, NaN/Inf) and solved on the plan
/// with the plan's progress callback observing this call, x is written only when the solve
/// finished (converged or not), and each column's report becomes a `tessera_info`.
@c @implementation
public func tessera_solve(_ plan: OpaquePointer?, _ b: UnsafePointer<Double>?, _ m: Int64, _ ldb: Int64,
                          _ x: UnsafeMutablePointer<Double>?, _ ldx: Int64, _ x0: UnsafePointer<Double>?,
                          _ info: UnsafeMutablePointer<tessera_info>?) -> tessera_status {
    ABIStatus.entry("tessera_solve") { () throws(TesseraError) in
        let plan = try ABIPlan.from(plan)
        let b = try ABIStatus.required(b, "b"), x = try ABIStatus.required(x, "x")
        let count = try ABIStatus.size(m, "m")
        let rhsLength = plan.rhsLength, solutionLength = plan.solutionLength
        guard ldb >= Int64(rhsLength) else { throw .invalidArgument("ldb is \(ldb); it must be at least the length of b, \(rhsLength)") }
        guard ldx >= Int64(solutionLength) else { throw .invalidArgument("ldx is \(ldx); it must be at least the length of x, \(solutionLength)") }
        _ = try Checked.product([count, Int(ldb)], "b of \(count) columns with ldb \(ldb)")
        _ = try Checked.product([count, Int(ldx)], "x of \(count) columns with ldx \(ldx)")
        let infoStride = try info.map { (first) throws(TesseraError) in try ABIInfo.stride(first) }
        let columns = (0..<count).map { k in Array(UnsafeBufferPointer(start: b + k * Int(ldb), count: rhsLength)) }
        var rhs = try RightHandSides(block: columns, problem: plan.problem, rows: plan.rows, cols: plan.cols)
        if let x0 {
            let guesses = (0..<count).map { k in Array(UnsafeBufferPointer(start: x0 + k * Int(ldx), count: solutionLength)) }
            rhs = try rhs.withStarts(guesses, problem: plan.problem, rows: plan.rows, cols: plan.cols)
        }
        let monitor = plan.settings.monitor ?? SolveMonitor()
        let solutions = try monitor.observing { () throws(TesseraError) in try plan.solver.solve(rhs) }
        guard solutions.count == count else { throw .internalFailure("\(count) right-hand sides gave \(solutions.count) solutions") }
        var allMet = true
        for (k, solution) in solutions.enumerated() {
            (x + k * Int(ldx)).update(from: solution.x, count: min(solution.x.count, solutionLength))
            allMet = allMet && solution.report.converged
            if let info, let infoStride {
                ABIInfo.fill(UnsafeMutableRawPointer(info) + k * infoStride, size: infoStride, from: solution.report)
            }
        }
        if !allMet {
            ABIStatus.record("tessera_solve: the tolerance was not met for at least one right-hand side; the best x was written (see its tessera_info)")
            return TESSERA_NOT_CONVERGED
        }
        return TESSERA_OK
    }
}

/// A report as the C struct.
enum ABIInfo {
    /// The size of the first release's tessera_info (everything before `history`).
    static let oldestSize = MemoryLayout<tessera_info>.offset(of: \tessera_info.history) ?? MemoryLayout<tessera_info>.size

    /// Where the history fields end: a struct at least this long has a history buffer.
    static let historyEnd = (MemoryLayout<tessera_info>.offset(of: \tessera_info.history_length) ?? MemoryLayout<tessera_info>.size)
        + MemoryLayout<Int64>.size

    /// The caller's struct_size from the first info: at least the oldest tessera_info (the fields
    /// up to `method`), at most any size (a newer header's fields beyond ours are left alone).
    static func stride(_ first: UnsafeMutablePointer<tessera_info>) throws(TesseraError) -> Int {
        let size = Int(first.pointee.struct_size)
        guard size >= oldestSize else {
            throw .invalidArgument("info[0].struct_size is \(size); set it to sizeof(tessera_info) (\(MemoryLayout<tessera_info>.size))")
        }
        return size
    }

    /// Fills the caller's struct of `size` bytes at `slot` (an older, shorter one up to its size),
    /// after reading its history buffer and capacity when it has them.
    static func fill(_ slot: UnsafeMutableRawPointer, size: Int, from report: SolveReport) {
        store(make(report, structSize: UInt32(size)), history: report.history, at: slot, size: size, readsBuffer: true)
    }

    /// Writes `info` into the caller's struct of `size` bytes at `slot` (up to its size). With
    /// `readsBuffer`, `history` is copied into the caller's buffer when the struct has one — read
    /// only from a struct whose own struct_size the caller set to `size` (the header documents
    /// that only the first struct's is required, so the others may hold anything); without, the
    /// buffer fields are left as NULL and 0.
    static func store(_ made: tessera_info, history: [Double], at slot: UnsafeMutableRawPointer, size: Int, readsBuffer: Bool) {
        let full = MemoryLayout<tessera_info>.size
        var info = made
        info.struct_size = UInt32(size)
        info.history_length = Int64(history.count)
        if readsBuffer && size >= historyEnd && slot.load(as: UInt32.self) == UInt32(size) {
            let given = slot.assumingMemoryBound(to: tessera_info.self).pointee
            if let buffer = given.history, given.history_capacity > 0 {
                let count = min(history.count, Int(clamping: given.history_capacity))
                buffer.update(from: history, count: count)
            }
            info.history = given.history
            info.history_capacity = given.history_capacity
        }
        withUnsafeBytes(of: &info) { bytes in
            if let base = bytes.baseAddress { slot.copyMemory(from: base, byteCount: min(size, full)) }
        }
    }

    static func make(_ r: SolveReport, structSize: UInt32) -> tessera_info {
        var info = tessera_info()
        info.struct_size = structSize
        info.status = r.converged ? TESSERA_OK : TESSERA_NOT_CONVERGED
        info.tolerance_met = r.converged ? 1 : 0
        info.iterations = Int32(clamping: r.iterations.reduce(0, +))
        info.accuracy = r.accuracy
        switch r.problem {
        case .gram: info.accuracy_kind = 0
        case .attention: info.accuracy_kind = 1
        case .lstsq: info.accuracy_kind = 2
        }
        info.accuracy_floor = r.accuracyFloor
        info.tolerance = r.tolerance
        info.condition_a = r.conditionA
        info.condition_preconditioned = r.conditionPreconditioned ?? .nan
        info.seconds_sketch = r.seconds.sketch ?? 0
        info.seconds_factor = r.seconds.factor ?? 0
        info.seconds_iterate = r.seconds.iterate ?? 0
        info.seconds_verify = r.seconds.verify ?? 0
        info.seconds_total = r.seconds.total
        info.method = method(r.method)
        info.rank = Int64(r.rank ?? -1)
        info.smallest_kept_singular_value = r.smallestKeptSingularValue ?? .nan
        info.largest_dropped_singular_value = r.largestDroppedSingularValue ?? .nan
        return info
    }

    static func method(_ m: SolveMethod) -> tessera_method {
        switch m {
        case .paper: return TESSERA_METHOD_PAPER
        case .pcg: return TESSERA_METHOD_PCG
        case .direct: return TESSERA_METHOD_DIRECT
        case .cholesky: return TESSERA_METHOD_CHOLESKY
        case .surrogate: return TESSERA_METHOD_SURROGATE
        }
    }
}
