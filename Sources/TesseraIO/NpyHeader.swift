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

/// The header dictionary of a `.npy` file, parsed as the Python literal it is (what
/// `numpy.lib.format` reads with `ast.literal_eval`): string keys in single or double quotes
/// (with backslash escapes), values that are strings, True/False, tuples of integers (a trailing
/// comma, Python 2's `3L`) or a list (a structured dtype); commas between entries, a trailing
/// comma, whitespace. Exactly the keys descr, fortran_order and shape, each once: a key given
/// twice is ambiguous (NumPy would take the last) and refused, as are missing and unknown keys.
/// Messages quote the header with control and non-ASCII bytes escaped. Cost O(header length).
struct HeaderDictionary {
    enum Value {
        case string(String)
        case boolean(Bool)
        case integers([Int])
        case list(String)
    }

    let entries: [String: Value]
    let name: String

    init(text: String, name: String) throws(TesseraError) {
        self.name = name
        var parser = LiteralParser(Array(text.unicodeScalars), name: name, header: text)
        entries = try parser.dictionary()
    }

    func entry(_ key: String) throws(TesseraError) -> Value {
        guard let v = entries[key] else { throw .invalidInput("\(name) has a malformed .npy header: no '\(key)' entry") }
        return v
    }

    func descr() throws(TesseraError) -> String {
        switch try entry("descr") {
        case .string(let s): return s
        case .list(let fields):
            throw .invalidInput("\(name) holds a structured array (fields \(LiteralParser.quoted(fields))); Tessera needs a plain float64 array")
        default: throw .invalidInput("\(name) has a malformed .npy header: 'descr' is not a dtype string")
        }
    }

    func fortranOrder() throws(TesseraError) -> Bool {
        guard case .boolean(let b) = try entry("fortran_order") else {
            throw .invalidInput("\(name) has a malformed .npy header: 'fortran_order' is neither True nor False")
        }
        return b
    }

    func shape() throws(TesseraError) -> [Int] {
        guard case .integers(let dims)? = entries["shape"] else {
            throw .invalidInput("\(name) has a malformed .npy header: no readable 'shape' tuple")
        }
        return dims
    }

    static func clip(_ s: String) -> String { LiteralParser.quoted(s) }
}

/// A recursive-descent reader of the header's Python literal (see `HeaderDictionary`).
struct LiteralParser {
    let scalars: [Unicode.Scalar]
    let name: String
    let header: String
    var i = 0

    init(_ scalars: [Unicode.Scalar], name: String, header: String) {
        self.scalars = scalars
        self.name = name
        self.header = header
    }

