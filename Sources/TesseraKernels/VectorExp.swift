import CVectorMath
/// Entrywise exp over arrays: an AVX2+FMA kernel where the CPU has it, else a portable loop.
///
/// exp(x) = 2^k · e^r with k = round(x/ln 2) and r = x − k·ln2 computed with a two-part ln 2
/// (Cody–Waite), |r| ≤ ½ln 2; e^r by its degree-13 Taylor polynomial (truncation < 10⁻¹⁷
/// relative) in Horner form; 2^k applied as two exact power-of-two factors so that gradual
/// underflow is right. Max error ≤ 2 ulp against libm over the non-overflowing range (tested).
/// exp(x) = +∞ for x > 709.78 and 0 for x < −745.13; NaN stays NaN. Cost ≈ 20 flops per element.
public enum VectorExp {
    public static let overflowThreshold = 709.782712893384
    static let underflowThreshold = -745.1332191019412
    static let inverseLn2 = 1.4426950408889634
    static let ln2Hi = 0.693147180369123816490    // few significant bits: k·ln2Hi is exact
    static let ln2Lo = 1.90821492927058770002e-10

    /// y[i] = exp(x[i]) for i in 0..<count (x and y may be the same memory).
    public static func apply(_ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, count: Int) {
        guard count > 0 else { return }
        if useAVX2 { tessera_exp_avx2(x, y, count); return }
        for i in 0..<count { y[i] = exp(x[i]) }
    }

    /// In place: x[i] = exp(x[i]).
    public static func applyInPlace(_ x: UnsafeMutablePointer<Double>, count: Int) {
        apply(UnsafePointer(x), x, count: count)
    }

    /// Whether the arrays go through the AVX2+FMA kernel (`CVectorMath`, 4 lanes, the same
    /// reduction and polynomial; groups with inputs outside [−708, 709] use libm); else the
    /// portable scalar loop below.
    public static let useAVX2 = OpenBLASRuntime.cpuHasAVX2FMA

    /// exp of one value (the scalar kernel the loops inline).
    @inline(__always)
    public static func exp(_ x: Double) -> Double {
        if !(x <= overflowThreshold) { return x.isNaN ? x : .infinity }
        if x < underflowThreshold { return 0 }
        let k = (x * inverseLn2).rounded(.toNearestOrEven)
        let r = (x - k * ln2Hi) - k * ln2Lo
        var p = 1.0 / 6227020800.0                    // 1/13!
        p = p * r + 1.0 / 479001600.0
        p = p * r + 1.0 / 39916800.0
        p = p * r + 1.0 / 3628800.0
        p = p * r + 1.0 / 362880.0
        p = p * r + 1.0 / 40320.0
        p = p * r + 1.0 / 5040.0
        p = p * r + 1.0 / 720.0
        p = p * r + 1.0 / 120.0
        p = p * r + 1.0 / 24.0
        p = p * r + 1.0 / 6.0
        p = p * r + 0.5
        p = p * r + 1.0
        p = p * r + 1.0
        let ki = Int(k)
        let half = ki / 2
        return p * powerOfTwo(half) * powerOfTwo(ki - half)
    }

    /// 2^e for −1022 ≤ e ≤ 1023, built from its bits.
    @inline(__always)
    static func powerOfTwo(_ e: Int) -> Double {
        Double(bitPattern: UInt64(e + 1023) << 52)
    }
}
