// Async-signal-safe plumbing for SIGINT/SIGTERM, used by the `tessera` CLI only.
//
// The handler only does what a signal handler may do: it stores the signal number in a C11
// atomic (first signal wins) and writes one byte to a self-pipe, whose read end the CLI's
// watchdog thread blocks on. Everything else (telling solves to stop through TesseraCore's
// `Interruption`, removing temporary files, exiting) happens on that ordinary thread.
#ifndef TESSERA_STOP_SIGNALS_H
#define TESSERA_STOP_SIGNALS_H

/// Installs the handler for SIGINT and SIGTERM; returns the self-pipe's read end, or -1.
/// Idempotent: later calls return the same descriptor.
int tessera_stop_signals_install(void);

/// The first stop signal received, 0 when none.
int tessera_stop_signal_pending(void);

#endif
