// Async-signal-safe plumbing for SIGINT/SIGTERM (used by TesseraCore's `Interruption`).
//
// The handler only does what a signal handler may do: it stores the signal number in a C11
// atomic (first signal wins) and writes one byte to a self-pipe, whose read end a watcher
// thread blocks on. Everything else (stopping solves, removing temporary files, exiting)
// happens on ordinary threads.
#ifndef TESSERA_STOP_SIGNALS_H
#define TESSERA_STOP_SIGNALS_H

/// Installs the handler for SIGINT and SIGTERM; returns the self-pipe's read end, or -1.
/// Idempotent: later calls return the same descriptor.
int tessera_stop_signals_install(void);

/// The first stop signal received (or requested), 0 when none.
int tessera_stop_signal_pending(void);

/// Records `signal` as if it had been delivered (first one wins) and wakes the watcher.
void tessera_stop_signal_request(int signal);

/// Forgets a pending stop (for tests of the library API).
void tessera_stop_signal_clear(void);

#endif
