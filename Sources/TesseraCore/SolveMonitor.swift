import Synchronization

/// One solve's observer, the one progress interface of Tessera: the CLI's progress line, the C
/// interface's progress and phase callbacks and the Python package's callback and Ctrl-C are all
/// built on it. Two kinds of events reach it on the solving thread:
/// - phases (`SolvePhase`: load, sketch, factor, iterate, verify, write), reported by the drivers
///   and the embedding program through `SolveMonitor.enter(_:)` when a phase begins (an
///   iteration's checkpoint while another phase is current counts as entering `iterate`);
/// - iterations: every iterative method reports each one (`Interruption.checkpoint`) with the
///   iteration count and the relative residual estimate.
/// A stop requested through the monitor ends that solve alone — not the other solves in the
/// process, unlike `Interruption` — at its next check, with `TesseraError.interrupted(signal: 0)`
/// ("cancelled").
///
/// Installed for the length of a call with `observing(_:)`, as a task-local value: solves on
/// other threads do not see it. The iteration handler returns false to request the stop.
/// Cost: one thread-local read per check, one atomic exchange per phase event. Throws nothing
/// itself.
public final class SolveMonitor: Sendable {
    /// (iteration, relative residual estimate) → keep going?
    public typealias Handler = @Sendable (_ iteration: Int, _ residual: Double) -> Bool
    /// Called when a phase begins (once per change of phase).
    public typealias PhaseHandler = @Sendable (_ phase: SolvePhase) -> Void

    let handler: Handler?
    let phaseHandler: PhaseHandler?
    private let stop = Atomic<Bool>(false)
    /// The current phase's raw value, −1 before the first.
    private let phaseRaw = Atomic<Int32>(-1)

    public init(handler: Handler? = nil) {
        self.handler = handler
        self.phaseHandler = nil
    }

    public init(handler: Handler?, onPhase: PhaseHandler?) {
        self.handler = handler
        self.phaseHandler = onPhase
    }

    /// Asks the observed solve to stop at its next check (any thread may call it).
    public func requestStop() { stop.store(true, ordering: .releasing) }

    /// Whether a stop was requested.
    public var stopRequested: Bool { stop.load(ordering: .acquiring) }

    /// The phase last entered, nil before the first.
    public var phase: SolvePhase? { SolvePhase(rawValue: phaseRaw.load(ordering: .acquiring)) }

    /// Enters `phase` on this monitor: the phase handler runs when it differs from the current one.
    public func report(phase: SolvePhase) {
        let previous = phaseRaw.exchange(phase.rawValue, ordering: .acquiringAndReleasing)
        if previous != phase.rawValue { phaseHandler?(phase) }
    }

    /// Enters `phase` on the monitor observing this thread, if any (what the drivers call).
    public static func enter(_ phase: SolvePhase) { current?.report(phase: phase) }

    /// An iteration was reported: the solve is iterating.
    func noteIteration() {
        if phaseRaw.load(ordering: .relaxed) != SolvePhase.iterate.rawValue { report(phase: .iterate) }
    }

    @TaskLocal static var current: SolveMonitor?

    /// Runs `body` with this monitor observing every solve it runs on this thread.
    public func observing<R>(_ body: () throws(TesseraError) -> R) throws(TesseraError) -> R {
        let result: Result<R, TesseraError> = Self.$current.withValue(self) {
            Result { () throws(TesseraError) in try body() }
        }
        return try result.get()
    }
}
