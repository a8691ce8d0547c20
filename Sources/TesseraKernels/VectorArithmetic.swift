/// Level-1 BLAS on plain arrays of doubles (the vectors the solvers iterate on): the Euclidean
/// norm (dnrm2, overflow-safe), the dot product (ddot), self + α·x (a loop) and scaling. Each costs
/// O(count) flops and, except `dot` and `norm2`, one new array; none throws. The operands of
/// `dot` and `plus` must have the same length as `self` (the shorter length is used otherwise).
extension Array where Element == Double {
    /// Euclidean norm (BLAS dnrm2, no overflow); 0 for an empty array.
    public var norm2: Double {
        withUnsafeBufferPointer { b in
            guard let base = b.baseAddress else { return 0 }
            return BLAS.nrm2(count: b.count, base)
        }
    }

    /// ⟨self, other⟩ (BLAS ddot).
    public func dot(_ other: [Double]) -> Double {
        withUnsafeBufferPointer { a in
            other.withUnsafeBufferPointer { o in
                guard let x = a.baseAddress, let y = o.baseAddress else { return 0 }
                return BLAS.dot(count: Swift.min(a.count, o.count), x, y)
            }
        }
    }

    /// self + α·x, each entry yᵢ + (α·xᵢ) with two roundings — a loop, not BLAS daxpy, whose
    /// vector body and scalar tail may round differently — so an entry's bits do not depend on
    /// its place in the array (a slice held by one process gives what the whole vector gives).
    public func plus(_ alpha: Double, _ x: [Double]) -> [Double] {
        var y = self
        let count = Swift.min(y.count, x.count)
        y.withUnsafeMutableBufferPointer { yb in
            x.withUnsafeBufferPointer { xb in
                for i in 0..<count { yb[i] = yb[i] + alpha * xb[i] }
            }
        }
        return y
    }

    /// α·self.
    public func scaled(_ alpha: Double) -> [Double] { map { $0 * alpha } }
}
