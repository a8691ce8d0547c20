import Synchronization

/// One solve's observer, for a program that embeds Tessera (the C interface's progress callback,
/// the Python package's Ctrl-C): every iterative method reports each iteration to the monitor
/// installed on the solving thread (`Interruption.checkpoint`), and a stop requested through it
/// ends that solve alone — not the other solves in the process, unlike `Interruption` — at its
/// next check, with `TesseraError.interrupted(signal: 0)` ("cancelled").
///
/// Installed for the length of a call with `observing(_:)`, as a task-local value: solves on
/// other threads do not see it. The handler runs on the solving thread after each iteration with
/// the iteration count and the relative residual estimate; returning false requests the stop.
/// Cost: one thread-local read per check. Throws nothing itself.
public final class SolveMonitor: Sendable {
    /// (iteration, relative residual estimate) → keep going?
    public typealias Handler = @Sendable (_ iteration: Int, _ residual: Double) -> Bool

    let handler: Handler?
    private let stop = Atomic<Bool>(false)

    public init(handler: Handler? = nil) { self.handler = handler }

    /// Asks the observed solve to stop at its next check (any thread may call it).
    public func requestStop() { stop.store(true, ordering: .releasing) }

    /// Whether a stop was requested.
    public var stopRequested: Bool { stop.load(ordering: .acquiring) }

    @TaskLocal static var current: SolveMonitor?

    /// Runs `body` with this monitor observing every solve it runs on this thread.
    public func observing<R>(_ body: () throws(TesseraError) -> R) throws(TesseraError) -> R {
        let result: Result<R, TesseraError> = Self.$current.withValue(self) {
            Result { () throws(TesseraError) in try body() }
        }
        return try result.get()
    }
}
