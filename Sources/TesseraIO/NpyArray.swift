import TesseraCore

/// A `.npy` array read for Tessera: float64 values, little-endian, in C or Fortran order.
///
/// A little-endian float64 file is memory-mapped and used in place (no copy). Float32, integer
/// and boolean arrays are converted to float64, and `conversionNote` says so. Anything else —
/// big-endian, complex, object, structured, strings — is refused with a message naming the
/// dtype and the file. The data length must match the header's shape exactly.
public final class NpyArray: Sendable {
    public let path: String
    public let header: NpyHeader
    /// Set when the values were converted from another dtype, e.g. "converted float32 to float64".
    public let conversionNote: String?
    private let storage: Storage

    enum Storage: Sendable {
        case mapped(MappedFile, offset: Int, count: Int)
        case converted([Double])
    }

    public var shape: [Int] { header.shape }
    public var fortranOrder: Bool { header.fortranOrder }

    /// Reads and validates `path` (memory-mapped; float64 is used in place).
    public init(path: String) throws(TesseraError) {
        self.path = path
        let file = try MappedFile(path: path)
        let (header, kind, count) = try Self.decode(file.bytes, name: path)
        self.header = header
        if kind == .float64, header.dataOffset % MemoryLayout<Double>.alignment == 0 {
            storage = .mapped(file, offset: header.dataOffset, count: count)
            conversionNote = nil
        } else {
            storage = .converted(kind.convert(UnsafeRawBufferPointer(rebasing: file.bytes[header.dataOffset...]), count: count))
            conversionNote = kind == .float64 ? nil : "converted \(header.descr) (\(kind.label)) in \(path) to float64"
        }
    }

    /// Parses and validates the bytes of a `.npy` file held in memory (`name` labels messages);
    /// the values are copied. The same checks as `init(path:)`: what the fuzz target exercises.
    public init(bytes: UnsafeRawBufferPointer, name: String) throws(TesseraError) {
        path = name
        let (header, kind, count) = try Self.decode(bytes, name: name)
        self.header = header
        storage = .converted(kind.convert(UnsafeRawBufferPointer(rebasing: bytes[header.dataOffset...]), count: count))
        conversionNote = kind == .float64 ? nil : "converted \(header.descr) (\(kind.label)) in \(name) to float64"
    }

    /// Header, element type and count of a whole file's bytes, after every consistency check.
    static func decode(_ bytes: UnsafeRawBufferPointer, name: String) throws(TesseraError) -> (NpyHeader, DType, Int) {
        let header = try NpyHeader.parse(bytes, name: name)
        let kind = try DType(descr: header.descr, name: name)
        let count = try header.elementCount(name: name)
        let need = try Checked.multiply(count, kind.size, "the data of \(name)")
        let have = bytes.count - header.dataOffset
        guard have >= need else {
            throw .invalidInput("\(name) is truncated: shape \(header.shapeText) of \(header.descr) needs \(need) data bytes, the file has \(have)")
        }
        guard have == need else {
            throw .invalidInput("\(name) has \(have - need) bytes beyond the shape \(header.shapeText) its header declares; the header does not match the data")
        }
        return (header, kind, count)
    }

    /// Number of elements.
    public var count: Int {
        switch storage {
        case .mapped(_, _, let n): return n
        case .converted(let values): return values.count
        }
    }

    /// Calls `body` with the values in file order (row-major unless `fortranOrder`).
    public func withValues<R>(_ body: (UnsafeBufferPointer<Double>) throws -> R) rethrows -> R {
        switch storage {
        case .mapped(let file, let offset, let n):
            let raw = file.bytes.baseAddress.map { $0 + offset }
            let typed = raw?.assumingMemoryBound(to: Double.self)
            return try body(UnsafeBufferPointer(start: typed, count: n))
        case .converted(let values):
            return try values.withUnsafeBufferPointer(body)
        }
    }

    /// The values as an array (a copy), in file order.
    public func toArray() -> [Double] { withValues { Array($0) } }

    /// The flat index of the first NaN or ±Inf, or nil when all values are finite.
    public func firstNonFiniteIndex() -> Int? {
        withValues { v in v.firstIndex { !$0.isFinite } }
    }
}

/// The element types `NpyArray` accepts.
enum DType: Equatable {
    case float64, float32, int(bytes: Int), uint(bytes: Int), bool

    var size: Int {
        switch self {
        case .float64: return 8
        case .float32: return 4
        case .int(let b), .uint(let b): return b
        case .bool: return 1
        }
    }

    var label: String {
        switch self {
        case .float64: return "float64"
        case .float32: return "float32"
        case .int(let b): return "int\(8 * b)"
        case .uint(let b): return "uint\(8 * b)"
        case .bool: return "bool"
        }
    }

    init(descr: String, name: String) throws(TesseraError) {
        let chars = Array(descr)
        guard chars.count >= 2 else { throw .invalidInput("\(name) has dtype '\(descr)', which Tessera cannot read; save a float64 array") }
        let order = chars[0], code = chars[1], size = Int(String(chars[2...])) ?? 0
        if order == ">" && size > 1 {
            throw .invalidInput("\(name) has big-endian dtype '\(descr)'; convert it with a.astype('<f8') before saving")
        }
        switch (code, size) {
        case ("f", 8): self = .float64
        case ("f", 4): self = .float32
        case ("i", 1), ("i", 2), ("i", 4), ("i", 8): self = .int(bytes: size)
        case ("u", 1), ("u", 2), ("u", 4), ("u", 8): self = .uint(bytes: size)
        case ("b", 1): self = .bool
        case ("c", _): throw .invalidInput("\(name) has complex dtype '\(descr)'; Tessera solves real problems: save the real part")
        case ("O", _): throw .invalidInput("\(name) holds Python objects (dtype '\(descr)'); save a numeric float64 array")
        case ("V", _): throw .invalidInput("\(name) holds a structured/void dtype '\(descr)'; save a plain float64 array")
        case ("U", _), ("S", _): throw .invalidInput("\(name) holds strings (dtype '\(descr)'); save a numeric float64 array")
        default: throw .invalidInput("\(name) has dtype '\(descr)', which Tessera cannot read; save a float64 array")
        }
    }

    /// Little-endian values of this type → float64.
    func convert(_ raw: UnsafeRawBufferPointer, count: Int) -> [Double] {
        var out = [Double](repeating: 0, count: count)
        for k in 0..<count {
            let at = k * size
            switch self {
            case .float64: out[k] = Double(bitPattern: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self).littleEndian)
            case .float32: out[k] = Double(Float(bitPattern: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self).littleEndian))
            case .int(1): out[k] = Double(raw.loadUnaligned(fromByteOffset: at, as: Int8.self))
            case .int(2): out[k] = Double(raw.loadUnaligned(fromByteOffset: at, as: Int16.self).littleEndian)
            case .int(4): out[k] = Double(raw.loadUnaligned(fromByteOffset: at, as: Int32.self).littleEndian)
            case .int: out[k] = Double(raw.loadUnaligned(fromByteOffset: at, as: Int64.self).littleEndian)
            case .uint(1), .bool: out[k] = Double(raw[at])
            case .uint(2): out[k] = Double(raw.loadUnaligned(fromByteOffset: at, as: UInt16.self).littleEndian)
            case .uint(4): out[k] = Double(raw.loadUnaligned(fromByteOffset: at, as: UInt32.self).littleEndian)
            case .uint: out[k] = Double(raw.loadUnaligned(fromByteOffset: at, as: UInt64.self).littleEndian)
            }
        }
        return out
    }
}