    /// `s` clipped to 80 characters with control, quote-breaking and non-ASCII characters escaped.
    static func quoted(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            if out.unicodeScalars.count >= 77 { out += "..."; break }
            switch u.value {
            case 0x20...0x7E: out.unicodeScalars.append(u)
            case 0x0A: out += "\\n"
            default:
                let hex = String(u.value, radix: 16)
                out += u.value <= 0xFF ? "\\x" + String(repeating: "0", count: 2 - hex.count) + hex : "\\u{" + hex + "}"
            }
        }
        return out
    }

    func malformed(_ what: String) -> TesseraError {
        .invalidInput("\(name) has a malformed .npy header (\(what)): \(Self.quoted(header.trimmingWhitespace))")
    }

    mutating func skipSpace() { while i < scalars.count, scalars[i].properties.isWhitespace { i += 1 } }

    mutating func expect(_ c: Unicode.Scalar, _ what: String) throws(TesseraError) {
        skipSpace()
        guard i < scalars.count, scalars[i] == c else { throw malformed(what) }
        i += 1
    }

    mutating func dictionary() throws(TesseraError) -> [String: HeaderDictionary.Value] {
        try expect("{", "not a dictionary")
        var entries: [String: HeaderDictionary.Value] = [:]
        while true {
            skipSpace()
            if i < scalars.count, scalars[i] == "}" { i += 1; break }
            let key = try string()
            guard ["descr", "fortran_order", "shape"].contains(key) else {
                throw .invalidInput("\(name) has a malformed .npy header: unexpected key '\(Self.quoted(key))' (a .npy header holds descr, fortran_order and shape)")
            }
            try expect(":", "no ':' after the key '\(key)'")
            let value = try self.value(for: key)
            guard entries[key] == nil else {
                throw .invalidInput("\(name) has an ambiguous .npy header: the key '\(Self.quoted(key))' is given twice (NumPy would take the last); write the file again with numpy.save")
            }
            entries[key] = value
            skipSpace()
            guard i < scalars.count else { throw malformed("no closing '}'") }
            if scalars[i] == "," { i += 1; continue }
            if scalars[i] == "}" { i += 1; break }
            throw malformed("no ',' or '}' after the value of '\(key)'")
        }
        skipSpace()
        guard i == scalars.count else { throw malformed("text after the dictionary") }
        return entries
    }

    mutating func string() throws(TesseraError) -> String {
        skipSpace()
        guard i < scalars.count, scalars[i] == "'" || scalars[i] == "\"" else { throw malformed("a key or value is not a quoted string") }
        let quote = scalars[i]
        i += 1
        var out = String.UnicodeScalarView()
        while i < scalars.count, scalars[i] != quote {
            if scalars[i] == "\\", i + 1 < scalars.count { i += 1 }
            out.append(scalars[i])
            i += 1
        }
        guard i < scalars.count else { throw malformed("an unterminated string") }
        i += 1
        return String(out)
    }

    mutating func value(for key: String) throws(TesseraError) -> HeaderDictionary.Value {
        skipSpace()
        guard i < scalars.count else { throw malformed("no value for '\(key)'") }
        switch scalars[i] {
        case "'", "\"": return .string(try string())
        case "(": return .integers(try integers(key))
        case "[": return .list(try bracketed())
        default:
            for (word, b) in [("True", true), ("False", false)] where word.unicodeScalars.elementsEqual(scalars[i..<min(scalars.count, i + word.unicodeScalars.count)]) {
                i += word.unicodeScalars.count
                return .boolean(b)
            }
            throw malformed("an unreadable value for '\(key)'")
        }
    }

    /// A tuple of non-negative integers: `(3, 4)`, `(5,)`, `()`, Python 2's `(3L, 4L)`.
    mutating func integers(_ key: String) throws(TesseraError) -> [Int] {
        i += 1
        var out: [Int] = []
        while true {
            skipSpace()
            guard i < scalars.count else { throw malformed("an unterminated tuple") }
            if scalars[i] == ")" { i += 1; return out }
            var digits = ""
            while i < scalars.count, ("0"..."9").contains(scalars[i]) { digits.unicodeScalars.append(scalars[i]); i += 1 }
            if i < scalars.count, scalars[i] == "L" { i += 1 }
            guard let n = Int(digits) else {
                throw .invalidInput("\(name) has a malformed .npy header: '\(key)' entry \(out.count) is not a non-negative integer")
            }
            out.append(n)
            skipSpace()
            guard i < scalars.count else { throw malformed("an unterminated tuple") }
            if scalars[i] == "," { i += 1 } else if scalars[i] != ")" { throw malformed("no ',' between the entries of '\(key)'") }
        }
    }

    /// A bracketed list kept as text (a structured dtype's fields), brackets and strings balanced.
    mutating func bracketed() throws(TesseraError) -> String {
        let start = i
        var depth = 0
        while i < scalars.count {
            let c = scalars[i]
            if c == "'" || c == "\"" { _ = try string(); continue }
            if c == "[" || c == "(" { depth += 1 }
            if c == "]" || c == ")" { depth -= 1 }
            i += 1
            if depth == 0 { return String(String.UnicodeScalarView(scalars[start..<i])) }
        }
        throw malformed("an unterminated list")
    }
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
