import XCTest
import Foundation
import Synchronization
@testable import TesseraRuntime
import TesseraPlatform
import TesseraCore

final class SchedulerTests: XCTestCase {
    struct Injected: Error, Equatable { let task: Int }

    /// Builds a random DAG of `taskCount` tasks over `cellCount` cells; each task reads up to two
    /// cells and writes one with a non-commutative mix, so any ordering bug changes the result.
    func randomGraph(taskCount: Int, cellCount: Int, seed: UInt64, cells: Cells) -> TaskGraph {
        let g = TaskGraph()
        let rng = Philox4x32(seed: seed)
        for t in 0..<taskCount {
            let w = rng.block(index: UInt64(t), stream: 0)
            let write = Int(w[0]) % cellCount, r1 = Int(w[1]) % cellCount, r2 = Int(w[2]) % cellCount
            let reads = w[3] % 3 == 0 ? [cells.handles[r1]] : [cells.handles[r1], cells.handles[r2]]
            let priority = Int(w[3] % 5)
            g.add(name: "t\(t)", reads: reads, writes: [cells.handles[write]], priority: priority) { _ in
                let v = cells.values
                v[write] = Cells.mix(v[write], v[r1] &+ (reads.count == 2 ? v[r2] : 0), UInt64(t))
            }
        }
        return g
    }

    func testRandomDAGOfThousandTasksMatchesSerialExecutor() throws {
        let profile = try MachineProfile.current()
        for seed: UInt64 in [1, 2, 3] {
            let serialCells = Cells(40), parallelCells = Cells(40), syntheticCells = Cells(40)
            try SerialExecutor().run(randomGraph(taskCount: 1000, cellCount: 40, seed: seed, cells: serialCells))
            try Scheduler(profile: profile, threads: 4).run(randomGraph(taskCount: 1000, cellCount: 40, seed: seed, cells: parallelCells))
            let synthetic = try Scheduler(profile: MachineProfile.synthetic("pack:2 numa:2 core:4 pu:1"))
            let g = randomGraph(taskCount: 1000, cellCount: 40, seed: seed, cells: syntheticCells)
            for (i, h) in syntheticCells.handles.enumerated() { g.place(h, domain: i % 4) }
            try synthetic.run(g)
            XCTAssertEqual(parallelCells.snapshot, serialCells.snapshot, "seed \(seed)")
            XCTAssertEqual(syntheticCells.snapshot, serialCells.snapshot, "seed \(seed)")
        }
    }

    func testFirstErrorCancelsLaterTasksAndIsRethrownOnce() throws {
        let scheduler = try Scheduler(profile: MachineProfile.current(), threads: 2)
        let ran = Log()
        let g = TaskGraph()
        let h = DataHandle.make()
        for t in 0..<100 {
            g.add(name: "chain\(t)", writes: [h]) { _ in
                ran.append(t)
                if t == 10 { throw Injected(task: t) }
            }
        }
        XCTAssertThrowsError(try scheduler.run(g)) { error in
            XCTAssertEqual(error as? Injected, Injected(task: 10))
        }
        XCTAssertEqual(ran.all, Array(0...10))
        // The scheduler is not left stuck: the next graph runs completely.
        let after = Log(), g2 = TaskGraph()
        for t in 0..<50 { g2.add(name: "ok\(t)") { _ in after.append(t) } }
        try scheduler.run(g2)
        XCTAssertEqual(after.all.sorted(), Array(0..<50))
    }

    func testManyFailingTasksRethrowExactlyOneOfThem() throws {
        let scheduler = try Scheduler(profile: MachineProfile.current())
        let g = TaskGraph()
        for t in 0..<200 { g.add(name: "fail\(t)") { _ in throw Injected(task: t) } }
        XCTAssertThrowsError(try scheduler.run(g)) { error in
            XCTAssertNotNil(error as? Injected)
        }
    }

