import TesseraCore

/// What a solve reports (PAPER.md §2): the method and why, the shapes, the sketch, iterations
/// and how the iteration ended, the accuracy measures from a verification pass over the real
/// operator, condition estimates, phase times, and notes (fallbacks, float64 limits).
public struct SolveReport: Sendable {
    public var problem: TallProblem
    public var method: SolveMethod
    public var reason: String
    public var rows: Int
    public var cols: Int
    public var power: Int
    public var sketchKind: String?
    public var sketchRows: Int?
    public var factor: String
    /// Iterations per stage (least-squares stage first, then one per power).
    public var iterations: [Int] = []
    public var status: IterationStatus = .converged
    public var converged = false
    public var tolerance: Double
    /// ‖residual‖/‖b‖.
    public var relativeResidual = Double.nan
    /// gram: ‖(AᵀA)^j x − b‖ / (‖A‖^{2j}‖x‖ + ‖b‖).
    public var backwardError: Double?
    /// lstsq: ‖Mᵀ(Mx − b)‖ / (‖M‖‖Mx − b‖), M = A(AᵀA)^j.
    public var optimality: Double?
    /// The level below which the measure cannot be certified in float64 for this x:
    /// gram u; lstsq u·‖A‖^{2j+1}‖x‖/‖r‖ (a backward-stable evaluation of r = Mx − b is only
    /// that accurate). NumPy/SciPy land at the same level.
    public var accuracyFloor = 0.0
    /// κ₂(A) estimated from the factor.
    public var conditionA = Double.nan
    /// κ₂(AR⁻¹) from Lanczos (sketch factors); 1 for exact factors.
    public var conditionPreconditioned: Double?
    /// ‖A‖₂ estimated as ‖R‖₂ by power iteration on RᵀR.
    public var normA = Double.nan
    public var seconds: [String: Double] = [:]
    public var threads: Int
    public var tileRows: Int
    public var seed: UInt64
    public var notes: [String] = []

    /// The measure compared with the tolerance.
    public var accuracy: Double { (problem == .gram ? backwardError : optimality) ?? .nan }

    /// A human-readable table.
    public var text: String {
        var lines: [String] = []
        lines.append("problem      \(problem.rawValue), n = \(rows), d = \(cols), power j = \(power)")
        lines.append("method       \(method.rawValue) (\(reason))")
        lines.append("factor       \(factor)" + (sketchKind.map { ", sketch \($0) with \(sketchRows ?? 0) rows" } ?? ""))
        lines.append("iterations   \(iterations.map(String.init).joined(separator: " + ")) → \(status.rawValue)")
        lines.append("accuracy     relative residual \(Format.sci(relativeResidual)), "
                     + (problem == .gram ? "backward error \(Format.sci(backwardError ?? .nan))" : "optimality \(Format.sci(optimality ?? .nan))")
                     + " (tolerance \(Format.sci(tolerance)): \(converged ? "met" : "NOT met"))")
        lines.append("conditioning κ(A) ≈ \(Format.sci(conditionA)), ‖A‖₂ ≈ \(Format.sci(normA))"
                     + (conditionPreconditioned.map { ", κ(AR⁻¹) ≈ \(Format.fixed($0, 3))" } ?? ""))
        let phases = ["sketch", "factor", "iterate", "verify"].compactMap { k in seconds[k].map { "\(k) \(Format.fixed($0, 3)) s" } }
        lines.append("time         " + phases.joined(separator: ", ") + ", total \(Format.fixed(seconds["total"] ?? 0, 3)) s")
        lines.append("run          \(threads) threads, \(tileRows) rows per tile, seed \(seed)")
        for note in notes { lines.append("note         \(note)") }
        return lines.joined(separator: "\n")
    }

    /// The report as a JSON object.
    public var json: String {
        func num(_ v: Double?) -> String { guard let v, v.isFinite else { return "null" }; return "\(v)" }
        func str(_ s: String?) -> String { s.map { "\"" + Format.escape($0) + "\"" } ?? "null" }
        var f: [String] = []
        f.append("\"problem\": \(str(problem.rawValue))")
        f.append("\"method\": \(str(method.rawValue))")
        f.append("\"reason\": \(str(reason))")
        f.append("\"rows\": \(rows)")
        f.append("\"cols\": \(cols)")
        f.append("\"power\": \(power)")
        f.append("\"factor\": \(str(factor))")
        f.append("\"sketch\": \(str(sketchKind))")
        f.append("\"sketch_rows\": \(sketchRows.map(String.init) ?? "null")")
        f.append("\"iterations\": [\(iterations.map(String.init).joined(separator: ", "))]")
        f.append("\"status\": \(str(status.rawValue))")
        f.append("\"converged\": \(converged)")
        f.append("\"tolerance\": \(num(tolerance))")
        f.append("\"relative_residual\": \(num(relativeResidual))")
        f.append("\"backward_error\": \(num(backwardError))")
        f.append("\"optimality\": \(num(optimality))")
        f.append("\"accuracy_floor\": \(num(accuracyFloor))")
        f.append("\"condition_A\": \(num(conditionA))")
        f.append("\"condition_AR_inverse\": \(num(conditionPreconditioned))")
        f.append("\"norm_A\": \(num(normA))")
        f.append("\"seconds\": {" + seconds.keys.sorted().map { "\"\($0)\": \(num(seconds[$0]))" }.joined(separator: ", ") + "}")
        f.append("\"threads\": \(threads)")
        f.append("\"tile_rows\": \(tileRows)")
        f.append("\"seed\": \(seed)")
        f.append("\"notes\": [" + notes.map(str).joined(separator: ", ") + "]")
        return "{\n  " + f.joined(separator: ",\n  ") + "\n}\n"
    }
}
