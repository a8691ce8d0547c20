/// The residual estimate of each iteration of one solve, for its report: while `recording(_:)`
/// runs on a thread, every `Interruption.checkpoint` with iteration ≥ 1 on that thread appends
/// its residual (iteration 0, a method's starting residual before any step, is not an iteration
/// and is left out). The drivers record one right-hand side at a time, so the history's length
/// is the report's iteration count: entries follow the stages in order (lstsq's least-squares
/// stage, then each power stage).
///
/// A task-local value like `SolveMonitor`, independent of it (a report has its history with or
/// without a monitor). Cost: one thread-local read per checkpoint and one append while recording.
/// Throws what the recorded body throws.
public final class ConvergenceHistory: @unchecked Sendable {
    // @unchecked: `residuals` is touched only by the thread that runs `recording` (the task-local
    // value is visible to that thread's synchronous body alone).
    private var residuals: [Double] = []

    @TaskLocal static var current: ConvergenceHistory?

    private init() {}

    /// Runs `body`, returning what it returns and the residuals its iterations reported.
    public static func recording<R>(_ body: () throws(TesseraError) -> R) throws(TesseraError) -> (R, [Double]) {
        let history = ConvergenceHistory()
        let result: Result<R, TesseraError> = $current.withValue(history) {
            Result { () throws(TesseraError) in try body() }
        }
        return (try result.get(), history.residuals)
    }

    /// Forgets what this thread's recording holds so far (steps that are not iterations of the
    /// solve, such as the CG steps that estimate a spectrum before Richardson).
    public static func discard() { current?.residuals.removeAll() }

    /// Appends an iteration's residual to this thread's recording, if any.
    static func append(iteration: Int, residual: Double) {
        guard iteration >= 1, let history = current else { return }
        history.residuals.append(residual)
    }
}
