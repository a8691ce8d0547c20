import TesseraCore

/// The parsed header of a `.npy` file (NumPy format versions 1.0, 2.0 and 3.0):
/// magic `\x93NUMPY`, version, header length (2 bytes LE in v1, 4 in v2/v3), then a Python
/// dict literal `{'descr': '<f8', 'fortran_order': False, 'shape': (n, d), }`.
public struct NpyHeader: Sendable, Equatable {
    public let descr: String
    public let fortranOrder: Bool
    public let shape: [Int]
    /// Offset of the first data byte.
    public let dataOffset: Int

    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]   // \x93NUMPY

    /// Parses the header of `bytes` (the whole file); `name` appears in messages.
    public static func parse(_ bytes: UnsafeRawBufferPointer, name: String) throws(TesseraError) -> NpyHeader {
        if bytes.isEmpty { throw .invalidInput("\(name) is empty; expected a .npy file written by numpy.save") }
        guard bytes.count >= 10 else { throw .invalidInput("\(name) is truncated: \(bytes.count) bytes is shorter than a .npy header") }
        guard Array(bytes[0..<6]) == magic else {
            throw .invalidInput("\(name) is not a .npy file (bad magic bytes); write it with numpy.save")
        }
        let major = bytes[6]
        let lengthBytes: Int
        switch major {
        case 1: lengthBytes = 2
        case 2, 3: lengthBytes = 4
        default: throw .invalidInput("\(name) uses .npy format version \(major).\(bytes[7]); Tessera reads versions 1 to 3")
        }
        guard bytes.count >= 8 + lengthBytes else { throw .invalidInput("\(name) is truncated inside its header") }
        var headerLength = 0
        for k in 0..<lengthBytes { headerLength |= Int(bytes[8 + k]) << (8 * k) }
        let start = 8 + lengthBytes
        guard bytes.count >= start + headerLength else {
            throw .invalidInput("\(name) is truncated inside its header (\(bytes.count) bytes, header needs \(start + headerLength))")
        }
        let text = String(decoding: bytes[start..<(start + headerLength)], as: UTF8.self)
        let dict = try HeaderDictionary(text: text, name: name)
        return NpyHeader(descr: try dict.descr(), fortranOrder: try dict.fortranOrder(), shape: try dict.shape(),
                         dataOffset: start + headerLength)
    }

    /// Number of elements, checked for overflow.
    public func elementCount(name: String) throws(TesseraError) -> Int {
        try Checked.product(shape, "the shape \(shapeText) of \(name)")
    }

    /// The shape as NumPy prints it, e.g. "(3, 4)" or "(5,)".
    public var shapeText: String {
        Format.shape(shape)
    }

    /// A version-1.0 header (version 2.0 when longer than 65,535 bytes) for float64 data,
    /// padded with spaces and a newline so the data starts at a multiple of 64 bytes.
    public static func encode(shape: [Int], fortranOrder: Bool) -> [UInt8] {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dict = "{'descr': '<f8', 'fortran_order': \(fortranOrder ? "True" : "False"), 'shape': \(shapeText), }"
        let v1 = dict.utf8.count + 11 <= 65_535
        let prefix = v1 ? 10 : 12
        let total = (prefix + dict.utf8.count + 1 + 63) / 64 * 64
        dict += String(repeating: " ", count: total - prefix - dict.utf8.count - 1) + "\n"
        let length = dict.utf8.count
        var out = magic + [v1 ? 1 : 2, 0]
        if v1 {
            out += [UInt8(length & 0xFF), UInt8(length >> 8)]
        } else {
            out += (0..<4).map { UInt8((length >> (8 * $0)) & 0xFF) }
        }
        return out + Array(dict.utf8)
    }
}

/// The three entries of a .npy header dictionary, found by a small tolerant scanner of the
/// Python literal (keys in any order, single or double quotes, trailing commas).
struct HeaderDictionary {
    let text: String
    let name: String

    init(text: String, name: String) throws(TesseraError) {
        let trimmed = text.trimmingWhitespace
        guard trimmed.hasPrefix("{"), trimmed.hasSuffix("}") else {
            throw .invalidInput("\(name) has a malformed .npy header (not a dictionary): \(Self.clip(trimmed))")
        }
        self.text = trimmed
        self.name = name
    }

    /// The text after `'key':`, or nil.
    func value(of key: String) -> Substring? {
        for quote in ["'", "\""] {
            if let end = Self.end(of: quote + key + quote, in: text) {
                var rest = text[end...].drop { $0 == " " }
                guard rest.first == ":" else { continue }
                rest = rest.dropFirst().drop { $0 == " " }
                return rest
            }
        }
        return nil
    }

    func descr() throws(TesseraError) -> String {
        guard let v = value(of: "descr") else { throw .invalidInput("\(name) has a malformed .npy header: no 'descr' entry") }
        if v.first == "[" {
            throw .invalidInput("\(name) holds a structured array (fields \(Self.clip(String(v.prefix { $0 != "]" })))]); Tessera needs a plain float64 array")
        }
        guard let q = v.first, q == "'" || q == "\"", let end = v.dropFirst().firstIndex(of: q) else {
            throw .invalidInput("\(name) has a malformed .npy header: unreadable 'descr'")
        }
        return String(v[v.index(after: v.startIndex)..<end])
    }

    func fortranOrder() throws(TesseraError) -> Bool {
        guard let v = value(of: "fortran_order") else {
            throw .invalidInput("\(name) has a malformed .npy header: no 'fortran_order' entry")
        }
        if v.hasPrefix("True") { return true }
        if v.hasPrefix("False") { return false }
        throw .invalidInput("\(name) has a malformed .npy header: 'fortran_order' is neither True nor False")
    }

    func shape() throws(TesseraError) -> [Int] {
        guard let v = value(of: "shape"), v.first == "(", let close = v.firstIndex(of: ")") else {
            throw .invalidInput("\(name) has a malformed .npy header: no readable 'shape' tuple")
        }
        let inner = v[v.index(after: v.startIndex)..<close]
        var dims: [Int] = []
        for part in inner.split(separator: ",") {
            let token = part.trimmingWhitespace.filter { $0 != "L" }   // Python 2 longs: (3L, 4L)
            if token.isEmpty { continue }
            guard let n = Int(token), n >= 0 else {
                throw .invalidInput("\(name) has a malformed .npy header: shape entry '\(token)' is not a non-negative integer")
            }
            dims.append(n)
        }
        return dims
    }

    /// The index just past the first occurrence of `needle` in `text`.
    static func end(of needle: String, in text: String) -> String.Index? {
        var i = text.startIndex
        while i < text.endIndex {
            if text[i...].hasPrefix(needle) { return text.index(i, offsetBy: needle.count) }
            i = text.index(after: i)
        }
        return nil
    }

    static func clip(_ s: String) -> String { s.count > 80 ? String(s.prefix(77)) + "..." : s }
}

extension StringProtocol {
    /// Without leading and trailing whitespace.
    public var trimmingWhitespace: String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
