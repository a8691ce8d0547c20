import XCTest
import Tessera
@testable import TesseraTiles

/// The fixed tree that sums per-tile partials of vectors divided by rows (`TileTree`,
/// `RowPartition.combine`): simulated processes, each adding only inside its own tiles and
/// passing its boundary roots, end with the single process's bits; the boundary stays O(log T).
final class RowPartitionTests: XCTestCase {
    /// Values of every magnitude, so that a different order of additions would change the bits.
    func partials(tiles t: Int, count m: Int, seed: UInt64) -> [Double] {
        let rng = Philox4x32(seed: seed)
        return (0..<(t * m)).map { i in
            let u = rng.uniform(index: UInt64(i), stream: 0)
            return (u - 0.5) * Double(sign: .plus, exponent: Int(u * 60) - 30, significand: 1)
        }
    }

    func testSimulatedProcessesGiveTheSingleProcessBitsWithALogarithmicBoundary() throws {
        let m = 3
        for t in [1, 2, 3, 5, 8, 13, 20, 64, 100] {
            let values = partials(tiles: t, count: m, seed: UInt64(t))
            let single = TileTree(owners: [Int](repeating: 0, count: t))
            var whole = single.slots(own: values, tiles: 0..<t, count: m)
            single.addInside(&whole, process: 0)
            let expected = try XCTUnwrap(single.finish(&whole, gathered: single.boundaryValues(whole, process: 0), processes: 1, count: m))
            // The tree's additions made one by one in order give the same.
            var sequential = (0..<t).map { Array(values[($0 * m)..<(($0 + 1) * m)]) }
            for (i, j) in TaskGraph.treeReductionPairs(count: t) { for k in 0..<m { sequential[i][k] = sequential[i][k] + sequential[j][k] } }
            XCTAssertEqual(expected, sequential[0])
            for p in 1...7 {
                let owners = (0..<t).map { KernelRing(tileCount: t, rank: 0, size: p).owner(ofTile: $0) }
                let tree = TileTree(owners: owners)
                var slotsOf: [[[Double]]] = [], gathered: [Double] = []
                for r in 0..<p {
                    let mine = KernelRing(tileCount: t, rank: r, size: p).tiles(of: r)
                    var slots = tree.slots(own: Array(values[(mine.lowerBound * m)..<(mine.upperBound * m)]), tiles: mine, count: m)
                    tree.addInside(&slots, process: r)
                    gathered += tree.boundaryValues(slots, process: r)
                    XCTAssertLessThanOrEqual(tree.boundaryCount(process: r), 2 * Int(log2(Double(t)) + 1),
                                             "T \(t) P \(p): rank \(r) sends more than O(log T) roots")
                    slotsOf.append(slots)
                }
                for r in 0..<p {
                    var slots = slotsOf[r]
                    XCTAssertEqual(tree.finish(&slots, gathered: gathered, processes: p, count: m), expected, "T \(t) P \(p) rank \(r)")
                }
                var short = slotsOf[0]
                if !tree.boundary.isEmpty { XCTAssertNil(tree.finish(&short, gathered: Array(gathered.dropLast()), processes: p, count: m)) }
            }
        }
    }

    func testSingleProcessDotMatchesTheSumAndLanesIgnoreAlignment() throws {
        let engine = try Engine(threads: 2)
        let layout = try TileLayout(rows: 1_003, cols: 2, tileRows: 97)
        let partition = RowPartition(layout: layout, engine: engine)
        XCTAssertTrue(partition.isWhole)
        XCTAssertEqual(partition.rows, 0..<1_003)
        let a = partials(tiles: 1_003, count: 1, seed: 5), b = partials(tiles: 1_003, count: 1, seed: 6)
        let reference = zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
        let dot = try partition.dot(a, b)
        XCTAssertEqual(dot, reference, accuracy: 1e-13 * zip(a, b).reduce(0) { $0 + abs($1.0 * $1.1) })
        // A tile's sum depends on its entries only, not where its slice starts in memory.
        let shifted = [0.0] + a
        let direct = a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in RowPartition.laneSum(pa.baseAddress! + 97, pb.baseAddress! + 97, count: 97) } }
        let moved = shifted.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in RowPartition.laneSum(pa.baseAddress! + 98, pb.baseAddress! + 97, count: 97) } }
        XCTAssertEqual(direct, moved)
        XCTAssertThrowsError(try partition.dot(a, [1, 2]))
    }
}
