import TesseraRuntime
import TesseraCore

/// Test memory: `count` UInt64 cells, one `DataHandle` each, written by tasks that declare them.
/// `@unchecked Sendable` under the runtime's guarantee: one writer per handle at a time.
final class Cells: @unchecked Sendable {
    let values: UnsafeMutablePointer<UInt64>
    let handles: [DataHandle]
    let count: Int

    init(_ count: Int) {
        self.count = count
        values = .allocate(capacity: count)
        values.initialize(repeating: 0, count: count)
        handles = (0..<count).map { _ in DataHandle.make() }
    }

    deinit { values.deallocate() }

    var snapshot: [UInt64] { Array(UnsafeBufferPointer(start: values, count: count)) }

    /// A non-commutative mix: the result depends on the order in which tasks touch a cell.
    static func mix(_ a: UInt64, _ b: UInt64, _ c: UInt64) -> UInt64 {
        var h = a &* 0x9E37_79B9_7F4A_7C15 ^ (b &+ 0x632B_E59B_D9B4_E019)
        h = (h ^ (h >> 29)) &* 0xBF58_476D_1CE4_E5B9 &+ c
        return h ^ (h >> 32)
    }
}

/// A thread-safe event log for tests.
final class Log: Sendable {
    private let items = Locked<[Int]>([])
    func append(_ i: Int) { items.withLock { $0.append(i) } }
    var all: [Int] { items.withLock { $0 } }
}
