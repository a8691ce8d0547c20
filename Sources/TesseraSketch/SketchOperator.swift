import TesseraCore

/// A sketch S ∈ ℝ^{s×n} sampled from a `SketchDistribution`. Column j of S (the weights given to
/// row j of A) is a pure function of (seed, j), so any block of S can be generated alone, and SA
/// computed tile by tile has the same bits for any tiling and thread count (see `apply`).
///
/// Entries, with Philox P keyed by the seed:
/// - gaussian: S[k, j] = N(index j, stream `PhiloxStream.gaussianSketchRow(k)`) / √s.
/// - countsketch: one entry ±1 at row h(j) = P(j)[0] mod s, sign from P(j)[1].
/// - sparse-sign: k distinct rows drawn from P(j, stream r) by rejection, each ±1/√k.
/// - srht (block SRHT, Balabanov et al. 2022): rows are cut in blocks of B = 2^m ≥ s rows; block
///   b contributes D̃_b·R·H_B·D_b / √s, with D_b random signs on its rows, H_B the ±1 Walsh–
///   Hadamard matrix, R a choice of s distinct rows of B shared by all blocks, D̃_b random signs
///   on the s outputs. E[SᵀS] = I because the D̃_b of different blocks are independent.
public struct SketchOperator: Sendable {
    public let distribution: SketchDistribution
    public let inputRows: Int
    /// SRHT block size B (a power of two ≥ s); also the row block of the Gaussian kernel.
    public let blockRows: Int
    /// SRHT: the s rows of H_B kept, in increasing order.
    public let sampledRows: [Int]

    var s: Int { distribution.rows }
    var rng: Philox4x32 { Philox4x32(seed: distribution.seed) }

    init(distribution: SketchDistribution, inputRows: Int) {
        self.distribution = distribution
        self.inputRows = inputRows
        switch distribution.kind {
        case .srht:
            var b = 4096
            while b < distribution.rows { b *= 2 }
            blockRows = b
            sampledRows = Self.distinct(count: distribution.rows, from: b, rng: Philox4x32(seed: distribution.seed), stream: PhiloxStream.sampledRowsBase)
        case .gaussian:
            blockRows = 1024
            sampledRows = []
        case .countsketch, .sparseSign:
            blockRows = 4096
            sampledRows = []
        }
    }

    /// `count` distinct integers from 0..<bound (count ≤ bound), by Philox-driven rejection.
    static func distinct(count: Int, from bound: Int, rng: Philox4x32, stream: UInt64, index: UInt64 = 0) -> [Int] {
        var chosen = Set<Int>(), order: [Int] = []
        var draw: UInt64 = 0
        while order.count < count {
            let w = rng.block(index: index, stream: stream &+ draw)
            for lane in 0..<4 where order.count < count {
                let v = Int((UInt64(w[lane]) * UInt64(bound)) >> 32)
                if chosen.insert(v).inserted { order.append(v) }
            }
            draw += 1
        }
        return order.sorted()
    }

    /// Sign of Walsh–Hadamard entry H[i, o] = (−1)^{popcount(i & o)}.
    @inlinable static func hadamardSign(_ i: Int, _ o: Int) -> Double { (i & o).nonzeroBitCount & 1 == 0 ? 1 : -1 }

    /// Column j of S (s entries) written into `out`.
    public func column(_ j: Int, into out: UnsafeMutablePointer<Double>) {
        out.initialize(repeating: 0, count: s)
        let g = rng, scale = 1 / Double(s).squareRoot()
        switch distribution.kind {
        case .gaussian:
            for k in 0..<s { out[k] = g.normal(index: UInt64(j), stream: PhiloxStream.gaussianSketchRow(k)) * scale }
        case .countsketch:
            let (row, sign) = countSketchEntry(j)
            out[row] = sign
        case .sparseSign:
            let k = distribution.nonzerosPerColumn, value = 1 / Double(k).squareRoot()
            withUnsafeTemporaryAllocation(of: Int.self, capacity: k) { rows in
                withUnsafeTemporaryAllocation(of: Double.self, capacity: k) { signs in
                    sparseSignEntries(j, rows: rows.baseAddress!, signs: signs.baseAddress!)
                    for i in 0..<k { out[rows[i]] = signs[i] * value }
                }
            }
        case .srht:
            let b = j / blockRows, o = j % blockRows
            let dj = g.sign(index: UInt64(j), stream: PhiloxStream.sketchSigns)
            for (k, r) in sampledRows.enumerated() {
                out[k] = scale * srhtOutputSign(block: b, k) * Self.hadamardSign(r, o) * dj
            }
        }
    }

    /// S restricted to columns `columns` (global rows of A), s × count, column-major.
    public func dense(columns: Range<Int>) -> [Double] {
        var out = [Double](repeating: 0, count: s * columns.count)
        out.withUnsafeMutableBufferPointer { buf in
            for (c, j) in columns.enumerated() { column(j, into: buf.baseAddress! + c * s) }
        }
        return out
    }

    func countSketchEntry(_ j: Int) -> (row: Int, sign: Double) {
        let w = rng.block(index: UInt64(j), stream: PhiloxStream.countSketchBuckets)
        return (Int((UInt64(w[0]) * UInt64(s)) >> 32), w[1] & 1 == 0 ? 1 : -1)
    }

    /// The k nonzeros of column j: distinct rows from Philox words (rejecting repeats), signs
    /// from the bits of further Philox blocks. Writes `rows[0..<k]`, `signs[0..<k]` (±1).
    func sparseSignEntries(_ j: Int, rows: UnsafeMutablePointer<Int>, signs: UnsafeMutablePointer<Double>) {
        let k = distribution.nonzerosPerColumn, g = rng, sRows = UInt64(s)
        var count = 0, draw: UInt64 = 0
        while count < k {
            let w = g.block(index: UInt64(j), stream: PhiloxStream.sparseSignRows(draw: draw))
            for lane in 0..<4 where count < k {
                let v = Int((UInt64(w[lane]) &* sRows) >> 32)
                var seen = false
                for i in 0..<count where rows[i] == v { seen = true; break }
                if !seen { rows[count] = v; count += 1 }
            }
            draw += 1
        }
        var i = 0
        while i < k {
            let w = g.block(index: UInt64(j), stream: PhiloxStream.sparseSignSigns(group: i / 128))
            for bit in 0..<min(128, k - i) {
                let word = w[bit / 32]
                signs[i + bit] = (word >> UInt32(bit % 32)) & 1 == 0 ? 1 : -1
            }
            i += 128
        }
    }

    func srhtOutputSign(block b: Int, _ k: Int) -> Double {
        rng.sign(index: UInt64(b), stream: PhiloxStream.srhtOutputSign(row: k))
    }
}
