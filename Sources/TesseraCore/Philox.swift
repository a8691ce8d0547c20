/// Philox4x32-10 (Salmon, Moraes, Dror, Shaw, SC'11): a counter-based generator.
///
/// A 128-bit counter and a 64-bit key give four 32-bit words through ten rounds of a
/// multiply-xor bijection; there is no state, so any element of a random stream is computed
/// alone. Tessera keys it by the seed and puts (global index, stream) in the counter, which is
/// what makes a sketch tile generated on any worker, at any tile size, carry the same bits.
/// Cost: about 20 integer multiplies per 4 words.
public struct Philox4x32: Sendable, Hashable {
    public let key: (UInt32, UInt32)

    public init(seed: UInt64) {
        key = (UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32))
    }

    public static func == (l: Philox4x32, r: Philox4x32) -> Bool { l.key == r.key }
    public func hash(into h: inout Hasher) { h.combine(key.0); h.combine(key.1) }

    /// The ten-round Philox4x32 bijection of `counter` under this key.
    @inlinable
    public func block(_ counter: SIMD4<UInt32>) -> SIMD4<UInt32> {
        var c = counter
        var k0 = key.0, k1 = key.1
        for round in 0..<10 {
            if round > 0 { k0 &+= 0x9E37_79B9; k1 &+= 0xBB67_AE85 }
            let p0 = UInt64(0xD251_1F53) &* UInt64(c[0])
            let p1 = UInt64(0xCD9E_8D57) &* UInt64(c[2])
            c = SIMD4(UInt32(truncatingIfNeeded: p1 >> 32) ^ c[1] ^ k0,
                      UInt32(truncatingIfNeeded: p1),
                      UInt32(truncatingIfNeeded: p0 >> 32) ^ c[3] ^ k1,
                      UInt32(truncatingIfNeeded: p0))
        }
        return c
    }

    /// The block for element `index` of `stream`: counter = (index lo, index hi, stream lo, stream hi).
    @inlinable
    public func block(index: UInt64, stream: UInt64) -> SIMD4<UInt32> {
        block(SIMD4(UInt32(truncatingIfNeeded: index), UInt32(truncatingIfNeeded: index >> 32),
                    UInt32(truncatingIfNeeded: stream), UInt32(truncatingIfNeeded: stream >> 32)))
    }

    /// Two independent uniforms in (0, 1) with 53 random bits each.
    @inlinable
    public func uniformPair(index: UInt64, stream: UInt64) -> (Double, Double) {
        let w = block(index: index, stream: stream)
        return (Self.toUnit(w[0], w[1]), Self.toUnit(w[2], w[3]))
    }

    /// A uniform in (0, 1) for element `index` of `stream`.
    @inlinable
    public func uniform(index: UInt64, stream: UInt64) -> Double {
        uniformPair(index: index, stream: stream).0
    }

    /// A standard normal for element `index` of `stream` (Box–Muller on one block).
    @inlinable
    public func normal(index: UInt64, stream: UInt64) -> Double {
        let (u1, u2) = uniformPair(index: index, stream: stream)
        return (-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2)
    }

    /// A random sign ±1 for element `index` of `stream`.
    @inlinable
    public func sign(index: UInt64, stream: UInt64) -> Double {
        block(index: index, stream: stream)[0] & 1 == 0 ? 1 : -1
    }

    @inlinable
    static func toUnit(_ hi: UInt32, _ lo: UInt32) -> Double {
        let bits = (UInt64(hi) << 21) ^ UInt64(lo >> 11)   // 53 bits
        return (Double(bits & ((1 << 53) - 1)) + 0.5) * 0x1p-53
    }
}
