import ArgumentParser
import Logging
import Tessera
#if canImport(Glibc)
import Glibc
#endif

/// The `tessera` command line: see `tessera --help`. Exit codes: 0 success; 2 bad usage or input
/// (one-line message, nothing written), including an input truncated by another process while it
/// was being read (SIGBUS, handled by `StopWatchdog`); 3 ran but did not reach the tolerance;
/// 1 internal error; 128 + N stopped by signal N (130 SIGINT, 143 SIGTERM, 129 SIGHUP, 131 SIGQUIT; nothing written).
@main
struct TesseraCommand: ParsableCommand {
    static let version = "0.1.0"

    /// What `tessera --version` prints, in one line: the version and the OpenBLAS build and core.
    static var versionLine: String {
        "tessera \(version), \(OpenBLASRuntime.configuration.split(separator: " ").joined(separator: " ")), core \(OpenBLASRuntime.coreName)"
    }

    static let configuration = CommandConfiguration(
        commandName: "tessera",
        abstract: "Solve regression problems against proxies of the attention matrix on a tiled DAG runtime.",
        version: versionLine,
        subcommands: [Info.self, Demo.self, Solve.self, Generate.self, GramMatrix.self]
    )

    static func main() {
        OpenBLASCoreFix.reexecuteIfNeeded()
        StopWatchdog.install()
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        if let warning = Engine.blasKernelWarning { Logger(label: "tessera.engine").warning("\(warning)") }
        if let repeated = repeatedOption(in: Array(CommandLine.arguments.dropFirst())) {
            CLIErrors.printError("\(repeated) is given more than once; give it once")
            Glibc.exit(2)
        }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            // Usage errors exit 2 with one line (ArgumentParser's default is 64 plus the usage text).
            if exitCode(for: error) == .validationFailure {
                let oneLine = message(for: error).split(separator: "\n").map { $0.trimmingWhitespace }.filter { !$0.isEmpty }
                CLIErrors.printError(oneLine.joined(separator: " ") + " (see 'tessera --help')")
                Glibc.exit(2)
            }
            exit(withError: error)
        }
    }
}

/// The first long option given twice (`--output a --output b`, or `--output=a --output b`):
/// every option of every command takes one value, and a parser that kept the last one would
/// silently drop the other. Tokens after `--` are arguments, not options.
func repeatedOption(in arguments: [String]) -> String? {
    var seen = Set<String>()
    for token in arguments {
        if token == "--" { break }
        guard token.hasPrefix("--"), token.count > 2 else { continue }
        let name = String(token.split(separator: "=", maxSplits: 1)[0])
        if !seen.insert(name).inserted { return name }
    }
    return nil
}

/// Options every compute command shares.
struct EngineOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Worker threads (default: one per core).")
    var threads: Int?

    @Option(name: .customLong("tile-rows"), parsing: .unconditional, help: "Rows per tile (default: chosen from the shape and caches; see `tessera info`).")
    var tileRows: Int?

    @Flag(help: "Print nothing but errors.")
    var quiet = false

    func makeEngine() throws -> Engine {
        try CLIErrors.reporting { () throws(TesseraError) in try makeEngineTyped() }
    }

    func makeEngineTyped() throws(TesseraError) -> Engine { try Engine(threads: threads) }
}

/// Turns `TesseraError` into a one-line message on stderr and the documented exit code.
enum CLIErrors {
    /// `body`'s value; its error printed as one `tessera: error:` line (unless `printing` is
    /// false: the other ranks of an MPI job leave that to rank 0) and thrown as the exit status.
    static func reporting<T>(printing: Bool = true, _ body: () throws(TesseraError) -> T) throws -> T {
        do { return try body() } catch {
            let error = namingFlags(error)
            if printing { printError(error.message) }
            throw ExitCode(exitStatus(of: error))
        }
    }

    /// The library's words for a setting → the CLI flag that sets it ("the thread count must be
    /// at least 1" is printed as "--threads must be at least 1"). Only the wording changes: the
    /// checks themselves are the library's.
    static let flagNames: [(library: String, flag: String)] = [
        ("the thread count", "--threads"), ("a smaller tile height", "fewer --tile-rows"), ("the tile height", "--tile-rows"),
    ]

    /// `error` with the library's names of CLI-settable values replaced by their flags.
    static func namingFlags(_ error: TesseraError) -> TesseraError {
        guard case .invalidArgument(var message) = error else { return error }
        for (library, flag) in flagNames { message = message.replacing(library, with: flag) }
        return .invalidArgument(message)
    }

    /// 2: the user's to fix; 128 + signal: stopped by a signal (130 SIGINT, 143 SIGTERM, 129 SIGHUP, …); 1: internal.
    static func exitStatus(of error: TesseraError) -> Int32 {
        if case .interrupted(let signal) = error { return 128 + signal }
        return error.isUserError ? 2 : 1
    }

    static func printError(_ message: String) {
        var stderr = StandardError()
        print("tessera: error: \(message)", to: &stderr)
    }

    /// One line `tessera: warning: …` on stderr (the run goes on).
    static func warn(_ message: String) {
        var stderr = StandardError()
        print("tessera: warning: \(message)", to: &stderr)
    }
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        var bytes = Array(string.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 { return }
            offset += n
        }
    }
}
