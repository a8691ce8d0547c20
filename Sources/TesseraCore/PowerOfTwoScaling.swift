/// Exact rescaling by powers of two, the tool that keeps magnitudes far from 1 (‖A‖ = 1e±300,
/// b near the float64 limits) inside float64's range: x·2^k changes only the exponent, so it is
/// exact whenever the result is a normal number, and a problem solved at unit scale gives the
/// same bits as the scaled one would in exact-exponent arithmetic. Cost: one multiply (or a
/// few, for |k| beyond one double's exponent range) per entry; nothing throws.
public enum PowerOfTwo {
    /// x·2^k without forming 2^k when it is not representable (|k| up to any Int): ±∞ on
    /// overflow, a rounded subnormal or 0 on underflow, exactly like scalbn.
    @inlinable public static func scale(_ x: Double, by k: Int) -> Double {
        Double(sign: .plus, exponent: k, significand: x)
    }

    /// Every entry of `values` times 2^k.
    public static func scale(_ values: [Double], by k: Int) -> [Double] {
        k == 0 ? values : values.map { scale($0, by: k) }
    }

    /// The k with 2^k·m ∈ [1, 2) for the magnitude m > 0 (so −m.exponent); 0 for m = 0 or a
    /// non-finite m (nothing to rescale).
    public static func normalizingExponent(of m: Double) -> Int {
        guard m > 0, m.isFinite else { return 0 }
        return -Int(m.exponent)
    }

    /// The largest |v| in `values` (0 when empty).
    public static func largestMagnitude(_ values: [Double]) -> Double {
        values.reduce(0) { Swift.max($0, abs($1)) }
    }
}
