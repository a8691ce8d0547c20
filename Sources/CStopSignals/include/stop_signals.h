// Async-signal-safe plumbing for SIGINT/SIGTERM and SIGBUS, used by the `tessera` CLI only.
//
// The stop handler only does what a signal handler may do: it stores the signal number in a C11
// atomic (first signal wins) and writes one byte to a self-pipe, whose read end the CLI's
// watchdog thread blocks on. Everything else (telling solves to stop through TesseraCore's
// `Interruption`, removing temporary files, exiting) happens on that ordinary thread.
//
// The fault handler (SIGBUS: a read of a memory-mapped input whose file was truncated by another
// process) must not return — the faulting access would run again and fault again — so it records
// the faulting address (first fault wins), writes a byte to the same self-pipe and then blocks
// its thread for good (`pause` in a loop); the watchdog names the file, removes the temporaries
// and ends the process.
#ifndef TESSERA_STOP_SIGNALS_H
#define TESSERA_STOP_SIGNALS_H

#include <stdint.h>

/// Installs the handler for SIGINT, SIGTERM and the other signals that end a process by default
/// (HUP, QUIT, USR1/2, ALRM, XCPU, XFSZ, VTALRM, PROF; not PIPE); returns the self-pipe's read
/// end, or -1.
/// Idempotent: later calls return the same descriptor.
int tessera_stop_signals_install(void);

/// The first stop signal received, 0 when none.
int tessera_stop_signal_pending(void);

/// Installs the SIGBUS handler (after `tessera_stop_signals_install`, once a thread reads the
/// pipe: a faulting thread waits for that reader forever). Returns 0, or -1 without a pipe.
int tessera_fault_signals_install(void);

/// 1 once a SIGBUS was caught, else 0.
int tessera_fault_pending(void);

/// The address of the first caught SIGBUS (si_addr; 0 for a SIGBUS sent with kill).
uintptr_t tessera_fault_address(void);

#endif
