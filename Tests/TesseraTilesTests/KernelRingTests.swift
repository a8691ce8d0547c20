import XCTest
import Tessera
@testable import TesseraTiles

/// The ring schedule of the distributed kernel product (`KernelRing`): every tile pair is
/// computed exactly once, by a process holding both tiles in that round, every contribution for
/// a guest's rows is sent and expected in the same order, and the work is shared evenly.
final class KernelRingTests: XCTestCase {
    func testEveryPairIsComputedOnceByAProcessHoldingBothTilesAndTheSendBacksAgree() {
        for t in [1, 2, 3, 5, 9, 17] {
            for p in 1...6 {
                var computed: [Int: Int] = [:]
                for r in 0..<p {
                    let ring = KernelRing(tileCount: t, rank: r, size: p)
                    XCTAssertEqual(ring.rounds, p / 2)
                    let mine = ring.tiles(of: r)
                    for k in 0...ring.rounds {
                        let held = ring.tiles(of: ring.visitor(round: k))
                        for (i, j) in ring.pairs(round: k) {
                            XCTAssertLessThanOrEqual(i, j)
                            XCTAssertTrue((mine.contains(i) || held.contains(i)) && (mine.contains(j) || held.contains(j)),
                                          "T \(t) P \(p): rank \(r) round \(k) computes (\(i), \(j)) without holding both tiles")
                            XCTAssertTrue(k > 0 || (mine.contains(i) && mine.contains(j)), "round 0 computes only own pairs")
                            computed[i * t + j, default: 0] += 1
                        }
                    }
                    // What r hosts with each guest g is what g expects from r, in the same order.
                    for g in 0..<p where g != r {
                        let expected = (0...ring.rounds).flatMap { ring.pairs(round: $0) }
                            .filter { ring.tiles(of: g).contains($0.0) || ring.tiles(of: g).contains($0.1) }
                            .sorted { ($0.0, $0.1) < ($1.0, $1.1) }
                        let sent = ring.crossPairs(host: r, guest: g)
                        XCTAssertEqual(sent.map { $0.pair.0 }, expected.map { $0.0 })
                        XCTAssertEqual(sent.map { $0.pair.1 }, expected.map { $0.1 })
                        let guestView = KernelRing(tileCount: t, rank: g, size: p).crossPairs(host: r, guest: g)
                        XCTAssertEqual(guestView.map { $0.guestTile }, sent.map { $0.guestTile })
                        XCTAssertTrue(sent.allSatisfy { ring.tiles(of: g).contains($0.guestTile) })
                    }
                }
                XCTAssertEqual(computed.count, t * (t + 1) / 2, "T \(t) P \(p): pairs missing")
                XCTAssertTrue(computed.values.allSatisfy { $0 == 1 }, "T \(t) P \(p): a pair computed twice")
            }
        }
    }

    func testTheMessageCountsAreWhatTheSendBackListsCarry() throws {
        for (t, p) in [(5, 2), (9, 3), (17, 4), (3, 6), (40, 5)] {
            let ranges = (0..<t).map { ($0 * 100)..<($0 * 100 + 100 - $0 % 3) }   // unequal blocks
            let counts = try RingContributions(ring: KernelRing(tileCount: t, rank: 0, size: p), ranges: ranges).sent
            for h in 0..<p {
                let ring = KernelRing(tileCount: t, rank: h, size: p)
                for g in 0..<p {
                    let listed = g == h ? 0 : ring.crossPairs(host: h, guest: g).reduce(0) { $0 + ranges[$1.guestTile].count }
                    XCTAssertEqual(counts[h][g], listed, "T \(t) P \(p): host \(h) → guest \(g)")
                }
            }
        }
    }

    func testTheWorkIsSharedEvenly() {
        let t = 64
        for p in [2, 3, 4, 8] {
            let counts = (0..<p).map { r -> Int in
                let ring = KernelRing(tileCount: t, rank: r, size: p)
                return (0...ring.rounds).reduce(0) { $0 + ring.pairs(round: $1).count }
            }
            let fair = Double(t * (t + 1) / 2) / Double(p)
            for c in counts { XCTAssertEqual(Double(c), fair, accuracy: 0.1 * fair, "P \(p): pairs per rank \(counts)") }
        }
    }
}
