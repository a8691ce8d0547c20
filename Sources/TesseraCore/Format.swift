/// Number and text formatting for reports and messages, without Foundation: the one place
/// where Tessera turns numbers into text (scientific, fixed, byte sizes, durations) and escapes
/// strings for JSON.
public enum Format {
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

    public static func fixed(_ v: Double, _ places: Int) -> String {
        guard v.isFinite else { return "\(v)" }
        var p = 1
        for _ in 0..<places { p *= 10 }
        let scaled = Int((abs(v) * Double(p)).rounded())
        let frac = String(scaled % p)
        return (v < 0 ? "-" : "") + "\(scaled / p)." + String(repeating: "0", count: places - frac.count) + frac
    }

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
}
