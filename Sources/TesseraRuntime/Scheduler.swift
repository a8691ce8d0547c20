import Dispatch
import Synchronization
import TesseraCore
import TesseraPlatform

/// Runs a `TaskGraph` on one concurrent `DispatchQueue` per NUMA domain.
///
/// A task whose predecessors have all finished becomes *ready* and enters its domain's
/// priority queue. Each domain keeps at most `width` drain blocks in flight on its Dispatch
/// queue; a drain block binds its thread to the domain (only where placement matters), pops the
/// highest-priority ready task, runs it, releases its successors (atomic counters), and repeats
/// until its domain has nothing ready, then restores the thread's mask and returns the thread to
/// Dispatch. Tasks never block, so the pool can never deadlock however few threads it has.
///
/// Errors: the first task that throws stores its error; tasks that have not started are skipped
/// (their successors still released, so the graph drains); `run` rethrows that error once.
/// Cost: about one lock, one heap operation and one atomic per edge and task (≈ 1 µs per task).
public final class Scheduler: GraphExecutor {
    public let profile: MachineProfile
    /// Drain blocks allowed at once on each domain (0 for a domain given no threads).
    public let widths: [Int]
    private let queues: [DispatchQueue]

    public var workerCount: Int { widths.reduce(0, +) }

    /// A scheduler over `profile`'s domains. With `threads` nil, each domain gets one worker per
    /// core; otherwise `threads` workers are spread over the domains in proportion to their cores.
    public init(profile: MachineProfile, threads: Int? = nil) throws(TesseraError) {
        try Self.validate(threads: threads, profile: profile)
        self.profile = profile
        self.widths = Self.spread(threads: threads, over: profile.domains.map(\.coreCount))
        self.queues = profile.domains.map {
            DispatchQueue(label: "tessera.domain\($0.index)", attributes: .concurrent)
        }
    }

    /// The most workers a run may ask for: 16 per hardware thread of the machine, at least 64.
    /// Oversubscribing further only adds overhead, and an absurd count (2⁶³ − 1) would exhaust
    /// the process's threads or overflow the arithmetic that spreads them.
    public static func maximumThreads(profile: MachineProfile) -> Int {
        max(64, 16 * profile.domains.reduce(0) { $0 + $1.processingUnitCount })
    }

    /// Throws `invalidArgument` for a thread count below 1 or above `maximumThreads`.
    public static func validate(threads: Int?, profile: MachineProfile) throws(TesseraError) {
        guard let threads else { return }
        if threads < 1 { throw .invalidArgument("the thread count must be at least 1 (got \(threads))") }
        let limit = maximumThreads(profile: profile)
        if threads > limit {
            let units = profile.domains.reduce(0) { $0 + $1.processingUnitCount }
            throw .invalidArgument("the thread count must be at most \(limit), 16 per hardware thread of this machine (\(units)) or 64 (got \(threads))")
        }
    }

    /// Splits `threads` over domains in proportion to their core counts (largest remainder),
    /// every domain's share capped at nothing: a user may oversubscribe on purpose.
    static func spread(threads: Int?, over cores: [Int]) -> [Int] {
        guard let threads else { return cores }
        let total = max(1, cores.reduce(0, +))
        var shares = cores.map { threads * $0 / total }
        var left = threads - shares.reduce(0, +)
        var order = Array(cores.indices)
        order.sort { (threads * cores[$0]) % total > (threads * cores[$1]) % total }
        var k = 0
        while left > 0 { shares[order[k % order.count]] += 1; left -= 1; k += 1 }
        return shares
    }

    public func run(_ graph: TaskGraph, trace: TraceRecorder? = nil) throws {
        guard let started = start(graph, trace: trace) else { return }
        let (done, run) = started
        done.wait()
        if let error = run.firstError.withLock({ $0 }) { throw error }
    }

    /// Runs the graph while calling `poll` on this (waiting) thread every half millisecond until
    /// the tasks end: how a ring shift's MPI messages progress while a round's pairs compute
    /// (Open MPI moves a large message only inside MPI calls on this thread). Polling costs the
    /// waiting thread's wake-ups (2,000 a second), which take a little from a worker when the
    /// workers fill every core.
    public func run(_ graph: TaskGraph, trace: TraceRecorder?, polling poll: () -> Void) throws {
        guard let started = start(graph, trace: trace) else { return poll() }
        let (done, run) = started
        while done.wait(timeout: .now() + .microseconds(500)) == .timedOut { poll() }
        if let error = run.firstError.withLock({ $0 }) { throw error }
    }

