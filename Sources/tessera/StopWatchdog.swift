import CStopSignals
import Tessera
import TesseraIO
#if canImport(Glibc)
import Glibc
#endif

/// The CLI's answer to SIGINT/SIGTERM (process policy, so it lives here and not in the library).
///
/// `install(grace:)` installs the async-signal-safe C handler (it records the signal and writes
/// a byte to a self-pipe) and starts one watchdog thread blocked on that pipe. On a signal the
/// watchdog calls `Interruption.requestStop(signal:)`, so solves stop at their next check and
/// `AtomicFile` renames nothing; if the process is still running `grace` seconds later — stuck
/// inside one long BLAS/LAPACK call — it removes every temporary file still registered in
/// `TemporaryFiles`, prints "tessera: stopped by SIGTERM; nothing was written" and ends the
/// process with `_exit(128 + signal)` (130 for SIGINT, 143 for SIGTERM), the shell convention.
enum StopWatchdog {
    private struct State {
        var started = false
        var grace = 0.5
        var readFD: Int32 = -1
    }

    private static let state = Locked(State())

    /// Installs the handlers and starts the watchdog (idempotent).
    static func install(grace seconds: Double = 0.5) {
        let fd = tessera_stop_signals_install()
        guard fd >= 0 else { return }
        let start = state.withLock { state -> Bool in
            defer { state.started = true }
            state.grace = seconds
            state.readFD = fd
            return !state.started
        }
        guard start else { return }
        var thread = pthread_t()
        _ = pthread_create(&thread, nil, { _ in StopWatchdog.watch(); return nil }, nil)
        pthread_detach(thread)
    }

    /// Waits for a signal byte, requests the stop, gives the solve `grace` seconds to stop on
    /// its own, then removes the registered temporaries and exits 128 + signal.
    private static func watch() {
        let (fd, grace) = state.withLock { ($0.readFD, $0.grace) }
        var byte: UInt8 = 0
        while true {
            let n = read(fd, &byte, 1)
            if n == 1 { break }
            if n < 0 && errno == EINTR { continue }
            return
        }
        let received = tessera_stop_signal_pending()
        let signal = received != 0 ? received : Int32(byte)
        Interruption.requestStop(signal: signal)
        var pause = timespec(tv_sec: Int(grace), tv_nsec: Int((grace - grace.rounded(.down)) * 1e9))
        var left = timespec()
        while nanosleep(&pause, &left) != 0 && errno == EINTR { pause = left }
        for path in TemporaryFiles.registered { unlink(path) }
        let name = signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "signal \(signal)"
        let line = Array("tessera: stopped by \(name); nothing was written\n".utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        _exit(128 + signal)
    }
}
