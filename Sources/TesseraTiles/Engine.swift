#if canImport(Glibc)
import Glibc
#endif
import TesseraCore
import TesseraKernels
import TesseraPlatform
import TesseraRuntime

/// Where tiled work runs: the machine profile, the executor (the DAG scheduler, or the serial
/// reference), and the process-wide OpenBLAS setting Tessera relies on — one BLAS thread per
/// task, because the parallelism comes from the task graph.
///
/// Creating an engine sets OpenBLAS to one thread. Whether OpenBLAS runs an old generic core on
/// a CPU with AVX2/AVX-512 is reported as a value, `Engine.blasKernelWarning`, for the program to
/// log (the library itself logs nothing). `init` throws `invalidArgument` for a thread count
/// below 1 and whatever reading the machine's topology throws.
public struct Engine: Sendable {
    public let profile: MachineProfile
    public let executor: any GraphExecutor
    /// Records every graph this engine runs when set (see `tracing(into:)`).
    public private(set) var trace: TraceRecorder?
    /// When set, row-block reductions run only this process's groups and combine the group
    /// partials across processes (`distributed(over:)`); nil in a single process.
    public private(set) var exchange: (any RowGroupExchange)?

    /// An engine on `profile` (default: this machine) with `threads` workers (default: one per
    /// core); `serial` runs every graph on the calling thread in submission order. With
    /// `setsBLASThreads` false OpenBLAS's thread count is left alone: the caller runs each call
    /// inside `OpenBLASRuntime.singleThreaded` (the C interface does).
    public init(threads: Int? = nil, profile: MachineProfile? = nil, serial: Bool = false,
                setsBLASThreads: Bool = true) throws(TesseraError) {
        let p: MachineProfile
        if let profile { p = profile } else { p = try MachineProfile.current() }
        self.profile = p
        if serial {
            try Scheduler.validate(threads: threads, profile: p)
            executor = SerialExecutor()
        } else {
            executor = try Scheduler(profile: p, threads: threads)
        }
        if setsBLASThreads { Self.prepareBLAS() }
    }

    /// The same engine, recording every task it runs into `recorder` (Chrome trace).
    public func tracing(into recorder: TraceRecorder?) -> Engine {
        var copy = self
        copy.trace = recorder
        return copy
    }

    /// The same engine as one of several processes: every canonical row-block reduction (AᵀA,
    /// SA, Aᵀu, AᵀA·Y, Aᵀ(B − AY)) computes only this process's groups and combines all groups'
    /// partials through `exchange` by the fixed tree, so results keep their bits for any process
    /// count. Passes that are not row-block reductions run whole in every process.
    public func distributed(over exchange: any RowGroupExchange) -> Engine {
        var copy = self
        copy.exchange = exchange
        return copy
    }

    /// Workers that run tasks at once.
    public var workerCount: Int { executor.workerCount }

    /// Runs a graph, rethrowing the first task error as a `TesseraError` where it is one.
    public func run(_ graph: TaskGraph, trace: TraceRecorder? = nil) throws(TesseraError) {
        do { try executor.run(graph, trace: trace ?? self.trace) } catch {
            if let e = error as? TesseraError { throw e }
            throw .internalFailure("a task failed: \(error)")
        }
    }

    /// Runs a graph while `poll` runs on this thread now and then (`GraphExecutor.run(_:trace:polling:)`).
    public func run(_ graph: TaskGraph, polling poll: () -> Void) throws(TesseraError) {
        do { try executor.run(graph, trace: trace, polling: poll) } catch {
            if let e = error as? TesseraError { throw e }
            throw .internalFailure("a task failed: \(error)")
        }
    }

    /// The tile height this engine would choose for an n×d matrix, and why. It depends on the
    /// shape, the machine's core count and caches — not on the thread count — so results have the same
    /// bits whatever the number of workers (the tiling fixes every summation order).
    public func recommendedTileRows(rows: Int, cols: Int) -> TileChoice {
        TileChoice.recommended(rows: rows, cols: cols, workers: max(1, profile.coreCount), caches: profile.caches)
    }

    /// A one-line warning when OpenBLAS selected slow generic kernels on a CPU that supports
    /// faster ones and `OPENBLAS_CORETYPE` is not set (it names the value to export); nil when
    /// the kernels are fine. For the program to log once at startup.
    public static var blasKernelWarning: String? {
        guard let core = OpenBLASRuntime.recommendedCoreType(), ProcessEnvironment.value("OPENBLAS_CORETYPE") == nil else { return nil }
        return "OpenBLAS selected the slow '\(OpenBLASRuntime.coreName)' kernels on a CPU that supports \(core); export OPENBLAS_CORETYPE=\(core) before starting the program"
    }

    private static func prepareBLAS() {
        OpenBLASRuntime.setThreadCount(1)
    }
}

/// Reads environment variables without Foundation (nil when unset). Throws nothing.
public enum ProcessEnvironment {
    public static func value(_ name: String) -> String? {
        guard let p = getenv(name) else { return nil }
        return String(cString: p)
    }
}
