/// Every error Tessera reports. Each case carries a one-line message that says what is wrong
/// and what to do about it; `description` is that line, ready for a CLI to print.
///
/// The CLI maps the cases to exit codes (docs/ARCHITECTURE.md): `invalidArgument`, `invalidInput` and
/// `io` are the user's to fix (exit 2), and so is `rankDeficient` (the data's dependent columns, raised only when the caller asked to refuse them, `RankDeficientPolicy.refuse`, or by batched solves); `numerical` means the computation itself failed
/// (for example a non-positive-definite pivot); `resourceLimit` is a refused allocation;
/// `internalFailure` is a bug in Tessera (exit 1).
public enum TesseraError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A parameter is out of range or inconsistent (shapes, tile sizes, thread counts).
    case invalidArgument(String)
    /// An input file or buffer is malformed or holds values Tessera cannot use.
    case invalidInput(String)
    /// A file could not be read or written.
    case io(String)
    /// A numerical routine failed (singular matrix, non-SPD pivot, breakdown).
    case numerical(String)
    /// A is numerically rank deficient, so the problem has no unique solution: a property of the
    /// data for the user to fix (dependent columns), and a numerical failure to an embedding
    /// program (the C interface's TESSERA_NUMERICAL, Python's LinAlgError).
    case rankDeficient(String)
    /// A memory or size request exceeds what is allowed or possible.
    case resourceLimit(String)
    /// An invariant of Tessera itself was violated.
    case internalFailure(String)
    /// A stop was requested (SIGINT, SIGTERM or `Interruption.requestStop`; signal 0: this solve's
    /// `SolveMonitor`, "cancelled"); nothing was written.
    case interrupted(signal: Int32)

    public var message: String {
        switch self {
        case .invalidArgument(let m), .invalidInput(let m), .io(let m),
             .numerical(let m), .rankDeficient(let m), .resourceLimit(let m), .internalFailure(let m):
            return m
        case .interrupted(let signal):
            if signal == 0 { return "cancelled by the caller; nothing was written" }
            return "stopped by \(Self.signalName(signal)); nothing was written"
        }
    }

    /// The name of a stop signal (Linux numbering), e.g. "SIGTERM"; "signal N" for another.
    public static func signalName(_ signal: Int32) -> String {
        let names: [Int32: String] = [1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 10: "SIGUSR1", 12: "SIGUSR2", 14: "SIGALRM",
                                      15: "SIGTERM", 24: "SIGXCPU", 25: "SIGXFSZ", 26: "SIGVTALRM", 27: "SIGPROF"]
        return names[signal] ?? "signal \(signal)"
    }

    public var description: String { message }

    /// True when the user can fix the problem by changing the input or the options.
    public var isUserError: Bool {
        switch self {
        case .invalidArgument, .invalidInput, .io, .resourceLimit, .rankDeficient: return true
        case .numerical, .internalFailure, .interrupted: return false
        }
    }
}
