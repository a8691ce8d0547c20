/// Number and text formatting for reports and messages, without Foundation: the one place
/// where Tessera turns numbers into text (scientific, fixed, byte sizes, durations) and escapes
/// strings for JSON. Every function is pure, O(length of the result), and throws nothing.
public enum Format {
    /// Two significant digits in scientific notation: 1.2e-14, -3.0e+02; "0" for zero, "n/a"
    /// for NaN, "inf"/"-inf" for infinities.
    public static func sci(_ v: Double) -> String {
        guard v.isFinite else { return v.isNaN ? "n/a" : "\(v)" }
        if v == 0 { return "0" }
        var e = 0, m = abs(v)
        while m >= 10 { m /= 10; e += 1 }
        while m < 1 { m *= 10; e -= 1 }
        var digits = Int((m * 10).rounded())
        if digits >= 100 { digits /= 10; e += 1 }
        return (v < 0 ? "-" : "") + "\(digits / 10).\(digits % 10)e\(e < 0 ? "-" : "+")\(abs(e) < 10 ? "0" : "")\(abs(e))"
    }

    /// Three significant digits in scientific notation with a two-digit (at least) exponent:
    /// 1.23e-14, 5.12e-01. Zero and non-finite values print as Swift does ("0.0", "inf", "nan").
    /// A mantissa that rounds to 10 is not carried (9.996 prints as 10.00e+00).
    public static func sci3(_ v: Double) -> String {
        guard v.isFinite, v != 0 else { return "\(v)" }
        var exponent = 0, m = abs(v)
        while m >= 10 { m /= 10; exponent += 1 }
        while m < 1 { m *= 10; exponent -= 1 }
        let digits = Int((m * 100).rounded())
        let mantissa = "\(digits / 100)." + zeroPadded(digits % 100, width: 2)
        return (v < 0 ? "-" : "") + mantissa + "e" + (exponent < 0 ? "-" : "+") + zeroPadded(abs(exponent), width: 2)
    }

    /// `v` rounded to `places` decimals (half away from zero): fixed(2.345, 2) = "2.35"
    /// (up to the binary value), fixed(0.5, 3) = "0.500"; non-finite values print as Swift does.
    public static func fixed(_ v: Double, _ places: Int) -> String {
        guard v.isFinite else { return "\(v)" }
        var p = 1
        for _ in 0..<places { p *= 10 }
        let scaled = Int((abs(v) * Double(p)).rounded())
        let frac = String(scaled % p)
        return (v < 0 ? "-" : "") + "\(scaled / p)." + String(repeating: "0", count: places - frac.count) + frac
    }

    /// `s` as the body of a JSON string: quote, backslash and newline escaped, other control
    /// characters replaced by a space (the result is always valid JSON between quotes).
    public static func escape(_ s: String) -> String {
        var r = ""
        for ch in s.unicodeScalars {
            switch ch {
            case "\"": r += "\\\""
            case "\\": r += "\\\\"
            case "\n": r += "\\n"
            case _ where ch.value < 0x20: r += " "
            default: r.unicodeScalars.append(ch)
            }
        }
        return r
    }

    /// A byte count in binary units with one decimal where it is not a whole number:
    /// "1.5 GiB", "300 MiB", "12 KiB", "100 B" (units KiB to TiB, from 1024 upwards).
    public static func bytes(_ bytes: UInt64) -> String {
        let units: [(UInt64, String)] = [(1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
        for (size, name) in units where bytes >= size {
            let value = Double(bytes) / Double(size)
            return (value * 10).rounded() / 10 == value.rounded() ? "\(Int(value.rounded())) \(name)" : "\((value * 10).rounded() / 10) \(name)"
        }
        return "\(bytes) B"
    }

    /// A duration: under a second in whole milliseconds ("250 ms"), else in seconds truncated
    /// to one decimal ("3.4 s"); a non-finite or enormous value prints as Swift prints it ("inf s").
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, abs(seconds) < 1e15 else { return "\(seconds) s" }
        if seconds < 1 { return "\(Int((seconds * 1000).rounded())) ms" }
        return "\(Double(Int(seconds * 10)) / 10) s"
    }

    /// An array shape as NumPy prints it: "(3, 4)", "(5,)", "()".
    public static func shape(_ shape: [Int]) -> String {
        shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    }

    /// `s` followed by spaces up to `width` characters, and always at least one space (table
    /// columns that never run together).
    public static func padded(_ s: String, _ width: Int) -> String {
        s + String(repeating: " ", count: max(1, width - s.count))
    }

    /// The decimal digits of `n` ≥ 0, left-padded with zeros to `width`.
    static func zeroPadded(_ n: Int, width: Int) -> String {
        let digits = String(n)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
