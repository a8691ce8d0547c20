import Tessera

struct Shape: Sendable {
    let rows: Int
    let cols: Int
}

enum BenchmarkShapes {
    static let full = [Shape(rows: 4_000_000, cols: 64), Shape(rows: 1_000_000, cols: 256),
                       Shape(rows: 250_000, cols: 1_000), Shape(rows: 125_000, cols: 2_000)]

    static var scale: Double { Double(ProcessEnvironment.value("TESSERA_BENCH_SCALE") ?? "") ?? 1 }

    static func selected() -> [Shape] {
        if let list = ProcessEnvironment.value("TESSERA_BENCH_SHAPES") {
            return list.split(separator: ",").compactMap { item in
                let parts = item.split(separator: "x").compactMap { Int($0) }
                return parts.count == 2 ? Shape(rows: parts[0], cols: parts[1]) : nil
            }
        }
        return full.map { Shape(rows: max($0.cols * 4, Int(Double($0.rows) * scale)), cols: $0.cols) }
    }

    static func phaseShape() -> Shape { Shape(rows: max(1024, Int(200_000 * scale)), cols: 256) }
}
