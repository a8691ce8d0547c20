/// The ready tasks of one domain: a binary max-heap on (priority, −index), so the highest
/// priority runs first and, among equals, the task submitted first. O(log n) push and pop.
struct ReadyQueue {
    private var heap: [(priority: Int, index: Int)] = []

    var isEmpty: Bool { heap.isEmpty }

    private static func before(_ a: (priority: Int, index: Int), _ b: (priority: Int, index: Int)) -> Bool {
        a.priority != b.priority ? a.priority > b.priority : a.index < b.index
    }

    mutating func push(_ index: Int, priority: Int) {
        heap.append((priority, index))
        var c = heap.count - 1
        while c > 0 {
            let p = (c - 1) / 2
            guard Self.before(heap[c], heap[p]) else { break }
            heap.swapAt(c, p)
            c = p
        }
    }

    mutating func pop() -> Int? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var p = 0
            while true {
                let l = 2 * p + 1, r = l + 1
                var best = p
                if l < heap.count, Self.before(heap[l], heap[best]) { best = l }
                if r < heap.count, Self.before(heap[r], heap[best]) { best = r }
                if best == p { break }
                heap.swapAt(p, best)
                p = best
            }
        }
        return top.index
    }
}
