/// Overflow-checked size and index arithmetic. Shapes come from user files, so a product such
/// as rows × cols × 8 bytes must fail with a message instead of wrapping or trapping.
public enum Checked {
    /// a × b, or `TesseraError.resourceLimit` naming `what` when it overflows `Int`.
    public static func multiply(_ a: Int, _ b: Int, _ what: @autoclosure () -> String) throws(TesseraError) -> Int {
        let (value, overflow) = a.multipliedReportingOverflow(by: b)
        if overflow || a < 0 || b < 0 {
            throw .resourceLimit("\(what()) is too large: \(a) × \(b) overflows a 64-bit size")
        }
        return value
    }

    /// Product of all factors, checked.
    public static func product(_ factors: [Int], _ what: @autoclosure () -> String) throws(TesseraError) -> Int {
        var p = 1
        for f in factors { p = try multiply(p, f, what()) }
        return p
    }

    /// Narrows to `Int32` (the BLAS/LAPACK integer) or throws.
    public static func int32(_ v: Int, _ what: @autoclosure () -> String) throws(TesseraError) -> Int32 {
        guard let n = Int32(exactly: v) else {
            throw .invalidArgument("\(what()) = \(v) does not fit a 32-bit BLAS integer; use smaller tiles")
        }
        return n
    }

    /// Ceiling division for non-negative a and positive b.
    @inlinable public static func ceilDiv(_ a: Int, _ b: Int) -> Int { (a + b - 1) / b }
}

/// Byte counts of planned allocations, saturating at `UInt64.max` instead of trapping (a plan
/// that large is refused by the memory budget, never allocated). O(1) per factor.
public enum ByteCount {
    /// 8·∏ factors: the bytes of that many doubles (negative factors count as 0).
    public static func doubles(_ factors: Int...) -> UInt64 {
        var total: UInt64 = 8
        for f in factors {
            let (p, overflow) = total.multipliedReportingOverflow(by: UInt64(max(0, f)))
            total = overflow ? .max : p
        }
        return total
    }

    /// Σ parts.
    public static func sum(_ parts: UInt64...) -> UInt64 {
        parts.reduce(0) { let (s, o) = $0.addingReportingOverflow($1); return o ? .max : s }
    }
}
