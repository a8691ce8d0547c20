import Synchronization

/// The process-wide request to stop work (SIGINT/SIGTERM in the CLI, or a library caller).
///
/// Solves poll `check()` between tasks and iterations (one atomic load); once a stop is pending
/// they throw `TesseraError.interrupted`, and `AtomicFile` refuses to rename a finished
/// temporary into place. This type is only the flag: signal handling, and what a process does
/// when work does not stop in time (the CLI's watchdog removes its temporary files and exits
/// 128 + signal), belong to the program that embeds Tessera.
///
/// The flag is process-wide: `requestStop(signal:)` ends every solve in flight (the first
/// request wins), and `clear()` allows new ones. Cost: one atomic operation per call. Throws
/// nothing except `check()`, which throws `.interrupted(signal:)`.
public enum Interruption {
    /// 0 when no stop is pending, else the signal number recorded by the first request.
    private static let pending = Atomic<Int32>(0)

    /// The pending stop signal (SIGINT = 2, SIGTERM = 15), or nil.
    public static var pendingSignal: Int32? {
        let s = pending.load(ordering: .acquiring)
        return s == 0 ? nil : s
    }

    /// Throws `.interrupted` when a stop is pending, for the whole process or for this thread's
    /// solve (`SolveMonitor`, signal 0). Cost: one atomic load and one thread-local read.
    @inline(__always)
    public static func check() throws(TesseraError) {
        let s = pending.load(ordering: .acquiring)
        if s != 0 { throw .interrupted(signal: s) }
        if let monitor = SolveMonitor.current, monitor.stopRequested { throw .interrupted(signal: 0) }
    }

    /// `check()`, then reports an iteration to this thread's `SolveMonitor`, if any: its handler
    /// gets (iteration, relative residual estimate) and may ask to stop, which throws
    /// `.interrupted(signal: 0)`. Every iterative method calls it once per iteration. The
    /// residual also goes to the thread's `ConvergenceHistory`, when one is recording.
    public static func checkpoint(iteration: Int, residual: Double) throws(TesseraError) {
        try check()
        ConvergenceHistory.append(iteration: iteration, residual: residual)
        guard let monitor = SolveMonitor.current else { return }
        monitor.noteIteration()
        guard let handler = monitor.handler else { return }
        if !handler(iteration, residual) {
            monitor.requestStop()
            throw .interrupted(signal: 0)
        }
    }

    /// Asks every solve in this process to stop, as `signal` would (default SIGTERM = 15); the
    /// first request wins until `clear()`. Nothing exits: that is the embedding program's policy.
    public static func requestStop(signal: Int32 = 15) {
        _ = pending.compareExchange(expected: 0, desired: signal, ordering: .acquiringAndReleasing)
    }

    /// Forgets a pending stop, so that new solves may run.
    public static func clear() { pending.store(0, ordering: .releasing) }
}
