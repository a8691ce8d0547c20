/// The phases of a solve, in the order a run goes through them: `load` (map and check the
/// inputs), `sketch` (S·A), `factor` (the triangular factor or the preconditioner), `iterate`,
/// `verify` (the independent accuracy pass), `write` (the outputs). A run may skip phases (an
/// exact factor has no sketch) and go back from `verify` to `iterate` (a refinement).
///
/// Reported to the thread's `SolveMonitor` by `SolveMonitor.enter(_:)`; the raw values are the
/// C interface's `tessera_phase` numbers and the names the CLI prints. Costs nothing; throws
/// nothing.
public enum SolvePhase: Int32, Sendable, CaseIterable {
    case load = 0, sketch, factor, iterate, verify, write

    /// The phase's name as printed ("load", "sketch", "factor", "iterate", "verify", "write").
    public var name: String {
        switch self {
        case .load: return "load"
        case .sketch: return "sketch"
        case .factor: return "factor"
        case .iterate: return "iterate"
        case .verify: return "verify"
        case .write: return "write"
        }
    }
}
