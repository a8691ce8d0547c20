import Tessera
#if canImport(Glibc)
import Glibc
#endif

/// Hooks for the CLI's own tests, set through the environment and unset in normal use; each is
/// named `TESSERA_TEST_…` and does nothing when its variable is absent.
///
/// - `TESSERA_TEST_PAUSE_AFTER_MAP_MS=N`: `tessera solve` writes the line
///   `tessera-test: inputs mapped` to stderr once it has mapped its inputs, then sleeps N
///   milliseconds (at most 60 s) before it reads any value, so a test can wait for that line,
///   truncate an input in between and check the SIGBUS path (`MappedFileFault`) deterministically.
enum TestHooks {
    static func pauseAfterMapping() {
        guard let text = ProcessEnvironment.value("TESSERA_TEST_PAUSE_AFTER_MAP_MS"), let ms = Int(text), ms > 0 else { return }
        let line = Array("tessera-test: inputs mapped\n".utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        let capped = min(ms, 60_000)
        var pause = timespec(tv_sec: capped / 1000, tv_nsec: (capped % 1000) * 1_000_000)
        var left = timespec()
        while nanosleep(&pause, &left) != 0 && errno == EINTR { pause = left }
    }
}
