import TesseraCore

/// PolySketch (Ahle et al., "Oblivious sketching of high-degree polynomial kernels", SODA 2020):
/// a sketch Q ∈ ℝ^{m×d^ℓ} of x^{⊗ℓ}, applied without forming it, as a complete binary tree of
/// degree-2 `TensorSRHT` nodes. The tree has L = ⌈log₂ℓ⌉ levels and 2^L leaves; leaf j is x for
/// j < ℓ and the constant 1 (a width-1 input, degree 0) otherwise; each node sketches the tensor
/// product of its two children to m outputs with its own independent signs and indices. Because
/// each node is unbiased and the nodes are independent, E⟨Qx, Qy⟩ = ⟨x, y⟩^ℓ; the variance grows
/// polynomially in ℓ (one TensorSRHT error per level, L = ⌈log₂ℓ⌉ levels), where a product of ℓ
/// independent sketched factors grows like 3^ℓ. Node (level, j) draws from Philox streams
/// `PhiloxStream.polySketch(degree:level:node:)` + 0 … 3 keyed by the seed, so a row's sketch is
/// a pure function of (seed, that row): bits do not depend on tiling or threads.
/// Cost per row Σ_nodes (2·p·log₂p + m) with p ≤ 2^⌈log₂ max(d, m)⌉; memory n·m per level.
/// `init` throws `.invalidArgument` for ℓ < 2, d < 1 or m < 1.
public struct PolySketch: Sendable {
    public let degree: Int
    public let inputWidth: Int
    public let outputs: Int
    /// nodes[level][j], level 0 nearest the leaves.
    let nodes: [[TensorSRHT]]

    public init(degree l: Int, inputWidth d: Int, outputs m: Int, seed: UInt64) throws(TesseraError) {
        guard l >= 2, d >= 1, m >= 1 else {
            throw .invalidArgument("PolySketch needs degree ≥ 2, input width ≥ 1 and outputs ≥ 1 (got \(l), \(d), \(m))")
        }
        var leaves = 1, levels = 0
        while leaves < l { leaves *= 2; levels += 1 }
        var built: [[TensorSRHT]] = []
        var widths = (0..<leaves).map { $0 < l ? d : 1 }
        for level in 0..<levels {
            var row: [TensorSRHT] = []
            for j in 0..<(widths.count / 2) {
                row.append(try TensorSRHT(leftWidth: widths[2 * j], rightWidth: widths[2 * j + 1], outputs: m, seed: seed,
                                          stream: PhiloxStream.polySketch(degree: l, level: level, node: j)))
            }
            built.append(row)
            widths = [Int](repeating: m, count: row.count)
        }
        degree = l
        inputWidth = d
        outputs = m
        nodes = built
    }

    /// Q applied to each row of A (n × d, column-major): n × m, column-major. Throws
    /// `.invalidArgument` for an array of the wrong size.
    public func apply(_ a: [Double], rows n: Int) throws(TesseraError) -> [Double] {
        guard n >= 0, a.count == n * inputWidth else {
            throw .invalidArgument("PolySketch: \(a.count) values for \(n) rows of width \(inputWidth)")
        }
        let ones = [Double](repeating: 1, count: n)
        var current: [[Double]] = (0..<(2 * (nodes.first?.count ?? 0))).map { $0 < degree ? a : ones }
        for row in nodes {
            var next: [[Double]] = []
            for (j, node) in row.enumerated() {
                next.append(try node.apply(left: current[2 * j], right: current[2 * j + 1], rows: n))
            }
            current = next
        }
        return current.first ?? []
    }
}
