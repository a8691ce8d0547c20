import Synchronization
import TesseraCore
#if canImport(Glibc)
import Glibc
#endif

/// Nanoseconds from a monotonic clock.
public enum MonotonicClock {
    public static func nanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

/// One executed task.
public struct TraceEvent: Sendable, Equatable {
    public let task: Int
    public let name: String
    public let worker: Int
    public let domain: Int
    public let start: UInt64
    public let end: UInt64
}

/// Collects per-task records during runs; renders them as Chrome trace JSON (opens in
/// Perfetto or chrome://tracing) and summarises them. Thread-safe.
public final class TraceRecorder: Sendable {
    private let events = Locked<[TraceEvent]>([])

    public init() {}

    public func record(task: Int, name: String, worker: Int, domain: Int, start: UInt64, end: UInt64) {
        let e = TraceEvent(task: task, name: name, worker: worker, domain: domain, start: start, end: end)
        events.withLock { $0.append(e) }
    }

    /// The records so far, in start order.
    public var recorded: [TraceEvent] { events.withLock { $0 }.sorted { $0.start < $1.start } }

    /// Chrome trace format: one complete ("X") event per task, pid = domain, tid = worker,
    /// microseconds from the first task's start; names escaped with `Format.escape`.
    public func chromeTraceJSON() -> String {
        let list = recorded
        let origin = list.first?.start ?? 0
        var out = "{\"traceEvents\":[\n"
        for (k, e) in list.enumerated() {
            let ts = Double(e.start - origin) / 1000, dur = Double(e.end - e.start) / 1000
            out += "{\"name\":\"\(Format.escape(e.name))\",\"ph\":\"X\",\"pid\":\(e.domain),\"tid\":\(e.worker),"
            out += "\"ts\":\(ts),\"dur\":\(dur),\"args\":{\"task\":\(e.task)}}"
            out += k + 1 < list.count ? ",\n" : "\n"
        }
        out += "],\"displayTimeUnit\":\"ms\"}\n"
        return out
    }

    /// Tasks, wall time, how busy the workers were, and the critical path: the longest chain
    /// of measured task durations along the graph's edges (a lower bound on any schedule's time).
    public func summary(graph: TaskGraph, workers: Int) -> TraceSummary {
        let list = recorded
        guard let first = list.first else { return TraceSummary(tasks: 0, wallSeconds: 0, busyFraction: 0, criticalPathSeconds: 0) }
        let wall = Double((list.map(\.end).max() ?? first.start) - first.start) / 1e9
        let busy = list.reduce(0.0) { $0 + Double($1.end - $1.start) } / 1e9
        var duration = [Double](repeating: 0, count: graph.count)
        for e in list where e.task < graph.count { duration[e.task] = Double(e.end - e.start) / 1e9 }
        var finish = [Double](repeating: 0, count: graph.count)
        for i in 0..<graph.count {   // submission order is topological
            finish[i] += duration[i]
            for s in graph.tasks[i].successors { finish[s] = max(finish[s], finish[i]) }
        }
        return TraceSummary(tasks: list.count, wallSeconds: wall,
                            busyFraction: wall > 0 ? busy / (wall * Double(max(1, workers))) : 0,
                            criticalPathSeconds: finish.max() ?? 0)
    }
}

/// What `TraceRecorder.summary` reports.
public struct TraceSummary: Sendable, CustomStringConvertible {
    public let tasks: Int
    public let wallSeconds: Double
    public let busyFraction: Double
    public let criticalPathSeconds: Double

    public var description: String {
        "\(tasks) tasks, wall \(fmt(wallSeconds * 1e3)) ms, workers busy \(fmt(busyFraction * 100))%, critical path \(fmt(criticalPathSeconds * 1e3)) ms"
    }
    private func fmt(_ v: Double) -> String { String(Double(Int((v * 10).rounded())) / 10) }
}

