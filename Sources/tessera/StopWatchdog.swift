import CStopSignals
import Tessera
import TesseraIO
#if canImport(Glibc)
import Glibc
#endif

/// The CLI's answer to SIGINT/SIGTERM and to SIGBUS (process policy, so it lives here and not in
/// the library).
///
/// `install(grace:)` installs the async-signal-safe C handlers (they record the signal, or the
/// fault's address, and write a byte to a self-pipe) and starts one watchdog thread blocked on
/// that pipe.
///
/// - SIGINT/SIGTERM, and the other signals that end a process by default (HUP, QUIT, USR1/2, ALRM,
///   XCPU, XFSZ, VTALRM, PROF; `CStopSignals`): the watchdog calls `Interruption.requestStop(signal:)`, so solves stop at
///   their next check and `AtomicFileGroup` renames nothing; if the process is still running
///   `grace` seconds later — stuck inside one long BLAS/LAPACK call — it removes every temporary
///   file still registered in `TemporaryFiles`, prints "tessera: stopped by SIGTERM; nothing was
///   written" and ends the process with `_exit(128 + signal)` (130 for SIGINT, 143 for SIGTERM),
///   the shell convention.
/// - SIGBUS (at any time, also during the grace period): the faulting thread is parked for good
///   by the C handler and the watchdog ends the process at once (`MappedFileFault`): exit 2 with
///   "tessera: error: A.npy was truncated while it was being read; nothing was written" when the
///   address lies in a mapped input (`MappedRegions`), else exit 1 with an internal-error line;
///   the registered temporaries are removed first either way.
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
        guard pthread_create(&thread, nil, { _ in StopWatchdog.watch(); return nil }, nil) == 0 else { return }
        pthread_detach(thread)
        // Only now: a faulting thread waits for this watchdog forever.
        _ = tessera_fault_signals_install()
    }

    /// Installs the SIGBUS handler again after a library replaced it: `MPI_Init` installs Open
    /// MPI's own fault handlers (backtrace and abort), which would hide the truncated-input
    /// message. Does nothing before `install(grace:)`.
    static func reclaimFaultSignal() {
        let started = state.withLock { $0.started }
        guard started else { return }
        _ = tessera_fault_signals_install()
    }

    /// Waits for a signal byte; a fault ends the process at once; a stop requests the stop, gives
    /// the solve `grace` seconds to stop on its own (still answering a fault), then removes the
    /// registered temporaries and exits 128 + signal.
    private static func watch() {
        let (fd, grace) = state.withLock { ($0.readFD, $0.grace) }
        guard let byte = nextByte(fd, milliseconds: -1) else { return }
        if tessera_fault_pending() != 0 { MappedFileFault.end() }
        let received = tessera_stop_signal_pending()
        let signal = received != 0 ? received : Int32(byte)
        Interruption.requestStop(signal: signal)
        let deadline = MonotonicClock.nanoseconds() + UInt64(grace * 1e9)
        while true {
            let now = MonotonicClock.nanoseconds()
            guard now < deadline else { break }
            _ = nextByte(fd, milliseconds: Int32(min(Double(deadline - now) / 1e6 + 1, 60_000)))
            if tessera_fault_pending() != 0 { MappedFileFault.end() }
        }
        for path in TemporaryFiles.registered { unlink(path) }
        let name = TesseraError.signalName(signal)
        let line = Array("tessera: stopped by \(name); nothing was written\n".utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        _exit(128 + signal)
    }

    /// The next byte of the pipe within `milliseconds` (-1: no limit), or nil (timeout, or the
    /// pipe failed).
    private static func nextByte(_ fd: Int32, milliseconds: Int32) -> UInt8? {
        var waiter = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while true {
            let ready = poll(&waiter, 1, milliseconds)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { return nil }
            var byte: UInt8 = 0
            let n = read(fd, &byte, 1)
            if n == 1 { return byte }
            if n < 0 && errno == EINTR { continue }
            return nil
        }
    }
}
