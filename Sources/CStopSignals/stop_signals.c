#include "stop_signals.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

static atomic_int pending_signal = 0;
static atomic_int fault_pending = 0;
static atomic_uintptr_t fault_address = 0;
static atomic_int wake_write_fd = -1;
static int wake_read_fd = -1;
static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;

static void wake(int signal) {
    int fd = atomic_load(&wake_write_fd);
    if (fd >= 0) {
        unsigned char byte = (unsigned char)signal;
        ssize_t ignored = write(fd, &byte, 1);
        (void)ignored;
    }
}

static void on_stop_signal(int signal) {
    int saved = errno;
    int expected = 0;
    atomic_compare_exchange_strong(&pending_signal, &expected, signal);
    wake(signal);
    errno = saved;
}

int tessera_stop_signals_install(void) {
    pthread_mutex_lock(&install_lock);
    if (wake_read_fd < 0) {
        int fds[2];
        if (pipe(fds) == 0) {
            fcntl(fds[0], F_SETFD, FD_CLOEXEC);
            fcntl(fds[1], F_SETFD, FD_CLOEXEC);
            fcntl(fds[1], F_SETFL, O_NONBLOCK);
            wake_read_fd = fds[0];
            atomic_store(&wake_write_fd, fds[1]);
            struct sigaction action;
            memset(&action, 0, sizeof action);
            action.sa_handler = on_stop_signal;
            sigemptyset(&action.sa_mask);
            action.sa_flags = SA_RESTART;
            // Every catchable signal whose default action ends the process and that another
            // process (or the terminal) sends: each stops the run the same way, so none leaves a
            // temporary behind. SIGPIPE keeps its default (it only comes from writing stdout,
            // after the outputs are committed).
            const int stops[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM,
                                 SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF};
            for (size_t k = 0; k < sizeof stops / sizeof stops[0]; k++) sigaction(stops[k], &action, NULL);
        }
    }
    int fd = wake_read_fd;
    pthread_mutex_unlock(&install_lock);
    return fd;
}

int tessera_stop_signal_pending(void) { return atomic_load(&pending_signal); }

static void on_fault_signal(int signal, siginfo_t *info, void *context) {
    (void)context;
    if (atomic_load(&wake_write_fd) < 0) {
        // No watchdog to hand the fault to: restore the default action; the access faults again
        // when the handler returns, and the process ends as it would have without a handler.
        struct sigaction fallback;
        memset(&fallback, 0, sizeof fallback);
        fallback.sa_handler = SIG_DFL;
        sigemptyset(&fallback.sa_mask);
        sigaction(SIGBUS, &fallback, NULL);
        return;
    }
    int expected = 0;
    if (atomic_compare_exchange_strong(&fault_pending, &expected, 1)) {
        atomic_store(&fault_address, (uintptr_t)(info != NULL ? info->si_addr : NULL));
    }
    wake(signal);
    // Never return: the faulting load would run again. The watchdog ends the process.
    for (;;) pause();
}

int tessera_fault_signals_install(void) {
    if (atomic_load(&wake_write_fd) < 0) return -1;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_fault_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_SIGINFO;
    return sigaction(SIGBUS, &action, NULL) == 0 ? 0 : -1;
}

int tessera_fault_pending(void) { return atomic_load(&fault_pending); }

uintptr_t tessera_fault_address(void) { return atomic_load(&fault_address); }
