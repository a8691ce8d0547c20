import TesseraCore

extension SolveReport {
    /// The report as a human-readable table, the one text form of a report.
    public var text: String {
        var lines: [String] = []
        switch problem {
        case .gram(let j), .lstsq(let j):
            lines.append("problem      \(problem.name), n = \(rows), d = \(cols), power j = \(j)")
            lines.append("method       \(method.rawValue) (\(reason))")
            lines.append("factor       \(factor ?? "none")" + (sketchKind.map { ", sketch \($0) with \(sketchRows ?? 0) rows" } ?? ""))
            lines.append("iterations   \(iterations.map(String.init).joined(separator: " + ")) → \(status.rawValue)")
            lines.append("accuracy     relative residual \(Format.sci(relativeResidual)), "
                         + (problem.tallKind == .gram ? "backward error \(Format.sci(backwardError ?? .nan))" : "optimality \(Format.sci(optimality ?? .nan))")
                         + " (tolerance \(Format.sci(tolerance)): \(converged ? "met" : "NOT met"))")
            lines.append("conditioning κ(A) ≈ \(Format.sci(conditionA)), ‖A‖₂ ≈ \(Format.sci(normA))"
                         + (conditionPreconditioned.map { ", κ(AR⁻¹) ≈ \(Format.fixed($0, 3))" } ?? ""))
            if let rank {
                lines.append("rank         \(rank) of \(cols), rcond \(Format.sci(rcond ?? .nan)) (smallest kept σ "
                             + "\(smallestKeptSingularValue.map { Format.sci($0) } ?? "none"), largest dropped σ "
                             + "\(largestDroppedSingularValue.map { Format.sci($0) } ?? "none")): minimum-norm solution, route \(route ?? "?")")
            }
            let phases = [("sketch", seconds.sketch), ("factor", seconds.factor), ("iterate", seconds.iterate), ("verify", seconds.verify)]
                .compactMap { name, value in value.map { "\(name) \(Format.fixed($0, 3)) s" } }
            lines.append("time         " + phases.joined(separator: ", ") + ", total \(Format.fixed(seconds.total, 3)) s")
            lines.append("run          \(threads) threads, \(tileRows) rows per tile, seed \(seed)")
        case .attention(let lambda):
            lines.append("problem      attention, n = \(rows), d = \(cols), ridge λ = \(Format.sci(lambda))")
            lines.append("method       \(method.rawValue) (\(reason))")
            if let lowRank {
                lines.append("precondition \(lowRank.kind) rank \(lowRank.rank), shift μ = \(Format.sci(lowRank.shift))"
                             + (lowRank.stopReason.map { " (rounds stopped: \($0))" } ?? ""))
            }
            lines.append("iterations   \(iterations.reduce(0, +)) → \(status.rawValue)" + (iteration.map { " [\($0)]" } ?? ""))
            lines.append("accuracy     relative residual \(Format.sci(relativeResidual)) (tolerance \(Format.sci(tolerance)): \(converged ? "met" : "NOT met"))")
            let phases = [("factor", seconds.factor), ("iterate", seconds.iterate), ("verify", seconds.verify)]
                .compactMap { name, value in value.map { "\(name) \(Format.fixed($0, 3)) s" } }
            lines.append("time         " + phases.joined(separator: ", "))
            let steps = seconds.factorSteps.keys.sorted().map { "\($0.rawValue) \(Format.fixed(seconds.factorSteps[$0] ?? 0, 3)) s" }
            if !steps.isEmpty { lines.append("factor steps " + steps.joined(separator: ", ")) }
            let products = kernelProducts.sorted { $0.key < $1.key }.map { kind, tally in
                "\(tally.count) \(kind.rawValue) (\(Format.fixed(tally.seconds / Double(max(1, tally.count)), 3)) s each)"
            }
            if !products.isEmpty { lines.append("products     " + products.joined(separator: ", ")) }
        }
        if let summary = historySummary { lines.append("convergence  " + summary) }
        for note in notes { lines.append("note         \(note)") }
        return lines.joined(separator: "\n")
    }

    /// The history in one line: the residual estimate at iterations 1, ¼, ½, ¾ of the way and
    /// the last ("1.2e-01 @1, 3.4e-05 @16, …, 3.8e-11 @64"); nil without iterations.
    var historySummary: String? {
        guard !history.isEmpty else { return nil }
        let n = history.count
        var marks: [Int] = []
        for k in [1, n / 4, n / 2, 3 * n / 4, n] where k >= 1 && !marks.contains(k) { marks.append(k) }
        return marks.map { "\(Format.sci(history[$0 - 1])) @\($0)" }.joined(separator: ", ") + " (residual estimate per iteration; all \(n) in the JSON report)"
    }
}
