import Dispatch
import Tessera
#if canImport(Glibc)
import Glibc
#endif

/// A progress line on stderr ("tessera: working… 3.5 s") for runs longer than a second, redrawn
/// every half second; only when stderr is a terminal and not `--quiet`. Cleared on `stop()`.
/// Used from the main thread only (start and stop); the timer's handler touches only `shown`.
final class Progress {
    private let timer: (any DispatchSourceTimer)?
    private let shown = Locked(false)

    init(enabled: Bool) {
        guard enabled, isatty(2) != 0 else { timer = nil; return }
        let start = MonotonicClock.nanoseconds()
        let t = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "tessera.progress"))
        t.schedule(deadline: .now() + 1, repeating: 0.5)
        let shown = self.shown
        t.setEventHandler {
            let seconds = Double(MonotonicClock.nanoseconds() - start) / 1e9
            var err = StandardError()
            print("\rtessera: working… \(Format.fixed(seconds, 1)) s", terminator: "", to: &err)
            shown.withLock { $0 = true }
        }
        t.resume()
        timer = t
    }

    func stop() {
        guard let timer, !timer.isCancelled else { return }
        timer.cancel()
        if shown.withLock({ $0 }) {
            var err = StandardError()
            print("\r\u{1B}[K", terminator: "", to: &err)
        }
    }
}
