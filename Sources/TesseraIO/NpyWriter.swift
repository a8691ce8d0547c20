import TesseraCore

/// Writes float64 arrays as `.npy` (little-endian `<f8`), all-or-nothing through `AtomicFile`.
public enum NpyWriter {
    /// Writes `values` with `shape` (row-major unless `fortranOrder`) to `path`.
    public static func write(_ values: [Double], shape: [Int], fortranOrder: Bool = false, to path: String) throws(TesseraError) {
        try AtomicFile.write(encode(values, shape: shape, fortranOrder: fortranOrder), to: path)
    }

    /// The file's bytes (header, data), for `AtomicFileGroup.stage`.
    /// Throws `invalidInput` ("WHAT is not representable in float64: entry K is ±inf/NaN; ADVICE;
    /// nothing was written") when `values` holds a non-finite number: no command writes a
    /// non-finite result and calls it done.
    public static func requireFinite(_ values: [Double], _ what: String, advice: String) throws(TesseraError) {
        guard let k = values.firstIndex(where: { !$0.isFinite }) else { return }
        throw .invalidInput("\(what) is not representable in float64 (entry \(k) is \(values[k])); \(advice); nothing was written")
    }

    public static func encode(_ values: [Double], shape: [Int], fortranOrder: Bool = false) throws(TesseraError) -> [[UInt8]] {
        let expected = try Checked.product(shape, "shape \(shape)")
        guard expected == values.count else {
            throw .internalFailure("npy write: \(values.count) values do not fill shape \(shape)")
        }
        let header = NpyHeader.encode(shape: shape, fortranOrder: fortranOrder)
        var data = [UInt8](repeating: 0, count: values.count * 8)
        data.withUnsafeMutableBytes { raw in
            for (k, v) in values.enumerated() { raw.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: 8 * k, as: UInt64.self) }
        }
        return [header, data]
    }
}
