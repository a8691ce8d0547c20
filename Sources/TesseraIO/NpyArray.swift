import TesseraCore
import TesseraKernels
import TesseraTiles

/// A `.npy` array read for Tessera: float64 values, little-endian, in C or Fortran order.
///
/// The file is memory-mapped and its values are read in place: a little-endian float64 array is
/// never copied by `withValues`, and `withRawMatrix` hands any numeric kind to the tile layer,
/// which converts float32, integer and boolean values to float64 tile by tile, in parallel
/// (`conversionNote` says a conversion happens). Anything else —
/// big-endian, complex, object, structured, strings — is refused with a message naming the
/// dtype and the file. The data length must match the header's shape exactly.
public final class NpyArray: Sendable {
    public let path: String
    public let header: NpyHeader
    /// Set when the values were converted from another dtype, e.g. "converted float32 to float64".
    public let conversionNote: String?
    private let storage: Storage

    enum Storage: Sendable {
        case mapped(MappedFile, offset: Int, count: Int, kind: ElementKind)
        case converted([Double])
    }

    public var shape: [Int] { header.shape }
    public var fortranOrder: Bool { header.fortranOrder }

    /// Reads and validates `path` (memory-mapped; values are read in place, never up front).
    public init(path: String) throws(TesseraError) {
        self.path = path
        let file = try MappedFile(path: path)
        let (header, kind, count) = try Self.decode(file.bytes, name: path)
        self.header = header
        storage = .mapped(file, offset: header.dataOffset, count: count, kind: kind)
        conversionNote = kind == .float64 ? nil : "converted \(header.descr) (\(kind.label)) in \(path) to float64"
    }

    /// Parses and validates the bytes of a `.npy` file held in memory (`name` labels messages);
    /// the values are copied. The same checks as `init(path:)`: what the fuzz target exercises.
    public init(bytes: UnsafeRawBufferPointer, name: String) throws(TesseraError) {
        path = name
        let (header, kind, count) = try Self.decode(bytes, name: name)
        self.header = header
        storage = .converted(LayoutCopy.convert(UnsafeRawBufferPointer(rebasing: bytes[header.dataOffset...]), kind: kind, count: count))
        conversionNote = kind == .float64 ? nil : "converted \(header.descr) (\(kind.label)) in \(name) to float64"
    }

