/// Level-1 BLAS on plain arrays of doubles (the vectors the solvers iterate on): the Euclidean
/// norm (dnrm2, overflow-safe), the dot product (ddot), self + α·x (daxpy) and scaling. Each costs
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

    /// self + α·x (BLAS daxpy).
    public func plus(_ alpha: Double, _ x: [Double]) -> [Double] {
        var y = self
        y.withUnsafeMutableBufferPointer { yb in
            x.withUnsafeBufferPointer { xb in
                guard let out = yb.baseAddress, let input = xb.baseAddress else { return }
                BLAS.axpy(count: Swift.min(yb.count, xb.count), alpha: alpha, x: input, y: out)
            }
        }
        return y
    }

    /// α·self.
    public func scaled(_ alpha: Double) -> [Double] { map { $0 * alpha } }
}
