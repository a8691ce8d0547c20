import CVectorMath

/// The numeric element types a raw matrix may hold, little-endian, as NumPy stores them.
public enum ElementKind: Sendable, Equatable {
    case float64, float32, int(bytes: Int), uint(bytes: Int), bool

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .float64: return 8
        case .float32: return 4
        case .int(let b), .uint(let b): return b
        case .bool: return 1
        }
    }

    /// NumPy's name: float64, int32, bool, …
    public var label: String {
        switch self {
        case .float64: return "float64"
        case .float32: return "float32"
        case .int(let b): return "int\(8 * b)"
        case .uint(let b): return "uint\(8 * b)"
        case .bool: return "bool"
        }
    }

    /// Element k of `raw` as float64: exact for every kind except 64-bit integers beyond 2⁵³,
    /// which round to the nearest double.
    public func value(_ raw: UnsafeRawPointer, at k: Int) -> Double {
        let at = k * size
        switch self {
        case .float64: return Double(bitPattern: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self).littleEndian)
        case .float32: return Double(Float(bitPattern: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self).littleEndian))
        case .int(1): return Double(raw.loadUnaligned(fromByteOffset: at, as: Int8.self))
        case .int(2): return Double(raw.loadUnaligned(fromByteOffset: at, as: Int16.self).littleEndian)
        case .int(4): return Double(raw.loadUnaligned(fromByteOffset: at, as: Int32.self).littleEndian)
        case .int: return Double(raw.loadUnaligned(fromByteOffset: at, as: Int64.self).littleEndian)
        case .uint(1), .bool: return Double(raw.load(fromByteOffset: at, as: UInt8.self))
        case .uint(2): return Double(raw.loadUnaligned(fromByteOffset: at, as: UInt16.self).littleEndian)
        case .uint(4): return Double(raw.loadUnaligned(fromByteOffset: at, as: UInt32.self).littleEndian)
        case .uint: return Double(raw.loadUnaligned(fromByteOffset: at, as: UInt64.self).littleEndian)
        }
    }
}

/// Copies rows of a raw n × d matrix (a mapped file, a caller's buffer) into a column-major
/// float64 block, converting the element type and checking for NaN/±Inf in the same pass: the
/// one read of the source that loading needs. float64 and float32 go through the C kernels
/// (row-major sources transposed in 16 × 16 blocks that stay in L1); integer and boolean kinds,
/// and a source not aligned to its element size, element by element. Cost: rows·d reads and writes.
public enum LayoutCopy {
    /// Rows `firstRow ..< firstRow + rows` of the matrix at `base` — element (i, j) at i·lds + j
    /// when `rowMajor` (C order), at i + j·lds otherwise, lds = `sourceLD` (default d or n) —
    /// into `destination` (leading dimension `ld` ≥ rows). Returns false when a copied value is
    /// NaN or ±Inf (the copy is complete either way). The caller guarantees the memory.
    public static func copy(from base: UnsafeRawPointer, kind: ElementKind, rowMajor: Bool, rows n: Int, cols d: Int,
                            sourceLD: Int? = nil, firstRow: Int, count rows: Int,
                            into destination: UnsafeMutablePointer<Double>, ld: Int) -> Bool {
        guard rows > 0, d > 0 else { return true }
        let lds = sourceLD ?? (rowMajor ? d : n)
        let start = rowMajor ? firstRow * lds : firstRow
        let aligned = Int(bitPattern: base) % max(1, kind.size) == 0
        switch kind {
        case .float64 where aligned:
            let src = base.assumingMemoryBound(to: Double.self) + start
            return (rowMajor ? tessera_rows_to_columns_f64(src, lds, rows, d, destination, ld)
                             : tessera_columns_to_columns_f64(src, lds, rows, d, destination, ld)) == 0
        case .float32 where aligned:
            let src = base.assumingMemoryBound(to: Float.self) + start
            return (rowMajor ? tessera_rows_to_columns_f32(src, lds, rows, d, destination, ld)
                             : tessera_columns_to_columns_f32(src, lds, rows, d, destination, ld)) == 0
        default:
            var finite = true
            for j in 0..<d {
                for i in 0..<rows {
                    let v = kind.value(base, at: rowMajor ? start + i * lds + j : start + i + j * lds)
                    finite = finite && v.isFinite
                    destination[i + j * ld] = v
                }
            }
            return finite
        }
    }

    /// A row-major rows × cols float64 block (leading dimension lds ≥ cols) into a column-major
    /// destination (leading dimension ldd ≥ rows), in 16 × 16 blocks that stay in L1.
    public static func rowsToColumns(_ source: UnsafePointer<Double>, ld lds: Int, rows: Int, cols: Int,
                                     into destination: UnsafeMutablePointer<Double>, ld ldd: Int) {
        guard rows > 0, cols > 0 else { return }
        _ = tessera_rows_to_columns_f64(source, lds, rows, cols, destination, ldd)
    }

    /// Columns 0..<cols of a float64 block rounded to float32, row by row, into a packed
    /// row-major destination (row r at destination + r·cols): the source is row-major (row r at
    /// source + r·lds) when `rowMajor`, else column-major (column c at source + c·lds). Returns
    /// false when a value read is NaN or ±Inf (the copy is complete either way): the rounding
    /// pass is also the non-finite scan. Cost rows·cols reads and writes.
    public static func roundToSingleRows(_ source: UnsafePointer<Double>, ld lds: Int, rowMajor: Bool, rows: Int, cols: Int,
                                         into destination: UnsafeMutablePointer<Float>) -> Bool {
        guard rows > 0, cols > 0 else { return true }
        let bad = rowMajor ? tessera_round_rows_to_single(source, lds, rows, cols, destination)
            : tessera_round_columns_to_single_rows(source, lds, rows, cols, destination)
        return bad == 0
    }

    /// All `count` elements of `raw` as float64, in order.
    public static func convert(_ raw: UnsafeRawBufferPointer, kind: ElementKind, count: Int) -> [Double] {
        guard count > 0, let base = raw.baseAddress else { return [] }
        return (0..<count).map { kind.value(base, at: $0) }
    }
}
