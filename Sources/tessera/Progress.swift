import Dispatch
import Tessera
#if canImport(Glibc)
import Glibc
#endif

/// The CLI's progress line on stderr, fed by the library's one progress interface
/// (`SolveMonitor`: phase events and each iteration's residual estimate):
/// `tessera: iterate 2.1 s · iteration 37 · residual 4.2e-07 · ≈ 1.5 s left · 5.3 s`.
/// Drawn only when stderr is a terminal and not `--quiet`, redrawn in place (`\r`, erase to end
/// of line) when a phase begins and at most 4 times a second otherwise, and erased by `stop()`.
///
/// Time left, once the residual has fallen over ≥ 3 iterations: the iterations still needed at
/// the residual's average decay rate per iteration (from the first estimate to the last) to reach
/// the tolerance, times the seconds per iteration so far. Costs one mutex per event; the drawing
/// is on its own timer queue. Thread-safety: every field lives in a `Locked` state.
final class Progress: @unchecked Sendable {
    struct State {
        var phase: SolvePhase?
        var phaseStart: UInt64 = 0
        var iteration = 0
        var residual = Double.nan
        var firstIteration = 0
        var firstResidual = Double.nan
        var firstAt: UInt64 = 0
        var lastAt: UInt64 = 0
        var shown = false
        var stopped = false
    }

    private let enabled: Bool
    private let tolerance: Double
    private let start = MonotonicClock.nanoseconds()
    private let state = Locked(State())
    private var timer: (any DispatchSourceTimer)?

    /// `tolerance`: the target the time-left estimate aims the residual estimate at.
    init(enabled: Bool, tolerance: Double) {
        self.enabled = enabled && isatty(2) != 0
        self.tolerance = tolerance
        guard self.enabled else { return }
        let t = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "tessera.progress"))
        t.schedule(deadline: .now() + 0.25, repeating: 0.25)
        t.setEventHandler { [weak self] in self?.draw() }
        t.resume()
        timer = t
    }

    /// The monitor that feeds this line (a plain observer when the line is off: it never stops a solve).
    var monitor: SolveMonitor {
        guard enabled else { return SolveMonitor() }
        return SolveMonitor(handler: { [self] iteration, residual in
            state.withLock { s in
                let now = MonotonicClock.nanoseconds()
                if s.firstResidual.isNaN || iteration < s.iteration {        // the first, or a new stage
                    s.firstIteration = iteration; s.firstResidual = residual; s.firstAt = now
                }
                s.iteration = iteration; s.residual = residual; s.lastAt = now
            }
            return true
        }, onPhase: { [self] phase in enter(phase) })
    }

    /// A phase begins: remembered and drawn at once.
    func enter(_ phase: SolvePhase) {
        guard enabled else { return }
        state.withLock { s in
            s.phase = phase; s.phaseStart = MonotonicClock.nanoseconds()
            if phase != .iterate { s.iteration = 0; s.residual = .nan; s.firstResidual = .nan }
        }
        draw()
    }

    /// Erases the line (if drawn) and draws no more.
    func stop() {
        guard enabled else { return }
        timer?.cancel()
        state.withLock { s in
            guard !s.stopped else { return }
            s.stopped = true
            if s.shown {
                var err = StandardError()
                print("\r\u{1B}[K", terminator: "", to: &err)
            }
        }
    }

    private func draw() {
        state.withLock { s in
            guard !s.stopped, let phase = s.phase else { return }
            let now = MonotonicClock.nanoseconds()
            var parts = ["tessera: \(phase.name) \(Format.fixed(Double(now - s.phaseStart) / 1e9, 1)) s"]
            if phase == .iterate && s.iteration > 0 {
                parts.append("iteration \(s.iteration)")
                parts.append("residual \(Format.sci(s.residual))")
                if let left = Self.secondsLeft(s, tolerance: tolerance) { parts.append("≈ \(Format.fixed(left, 1)) s left") }
            }
            parts.append("total \(Format.fixed(Double(now - start) / 1e9, 1)) s")
            var err = StandardError()
            print("\r\u{1B}[K" + parts.joined(separator: " · "), terminator: "", to: &err)
            s.shown = true
        }
    }

    /// Iterations to the tolerance at the average decay rate so far, times seconds per iteration;
    /// nil until the residual has fallen over at least 3 iterations.
    static func secondsLeft(_ s: State, tolerance: Double) -> Double? {
        let steps = s.iteration - s.firstIteration
        guard steps >= 3, s.residual > 0, s.firstResidual > s.residual, s.lastAt > s.firstAt else { return nil }
        let decay = log(s.residual / s.firstResidual) / Double(steps)          // < 0
        let needed = max(0, log(tolerance / s.residual) / decay)
        let perIteration = Double(s.lastAt - s.firstAt) / 1e9 / Double(steps)
        let left = needed * perIteration
        return left.isFinite ? left : nil
    }
}
