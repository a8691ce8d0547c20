/// The fast Walsh–Hadamard transform x ← H·x with H the unnormalized ±1 Sylvester–Hadamard
/// matrix of order n = 2^m (H[i, j] = (−1)^{popcount(i & j)}), in place, n·log₂n additions.
public enum WalshHadamard {
    /// x ← H·x in place for an array whose length is a power of two (the same butterflies as the
    /// pointer form).
    public static func transform(_ x: inout [Double]) {
        let n = x.count
        x.withUnsafeMutableBufferPointer { b in
            guard let base = b.baseAddress else { return }
            transform(base, count: n)
        }
    }

    public static func transform(_ x: UnsafeMutablePointer<Double>, count n: Int) {
        precondition(n > 0 && n & (n - 1) == 0, "Walsh–Hadamard length \(n) is not a power of two")
        var h = 1
        while h < n {
            var i = 0
            while i < n {
                for j in i..<(i + h) {
                    let u = x[j], v = x[j + h]
                    x[j] = u + v
                    x[j + h] = u - v
                }
                i += 2 * h
            }
            h *= 2
        }
    }
}
