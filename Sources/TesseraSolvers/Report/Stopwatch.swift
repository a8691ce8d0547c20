import TesseraRuntime

/// Wall-clock laps on the monotonic clock: `lap()` returns the seconds since the previous lap
/// (or since creation). Costs one clock read; never throws.
struct Stopwatch {
    private var last = MonotonicClock.nanoseconds()
    mutating func lap() -> Double {
        let now = MonotonicClock.nanoseconds()
        defer { last = now }
        return Double(now - last) / 1e9
    }
}