    /// On a synthetic 2-package × 2-NUMA machine, every task runs on the queue of the domain that
    /// owns the handle it writes.
    func testTasksRunOnTheQueueOfTheirTilesDomain() throws {
        let profile = try MachineProfile.synthetic("pack:2 numa:2 core:4 pu:1")
        let scheduler = try Scheduler(profile: profile)
        XCTAssertEqual(scheduler.widths, [4, 4, 4, 4])
        let tiles = (0..<32).map { _ in DataHandle.make() }
        let seen = Locked<[Int: (domain: Int, worker: Int)]>([:])
        let g = TaskGraph()
        for (i, h) in tiles.enumerated() {
            g.place(h, domain: i * 4 / tiles.count)
            g.add(name: "tile\(i)", writes: [h]) { context in
                seen.withLock { $0[i] = (context.domain, context.worker) }
            }
        }
        try scheduler.run(g)
        let result = seen.withLock { $0 }
        XCTAssertEqual(result.count, 32)
        for (i, place) in result {
            XCTAssertEqual(place.domain, i * 4 / tiles.count, "tile \(i)")
            // Worker slots of domain d are d*4 ..< d*4+4.
            XCTAssertTrue((place.domain * 4..<place.domain * 4 + 4).contains(place.worker))
        }
    }

    func testHigherPriorityRunsFirstOnOneWorker() throws {
        let scheduler = try Scheduler(profile: MachineProfile.current(), threads: 1)
        let order = Log(), g = TaskGraph()
        let gate = DataHandle.make()
        g.add(name: "gate", writes: [gate]) { _ in order.append(-1) }
        for t in 0..<6 { g.add(name: "p\(t)", reads: [gate], priority: t % 3) { _ in order.append(t) } }
        try scheduler.run(g)
        XCTAssertEqual(order.all, [-1, 2, 5, 1, 4, 0, 3])
    }

    /// Proof of parallelism: two independent tasks that each wait (up to 60 s) for the other to
    /// have started can only both finish if two workers run them at the same time. With one
    /// worker, or a scheduler that ran ready tasks one by one, the first would time out.
    func testTwoWorkersRunTwoTasksAtTheSameTime() throws {
        for profile in [try MachineProfile.current(), try MachineProfile.synthetic("pack:1 numa:2 core:2 pu:1")] {
            let scheduler = try Scheduler(profile: profile, threads: 2)
            let started = Atomic<Int>(0), sawTheOther = Atomic<Int>(0)
            let g = TaskGraph()
            for t in 0..<2 {
                let h = DataHandle.make()
                g.place(h, domain: t % profile.domains.count)
                g.add(name: "meet\(t)", writes: [h]) { _ in
                    started.add(1, ordering: .sequentiallyConsistent)
                    let deadline = ContinuousClock.now + .seconds(60)
                    while started.load(ordering: .sequentiallyConsistent) < 2 && ContinuousClock.now < deadline {
                        Thread.sleep(forTimeInterval: 0.001)
                    }
                    if started.load(ordering: .sequentiallyConsistent) == 2 { sawTheOther.add(1, ordering: .sequentiallyConsistent) }
                }
            }
            try scheduler.run(g)
            XCTAssertEqual(sawTheOther.load(ordering: .sequentiallyConsistent), 2, "the two tasks never ran at the same time")
        }
    }

    func testThreadSpreadAndInvalidThreadCount() throws {
        XCTAssertEqual(Scheduler.spread(threads: 6, over: [4, 4, 4, 4]).reduce(0, +), 6)
        XCTAssertEqual(Scheduler.spread(threads: 1, over: [4, 4]), [1, 0])
        XCTAssertEqual(Scheduler.spread(threads: nil, over: [3, 5]), [3, 5])
        XCTAssertThrowsError(try Scheduler(profile: MachineProfile.current(), threads: 0)) {
            XCTAssertTrue(($0 as? TesseraError)?.message.contains("the thread count must be at least 1 (got 0)") ?? false, "\($0)")
        }
        // A domain with no workers hands its tasks to an active one; the graph still completes.
        let s = try Scheduler(profile: MachineProfile.synthetic("pack:2 numa:2 core:4 pu:1"), threads: 1)
        let g = TaskGraph(), log = Log()
        for d in 0..<4 { let h = DataHandle.make(); g.place(h, domain: d); g.add(name: "d\(d)", writes: [h]) { _ in log.append(d) } }
        try s.run(g)
        XCTAssertEqual(log.all.sorted(), [0, 1, 2, 3])
    }

