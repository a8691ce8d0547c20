/// A directed acyclic graph of tasks over declared data accesses.
///
/// Each `add` names the handles the task reads and writes; edges to earlier tasks are inferred
/// in submission order, as StarPU, QUARK and OpenMP `depend` do:
/// read-after-write (the last writer of each read handle), write-after-read (every reader since
/// the last write of each written handle) and write-after-write (the last writer). So a driver
/// reads like the sequential algorithm, and submission order is always a valid serial order.
/// Cost: O(reads + writes + readers-to-wait-for) per `add`.
///
/// A graph is built on one thread and then handed to an executor; it is not `Sendable`.
public final class TaskGraph {
    struct Task {
        let name: String
        let reads: [DataHandle]
        let writes: [DataHandle]
        let domain: Int?
        let priority: Int
        let body: TaskBody
        var successors: [Int] = []
        var predecessorCount = 0
    }

    private(set) var tasks: [Task] = []
    private var lastWriter: [DataHandle: Int] = [:]
    private var readersSinceWrite: [DataHandle: [Int]] = [:]
    private var home: [DataHandle: Int] = [:]

    public init() {}

    /// Number of tasks.
    public var count: Int { tasks.count }

    /// Every inferred edge (predecessor, successor), in order of the successor's submission,
    /// without duplicates.
    public var edges: [(from: Int, to: Int)] {
        var list: [(from: Int, to: Int)] = []
        for (i, t) in tasks.enumerated() { for s in t.successors { list.append((i, s)) } }
        return list.sorted { ($0.to, $0.from) < ($1.to, $1.from) }
    }

    /// The name of task `i`.
    public func name(of i: Int) -> String { tasks[i].name }

    /// Records that `handle`'s data lives on `domain`: tasks writing it run on that domain.
    public func place(_ handle: DataHandle, domain: Int) { home[handle] = domain }

    /// The domain recorded for `handle`, if any.
    public func domain(of handle: DataHandle) -> Int? { home[handle] }

    /// Adds a task and infers its edges. `domain` overrides placement; otherwise the task runs on
    /// the domain of the first written handle that has one, else of the first read one, else 0.
    /// Higher `priority` runs first among ready tasks of a domain. Returns the task index.
    @discardableResult
    public func add(name: String, reads: [DataHandle] = [], writes: [DataHandle] = [],
                    domain: Int? = nil, priority: Int = 0, body: @escaping TaskBody) -> Int {
        let index = tasks.count
        var predecessors = Set<Int>()
        for h in reads { if let w = lastWriter[h] { predecessors.insert(w) } }
        for h in writes {
            if let w = lastWriter[h] { predecessors.insert(w) }
            for r in readersSinceWrite[h] ?? [] where r != index { predecessors.insert(r) }
        }
        let placed = domain ?? writes.lazy.compactMap { self.home[$0] }.first
            ?? reads.lazy.compactMap { self.home[$0] }.first
        var task = Task(name: name, reads: reads, writes: writes, domain: placed,
                        priority: priority, body: body)
        task.predecessorCount = predecessors.count
        for p in predecessors.sorted() { tasks[p].successors.append(index) }
        tasks.append(task)
        for h in reads { readersSinceWrite[h, default: []].append(index) }
        for h in writes {
            lastWriter[h] = index
            readersSinceWrite[h] = []
        }
        return index
    }

    /// Adds a fixed binary-tree reduction over `handles`: at each level, partial `i` absorbs
    /// partial `i + stride` (`combine(into: i, from: i + stride)`), so the result ends in
    /// `handles[0]` and the order of additions depends only on `handles.count`, never on the
    /// thread count or timing: the same bits on any executor. Returns the number of tasks added.
    @discardableResult
    public func addTreeReduction(name: String, handles: [DataHandle], priority: Int = 0,
                                 combine: @escaping @Sendable (_ into: Int, _ from: Int) throws -> Void) -> Int {
        let pairs = Self.treeReductionPairs(count: handles.count)
        for (into, from) in pairs {
            add(name: name, reads: [handles[from]], writes: [handles[into]], priority: priority) { _ in
                try combine(into, from)
            }
        }
        return pairs.count
    }

    /// The combines of the fixed binary tree over `count` partials, in an order that respects
    /// its dependencies: level by level (stride 1, 2, 4, …), partial i absorbs partial i + stride.
    /// Running them in this order on one thread adds the same numbers in the same order as
    /// `addTreeReduction` does on any executor (the distributed layer relies on it).
    public static func treeReductionPairs(count: Int) -> [(into: Int, from: Int)] {
        var pairs: [(into: Int, from: Int)] = []
        var stride = 1
        while stride < count {
            var i = 0
            while i + stride < count {
                pairs.append((into: i, from: i + stride))
                i += 2 * stride
            }
            stride *= 2
        }
        return pairs
    }
}

/// Something that runs a `TaskGraph` to completion, rethrowing the first error a task threw.
public protocol GraphExecutor: Sendable {
    /// Number of worker slots; `TaskContext.worker` is below it.
    var workerCount: Int { get }
    /// Runs every task, respecting the graph's edges. After the first task throws, tasks that
    /// have not started are skipped; the error is rethrown once, after all running tasks end.
    func run(_ graph: TaskGraph, trace: TraceRecorder?) throws
    /// The same, calling `poll` on the calling thread now and then while the tasks run (a
    /// distributed product drives its messages' progress this way; see `Scheduler`).
    func run(_ graph: TaskGraph, trace: TraceRecorder?, polling poll: () -> Void) throws
}

extension GraphExecutor {
    public func run(_ graph: TaskGraph) throws { try run(graph, trace: nil) }

    /// Runs the graph, then polls once (an executor whose tasks run on the calling thread).
    public func run(_ graph: TaskGraph, trace: TraceRecorder?, polling poll: () -> Void) throws {
        defer { poll() }
        try run(graph, trace: trace)
    }
}