    /// Enqueues the graph's sources; nil for an empty graph.
    private func start(_ graph: TaskGraph, trace: TraceRecorder?) -> (DispatchSemaphore, GraphRun)? {
        guard graph.count > 0 else { return nil }
        let done = DispatchSemaphore(value: 0)
        let run = GraphRun(graph: graph, widths: widths) { done.signal() }
        for i in 0..<graph.count where graph.tasks[i].predecessorCount == 0 {
            enqueue(i, run: run, trace: trace)
        }
        return (done, run)
    }

    /// Makes task `i` ready and starts a drain block on its domain if the domain has room.
    private func enqueue(_ i: Int, run: GraphRun, trace: TraceRecorder?) {
        let d = run.domainOfTask[i]
        let lane = run.lanes[d]
        let slot: Int? = lane.state.withLock { state in
            state.ready.push(i, priority: run.priority[i])
            guard let slot = state.freeSlots.popLast() else { return nil }
            return slot
        }
        guard let slot else { return }
        queues[d].async { [self] in drain(domain: d, slot: slot, run: run, trace: trace) }
    }

    private func drain(domain d: Int, slot: Int, run: GraphRun, trace: TraceRecorder?) {
        let binding = ThreadBinding(domain: d, profile: profile)
        let lane = run.lanes[d]
        let worker = run.slotOffset[d] + slot
        while let i = lane.state.withLock({ state -> Int? in
            if let next = state.ready.pop() { return next }
            state.freeSlots.append(slot)
            return nil
        }) {
            execute(i, worker: worker, domain: d, run: run, trace: trace)
        }
        _ = consume binding
    }

    private func execute(_ i: Int, worker: Int, domain: Int, run: GraphRun, trace: TraceRecorder?) {
        if !run.failed.load(ordering: .acquiring) {
            let start = MonotonicClock.nanoseconds()
            do {
                try Interruption.check()
                try run.bodies[i](TaskContext(worker: worker, domain: domain, task: i))
            } catch {
                run.firstError.withLock { if $0 == nil { $0 = error } }
                run.failed.store(true, ordering: .releasing)
            }
            trace?.record(task: i, name: run.names[i], worker: worker, domain: domain,
                          start: start, end: MonotonicClock.nanoseconds())
        }
        for s in run.successors[i] where run.pending[s].decrement() == 0 {
            enqueue(s, run: run, trace: trace)
        }
        if run.remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
            run.onFinish()
        }
    }
}

/// The shared state of one `Scheduler.run`: a snapshot of the graph plus atomic counters.
/// Immutable after `init` except through its atomics and mutexes, hence `Sendable`.
final class GraphRun: Sendable {
    struct LaneState {
        var ready = ReadyQueue()
        var freeSlots: [Int]
    }
    final class Lane: Sendable {
        let state: Locked<LaneState>
        init(width: Int) { state = Locked(LaneState(freeSlots: Array((0..<width).reversed()))) }
    }

    let bodies: [TaskBody]
    let names: [String]
    let priority: [Int]
    let successors: [[Int]]
    let pending: [AtomicCounter]
    let domainOfTask: [Int]
    let lanes: [Lane]
    let slotOffset: [Int]
    let remaining: Atomic<Int>
    let failed = Atomic<Bool>(false)
    let firstError = Locked<(any Error)?>(nil)
    /// Called once, by the worker that finishes the last task.
    let onFinish: @Sendable () -> Void

    init(graph: TaskGraph, widths: [Int], onFinish: @escaping @Sendable () -> Void) {
        self.onFinish = onFinish
        let tasks = graph.tasks
        bodies = tasks.map(\.body)
        names = tasks.map(\.name)
        priority = tasks.map(\.priority)
        successors = tasks.map(\.successors)
        pending = tasks.map { AtomicCounter($0.predecessorCount) }
        // A domain given no threads hands its tasks to the active domains, round robin.
        let active = widths.indices.filter { widths[$0] > 0 }
        domainOfTask = tasks.map { t in
            let wanted = (t.domain ?? 0) % max(1, widths.count)
            return widths[wanted] > 0 ? wanted : active[wanted % active.count]
        }
        lanes = widths.map { Lane(width: $0) }
        var offsets: [Int] = [], sum = 0
        for w in widths { offsets.append(sum); sum += w }
        slotOffset = offsets
        remaining = Atomic(tasks.count)
    }
}

/// A heap-allocated atomic counter, so that an array of them can be shared.
final class AtomicCounter: Sendable {
    private let value: Atomic<Int>
    init(_ v: Int) { value = Atomic(v) }
    /// Subtracts one and returns the new value (acquire-release, so a successor made ready
    /// sees everything its predecessors wrote).
    func decrement() -> Int { value.subtract(1, ordering: .acquiringAndReleasing).newValue }
}