    /// What a graph's last task wrote is visible to the caller when `run` returns, also when the
    /// workers finish before the caller starts waiting (tiny graphs, a busy machine). Under
    /// ThreadSanitizer this fails if the completion hand-off is not a happens-before edge.
    func testWritesOfTinyGraphsArePublishedToTheCaller() throws {
        let scheduler = try Scheduler(profile: MachineProfile.current(), threads: 2)
        let cells = Cells(2)
        for round in 0..<5_000 {
            let g = TaskGraph()
            g.add(name: "write", writes: [cells.handles[0]]) { _ in cells.values[0] = UInt64(round) }
            if round % 2 == 1 { g.add(name: "write2", writes: [cells.handles[1]]) { _ in cells.values[1] = UInt64(round) } }
            try scheduler.run(g)
            XCTAssertEqual(cells.values[0], UInt64(round))
            if round % 2 == 1 { XCTAssertEqual(cells.values[1], UInt64(round)) }
        }
    }

    func testEmptyGraphAndManyIndependentTasks() throws {
        let s = try Scheduler(profile: MachineProfile.current())
        try s.run(TaskGraph())
        let counter = Atomic<Int>(0)
        let g = TaskGraph()
        for _ in 0..<20_000 { g.add(name: "inc") { _ in counter.add(1, ordering: .relaxed) } }
        try s.run(g)
        XCTAssertEqual(counter.load(ordering: .relaxed), 20_000)
    }

    func testChromeTraceAndSummary() throws {
        let s = try Scheduler(profile: MachineProfile.current(), threads: 2)
        let trace = TraceRecorder()
        let g = TaskGraph(), h = DataHandle.make()
        for t in 0..<10 { g.add(name: "step \"\(t)\"", writes: [h]) { _ in usleep(200) } }
        try s.run(g, trace: trace)
        let json = trace.chromeTraceJSON()
        let parsed = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let events = parsed?["traceEvents"] as? [[String: Any]]
        XCTAssertEqual(events?.count, 10)
        XCTAssertEqual(events?.first?["ph"] as? String, "X")
        let summary = trace.summary(graph: g, workers: 2)
        XCTAssertEqual(summary.tasks, 10)
        // A chain: the critical path is the sum of all durations, at least 10 × 200 µs.
        XCTAssertGreaterThanOrEqual(summary.criticalPathSeconds, 0.002)
        XCTAssertLessThanOrEqual(summary.criticalPathSeconds, summary.wallSeconds + 1e-6)
    }
}

/// A stop requested while a graph runs: tasks not yet started are skipped, the run ends with
/// `interrupted`, and no worker stays busy (the next graph, after `clear`, runs completely).
final class SchedulerStopTests: XCTestCase {
    func testStopMidGraphEndsTheRunAndLeavesTheSchedulerUsable() throws {
        let scheduler = try Scheduler(profile: MachineProfile.current(), threads: 2)
        defer { Interruption.clear() }
        let ran = Log(), g = TaskGraph(), h = DataHandle.make()
        for t in 0..<100 {
            g.add(name: "chain\(t)", writes: [h]) { _ in
                ran.append(t)
                if t == 20 { Interruption.requestStop(signal: 2) }
            }
        }
        XCTAssertThrowsError(try scheduler.run(g)) { error in
            XCTAssertEqual(error as? TesseraError, .interrupted(signal: 2))
        }
        XCTAssertEqual(ran.all, Array(0...20))
        Interruption.clear()
        let after = Log(), g2 = TaskGraph()
        for t in 0..<50 { g2.add(name: "ok\(t)") { _ in after.append(t) } }
        try scheduler.run(g2)
        XCTAssertEqual(after.all.sorted(), Array(0..<50))
    }
}
