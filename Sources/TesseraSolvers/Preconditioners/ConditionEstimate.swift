import TesseraCore
import TesseraKernels
import TesseraRuntime
import TesseraTiles

/// κ₂(R) = ‖R‖₂·‖R⁻¹‖₂ for a triangular factor, with R's dominant right singular vector: the
/// two Lanczos runs (`UpperTriangular.dominantSingularPair` on RᵀR and `.inverseNorm2` on
/// (RᵀR)⁻¹, each 2·k·d² flops of triangular products, memory-bound at large d) as two tasks of
/// one graph, so that they run side by side. Both are Ritz values, so the estimate is from below.
/// Throws what the engine throws (`interrupted`).
struct ConditionEstimate: Sendable {
    let norm: Double
    let vector: [Double]
    let inverseNorm: Double

    var condition: Double { norm * inverseNorm }

    static func of(_ r: UpperTriangular, engine: Engine) throws(TesseraError) -> ConditionEstimate {
        let dominant = Locked<(value: Double, vector: [Double])>((0, []))
        let inverse = Locked(0.0)
        let graph = TaskGraph()
        graph.add(name: "norm(R)") { _ in
            let pair = r.dominantSingularPair
            dominant.withLock { $0 = pair }
        }
        graph.add(name: "norm(R⁻¹)") { _ in
            let value = r.inverseNorm2
            inverse.withLock { $0 = value }
        }
        try engine.run(graph)
        let pair = dominant.withLock { $0 }
        return ConditionEstimate(norm: pair.value, vector: pair.vector, inverseNorm: inverse.withLock { $0 })
    }
}
