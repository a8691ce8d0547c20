import XCTest
@testable import TesseraRuntime

final class TaskGraphTests: XCTestCase {
    /// Known access pattern → exact edges (RAW, WAR, WAW, no duplicates, none between readers).
    func testEdgesInferredForKnownAccessPattern() {
        let g = TaskGraph()
        let x = DataHandle.make(), y = DataHandle.make(), z = DataHandle.make()
        g.add(name: "t0 write x", writes: [x]) { _ in }                 // 0
        g.add(name: "t1 read x write y", reads: [x], writes: [y]) { _ in }  // 1: RAW on x ← 0
        g.add(name: "t2 read x", reads: [x]) { _ in }                  // 2: RAW on x ← 0
        g.add(name: "t3 write x", writes: [x]) { _ in }                // 3: WAW ← 0, WAR ← 1, 2
        g.add(name: "t4 read x y write z", reads: [x, y], writes: [z]) { _ in }  // 4: RAW x ← 3, y ← 1
        g.add(name: "t5 write y", writes: [y]) { _ in }                // 5: WAW y ← 1, WAR y ← 4
        g.add(name: "t6 read z twice", reads: [z, z]) { _ in }         // 6: RAW z ← 4 (once)
        let edges = g.edges.map { [$0.from, $0.to] }
        XCTAssertEqual(edges, [[0, 1], [0, 2], [0, 3], [1, 3], [2, 3], [1, 4], [3, 4], [1, 5], [4, 5], [4, 6]])
    }

    func testTreeReductionShapeIsFixed() {
        let g = TaskGraph()
        let hs = (0..<5).map { _ in DataHandle.make() }
        var pairs: [(Int, Int)] = []
        let added = g.addTreeReduction(name: "sum", handles: hs) { _, _ in }
        XCTAssertEqual(added, 4)
        // Levels: (0,1) (2,3) | (0,2) | (0,4)
        for t in 0..<g.count { pairs.append((t, g.tasks[t].predecessorCount)) }
        XCTAssertEqual(g.edges.map { [$0.from, $0.to] }, [[0, 2], [1, 2], [2, 3]])
    }

    func testPlacementFollowsWrittenHandle() {
        let g = TaskGraph()
        let a = DataHandle.make(), b = DataHandle.make()
        g.place(a, domain: 2)
        g.place(b, domain: 3)
        g.add(name: "w", reads: [a], writes: [b]) { _ in }
        g.add(name: "r", reads: [a]) { _ in }
        g.add(name: "explicit", writes: [b], domain: 1) { _ in }
        XCTAssertEqual(g.tasks.map(\.domain), [3, 2, 1])
    }
}
