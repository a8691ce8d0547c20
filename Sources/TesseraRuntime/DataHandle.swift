import Synchronization

/// An opaque key for one piece of data a task reads or writes (a tile, a vector block, a
/// partial sum). The runtime never looks inside the data: it orders tasks by the handles they
/// declare. Handles are unique within the process.
public struct DataHandle: Hashable, Sendable, CustomStringConvertible {
    public let id: UInt64

    private static let counter = Atomic<UInt64>(0)

    /// A fresh handle, distinct from every other handle made in this process.
    public static func make() -> DataHandle {
        DataHandle(id: counter.add(1, ordering: .relaxed).newValue)
    }

    public var description: String { "h\(id)" }
}

/// What a task body learns about where it runs.
public struct TaskContext: Sendable {
    /// Index of the worker slot running the task, 0 ..< executor.workerCount; stable for the
    /// task's duration, so it can select per-worker scratch memory.
    public let worker: Int
    /// The NUMA domain whose queue runs the task.
    public let domain: Int
    /// The task's index in its graph.
    public let task: Int
}

/// The work of one task.
public typealias TaskBody = @Sendable (TaskContext) throws -> Void
