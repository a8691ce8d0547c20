/// The dtype spellings NumPy itself accepts in a `.npy` header's descr, reduced to the one
/// `ElementKind` reads: a byte order (`<` little, `>` big, `|` not applicable) and a kind letter
/// with a byte count (`f8`). NumPy writes `'<f8'`, but `numpy.load` also reads `'f8'`, `'=f8'`,
/// `'<d'`, `'d'` and names such as `'float64'` or `'double'`; a native order (none or `=`) is
/// little-endian on the machines Tessera runs on (x86-64, AArch64 Linux).
enum NpyDtype {
    /// Single-letter type codes (numpy.dtype(char)) → kind letter and byte count.
    static let codes: [Character: String] = [
        "d": "f8", "f": "f4", "e": "f2", "g": "f16",
        "b": "i1", "h": "i2", "i": "i4", "l": "i8", "q": "i8",
        "B": "u1", "H": "u2", "I": "u4", "L": "u8", "Q": "u8",
        "?": "b1", "F": "c8", "D": "c16", "O": "O8",
    ]

    /// Type names → kind letter and byte count.
    static let names: [String: String] = [
        "float64": "f8", "double": "f8", "float": "f8", "float_": "f8", "float32": "f4", "single": "f4", "float16": "f2", "half": "f2",
        "int8": "i1", "byte": "i1", "int16": "i2", "short": "i2", "int32": "i4", "intc": "i4", "int64": "i8", "int": "i8", "int_": "i8",
        "long": "i8", "longlong": "i8", "uint8": "u1", "ubyte": "u1", "uint16": "u2", "ushort": "u2", "uint32": "u4", "uintc": "u4",
        "uint64": "u8", "uint": "u8", "ulonglong": "u8", "bool": "b1", "bool_": "b1", "complex64": "c8", "complex128": "c16",
        "complex": "c16", "object": "O8",
    ]

    /// `descr` as byte order + kind letter + byte count, e.g. "<f8" for "float64", "d" or "=f8";
    /// a spelling it does not know is returned unchanged (ElementKind names it in its message).
    static func canonical(_ descr: String) -> String {
        var order: Character = "<"
        var body = Substring(descr)
        if let first = body.first, "<>=|".contains(first) {
            order = first == "=" ? "<" : first
            body = body.dropFirst()
        }
        if body.count == 1, let letter = body.first, let code = codes[letter] { return String(order) + code }
        if let code = names[String(body)] { return String(order) + code }
        return String(order) + body
    }
}
