import CStopSignals
#if canImport(Glibc)
import Glibc
#endif

/// Stopping work on SIGINT/SIGTERM (or on request), and never leaving a half-written file.
///
/// Solves poll `check()` between tasks and iterations (one atomic load); once a stop is pending
/// they throw `TesseraError.interrupted`, and `AtomicFile` refuses to rename a finished
/// temporary into place. A program that calls `installSignalHandlers(grace:)` (the CLI does)
/// also gets a watchdog: if the process is still running `grace` seconds after the signal —
/// stuck inside one long BLAS/LAPACK call — the watchdog removes every temporary file still
/// registered with `trackTemporary` and ends the process with status 128 + signal (130 for
/// SIGINT, 143 for SIGTERM), the shell convention.
///
/// The stop is process-wide: a library that embeds Tessera can call `requestStop()` to end
/// every solve in flight, and `clear()` before starting new ones.
public enum Interruption {
    /// The pending stop signal (SIGINT = 2, SIGTERM = 15), or nil.
    public static var pendingSignal: Int32? {
        let s = tessera_stop_signal_pending()
        return s == 0 ? nil : Int32(s)
    }

    /// Throws `.interrupted` when a stop is pending. Cost: one atomic load.
    @inline(__always)
    public static func check() throws(TesseraError) {
        let s = tessera_stop_signal_pending()
        if s != 0 { throw .interrupted(signal: Int32(s)) }
    }

    /// Asks every solve in this process to stop (as SIGTERM would, without the watchdog exit
    /// unless handlers are installed).
    public static func requestStop(signal: Int32 = SIGTERM) { tessera_stop_signal_request(signal) }

    /// Forgets a pending stop, so that new solves may run.
    public static func clear() { tessera_stop_signal_clear() }

    /// Installs SIGINT/SIGTERM handlers and the watchdog thread (idempotent).
    public static func installSignalHandlers(grace seconds: Double = 0.5) {
        let fd = tessera_stop_signals_install()
        guard fd >= 0 else { return }
        let start = watchdog.withLock { state -> Bool in
            defer { state.started = true }
            state.grace = seconds
            state.readFD = fd
            return !state.started
        }
        guard start else { return }
        var thread = pthread_t()
        _ = pthread_create(&thread, nil, { _ in Interruption.watch(); return nil }, nil)
        pthread_detach(thread)
    }

    /// Registers a temporary file the watchdog must delete if it has to end the process.
    public static func trackTemporary(_ path: String) { watchdog.withLock { _ = $0.temporaries.insert(path) } }

    /// Forgets a temporary file (renamed into place or already removed).
    public static func untrackTemporary(_ path: String) { watchdog.withLock { _ = $0.temporaries.remove(path) } }

    private struct WatchdogState {
        var started = false
        var grace = 0.5
        var readFD: Int32 = -1
        var temporaries: Set<String> = []
    }

    private static let watchdog = Locked(WatchdogState())

    /// The watchdog: waits for a signal byte, gives the solve `grace` seconds to stop on its
    /// own, then removes the registered temporaries and exits 128 + signal.
    private static func watch() {
        let (fd, grace) = watchdog.withLock { ($0.readFD, $0.grace) }
        var byte: UInt8 = 0
        while true {
            let n = read(fd, &byte, 1)
            if n == 1 { break }
            if n < 0 && errno == EINTR { continue }
            return
        }
        let signal = tessera_stop_signal_pending()
        var pause = timespec(tv_sec: Int(grace), tv_nsec: Int((grace - grace.rounded(.down)) * 1e9))
        var left = timespec()
        while nanosleep(&pause, &left) != 0 && errno == EINTR { pause = left }
        let leftovers = watchdog.withLock { $0.temporaries }
        for path in leftovers { unlink(path) }
        let name = signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "signal \(signal)"
        let line = Array("tessera: stopped by \(name); nothing was written\n".utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        _exit(128 + signal)
    }
}