    /// Header, element type and count of a whole file's bytes, after every consistency check.
    static func decode(_ bytes: UnsafeRawBufferPointer, name: String) throws(TesseraError) -> (NpyHeader, ElementKind, Int) {
        let header = try NpyHeader.parse(bytes, name: name)
        let kind = try ElementKind(descr: header.descr, name: name)
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
        case .mapped(_, _, let n, _): return n
        case .converted(let values): return values.count
        }
    }

    /// Calls `body` with the values as float64 in file order (row-major unless `fortranOrder`):
    /// in place for an aligned float64 file, else a converted copy (for small arrays such as b;
    /// a matrix goes through `withRawMatrix`).
    public func withValues<R>(_ body: (UnsafeBufferPointer<Double>) throws -> R) rethrows -> R {
        switch storage {
        case .mapped(let file, let offset, let n, let kind):
            let raw = file.bytes.baseAddress.map { $0 + offset }
            if kind == .float64, let raw, Int(bitPattern: raw) % MemoryLayout<Double>.alignment == 0 {
                return try body(UnsafeBufferPointer(start: raw.assumingMemoryBound(to: Double.self), count: n))
            }
            let converted = LayoutCopy.convert(UnsafeRawBufferPointer(rebasing: file.bytes[offset...]), kind: kind, count: n)
            return try converted.withUnsafeBufferPointer(body)
        case .converted(let values):
            return try values.withUnsafeBufferPointer(body)
        }
    }

    /// Whether the values can be used where they lie (a 2-D little-endian float64 array, aligned
    /// for doubles, whose leading dimension fits BLAS's 32-bit integers): `TiledMatrix.load`
    /// then views the mapping instead of copying it.
    public var canBeUsedInPlace: Bool {
        guard shape.count == 2 else { return false }
        let ld = fortranOrder ? shape[0] : shape[1]
        switch storage {
        case .mapped(let file, let offset, _, let kind):
            guard kind == .float64, let base = file.bytes.baseAddress else { return false }
            return Int(bitPattern: base + offset) % MemoryLayout<Double>.alignment == 0 && ld <= Int(Int32.max)
        case .converted:
            return false   // an array's storage is lent only for the length of a closure
        }
    }

    /// Calls `body` with the array as a `RawMatrix` (2-D arrays only; the caller checks the
    /// shape): the mapped bytes in place, whatever the element kind, with a hook that drops each
    /// finished block of rows from this process's memory (C order), so that loading a large file
    /// holds little more than the tiles.
    public func withRawMatrix<R>(_ body: (RawMatrix) throws(TesseraError) -> R) throws(TesseraError) -> R {
        let n = shape.first ?? 0, d = shape.count > 1 ? shape[1] : 1
        switch storage {
        case .mapped(let file, let offset, _, let kind):
            guard let base = file.bytes.baseAddress else { throw .invalidInput("\(path) holds no data") }
            let rowMajor = !fortranOrder, rowBytes = d * kind.size
            file.adviseSequential()
            var drop: (@Sendable (Range<Int>) -> Void)? = nil
            if rowMajor {
                drop = { (rows: Range<Int>) in
                    let bytes: Range<Int> = (offset + rows.lowerBound * rowBytes)..<(offset + rows.upperBound * rowBytes)
                    file.dropPages(bytes)
                }
            }
            return try body(RawMatrix(base: base + offset, kind: kind, rows: n, cols: d, rowMajor: rowMajor, finishedRows: drop,
                                      owner: file))
        case .converted(let values):
            let result: Result<R, TesseraError> = values.withUnsafeBytes { raw in
                guard let base = raw.baseAddress else { return .failure(.invalidInput("\(path) holds no data")) }
                return Result { () throws(TesseraError) in
                    try body(RawMatrix(base: base, kind: .float64, rows: n, cols: d, rowMajor: !fortranOrder))
                }
            }
            return try result.get()
        }
    }

    /// The values as an array (a copy), in file order.
    public func toArray() -> [Double] { withValues { Array($0) } }
}

/// The element kinds a `.npy` file may hold, from its dtype string.
extension ElementKind {
    init(descr given: String, name: String) throws(TesseraError) {
        let descr = NpyDtype.canonical(given)
        let chars = Array(descr)
        guard chars.count >= 2 else { throw .invalidInput("\(name) has dtype '\(LiteralParser.quoted(given))', which Tessera cannot read; save a float64 array") }
        let order = chars[0], code = chars[1], size = Int(String(chars[2...])) ?? 0
        if order == ">" && size > 1 {
            throw .invalidInput("\(name) has big-endian dtype '\(LiteralParser.quoted(given))'; convert it with a.astype('<f8') before saving")
        }
        switch (code, size) {
        case ("f", 8): self = .float64
        case ("f", 4): self = .float32
        case ("i", 1), ("i", 2), ("i", 4), ("i", 8): self = .int(bytes: size)
        case ("u", 1), ("u", 2), ("u", 4), ("u", 8): self = .uint(bytes: size)
        case ("b", 1): self = .bool
        case ("c", _): throw .invalidInput("\(name) has complex dtype '\(LiteralParser.quoted(given))'; Tessera solves real problems: save the real part")
        case ("O", _): throw .invalidInput("\(name) holds Python objects (dtype '\(LiteralParser.quoted(given))'); save a numeric float64 array")
        case ("V", _): throw .invalidInput("\(name) holds a structured/void dtype '\(LiteralParser.quoted(given))'; save a plain float64 array")
        case ("U", _), ("S", _): throw .invalidInput("\(name) holds strings (dtype '\(LiteralParser.quoted(given))'); save a numeric float64 array")
        default: throw .invalidInput("\(name) has dtype '\(LiteralParser.quoted(given))', which Tessera cannot read; save a float64 array")
        }
    }
}
