import TesseraCore
import TesseraKernels

/// TensorSRHT (Ahle et al., SODA 2020), the degree-2 sketch of u ⊗ v without forming it: for
/// u ∈ ℝ^{w₁}, v ∈ ℝ^{w₂} zero-padded to p = 2^⌈log₂ max(w₁, w₂)⌉,
/// z_k(u, v) = m^{−1/2}·(H·D₁u)_{s_k}·(H·D₂v)_{t_k}, k < m,
/// with D₁, D₂ independent random signs, H the ±1 Walsh–Hadamard matrix and (s_k, t_k) uniform on
/// 0..<p × 0..<p (a row sample of (HD₁u) ⊗ (HD₂v): up to p² distinct features, not p).
/// Unbiased: E[(HD₁u)_s(HD₁u′)_s] = ⟨u, u′⟩ for every s, so E⟨z(u, v), z(u′, v′)⟩ = ⟨u, u′⟩⟨v, v′⟩.
/// Every sign and index is Philox keyed by (seed, coordinate or output index, `stream` … `stream + 3`), so the sketch of a row depends on that row alone: bits do not
/// depend on tiling or threads. Cost per row 2·p·log₂p + m flops; memory O(p + m).
/// `init` throws `.invalidArgument` for a width or output count below 1.
public struct TensorSRHT: Sendable {
    public let leftWidth: Int
    public let rightWidth: Int
    public let outputs: Int
    /// The padded transform length p.
    public let width: Int
    let leftSigns: [Double]
    let rightSigns: [Double]
    let indices: [Int]
    let rightIndices: [Int]

    public init(leftWidth: Int, rightWidth: Int, outputs m: Int, seed: UInt64, stream: UInt64) throws(TesseraError) {
        guard leftWidth >= 1, rightWidth >= 1, m >= 1 else {
            throw .invalidArgument("TensorSRHT needs input widths and an output count of at least 1 (got \(leftWidth), \(rightWidth), \(m))")
        }
        var p = 1
        while p < max(leftWidth, rightWidth) { p *= 2 }
        let rng = Philox4x32(seed: seed)
        self.leftWidth = leftWidth
        self.rightWidth = rightWidth
        outputs = m
        width = p
        leftSigns = (0..<leftWidth).map { rng.sign(index: UInt64($0), stream: stream) }
        rightSigns = (0..<rightWidth).map { rng.sign(index: UInt64($0), stream: stream &+ 1) }
        indices = (0..<m).map { min(p - 1, Int(rng.uniform(index: UInt64($0), stream: stream &+ 2) * Double(p))) }
        rightIndices = (0..<m).map { min(p - 1, Int(rng.uniform(index: UInt64($0), stream: stream &+ 3) * Double(p))) }
    }

    /// The sketch of each row pair: `left` is n × w₁ and `right` n × w₂ (column-major); the result
    /// n × m (column-major). Throws `.invalidArgument` for arrays of the wrong size.
    public func apply(left: [Double], right: [Double], rows n: Int) throws(TesseraError) -> [Double] {
        guard n >= 0, left.count == n * leftWidth, right.count == n * rightWidth else {
            throw .invalidArgument("TensorSRHT: inputs of \(left.count) and \(right.count) values for \(n) rows of widths \(leftWidth), \(rightWidth)")
        }
        var out = [Double](repeating: 0, count: n * outputs)
        var u = [Double](repeating: 0, count: width), v = [Double](repeating: 0, count: width)
        let scale = 1 / Double(outputs).squareRoot()
        for i in 0..<n {
            for j in 0..<width { u[j] = j < leftWidth ? left[i + j * n] * leftSigns[j] : 0 }
            for j in 0..<width { v[j] = j < rightWidth ? right[i + j * n] * rightSigns[j] : 0 }
            WalshHadamard.transform(&u)
            WalshHadamard.transform(&v)
            for k in 0..<outputs { out[i + k * n] = scale * u[indices[k]] * v[rightIndices[k]] }
        }
        return out
    }
}
