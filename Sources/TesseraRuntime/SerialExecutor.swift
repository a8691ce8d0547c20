import TesseraCore
/// Runs a graph on the calling thread in submission order (always a valid topological order):
/// the reference against which the parallel scheduler is tested.
public struct SerialExecutor: GraphExecutor {
    public init() {}
    public var workerCount: Int { 1 }

    public func run(_ graph: TaskGraph, trace: TraceRecorder?) throws {
        for (i, task) in graph.tasks.enumerated() {
            let start = MonotonicClock.nanoseconds()
            try Interruption.check()
            try task.body(TaskContext(worker: 0, domain: 0, task: i))
            trace?.record(task: i, name: task.name, worker: 0, domain: 0,
                          start: start, end: MonotonicClock.nanoseconds())
        }
    }
}
