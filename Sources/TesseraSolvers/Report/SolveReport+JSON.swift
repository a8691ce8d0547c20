import TesseraCore

extension SolveReport {
    /// The version of the JSON report's layout (`schema_version`), raised when a key changes
    /// meaning or goes away (adding keys keeps it). docs/REPORT.md describes every key.
    public static let schemaVersion = 1

    /// The report as one JSON object, the one JSON form of a report. Keys: schema
    /// ("tessera.report"), schema_version, problem, method,
    /// reason, rows, cols, then per family — gram/lstsq: power, factor, sketch, sketch_rows,
    /// iterations (per stage), status, converged, tolerance, relative_residual, backward_error,
    /// optimality, accuracy_floor, condition_A, condition_AR_inverse, norm_A, rank, rcond, smallest_kept_singular_value,
    /// largest_dropped_singular_value, rank_route (null on the full-rank route), seconds, threads,
    /// tile_rows, seed; attention: ridge, iterations, status, relative_residual, tolerance,
    /// converged, rank, shift, low_rank, iteration, products (per kind: count, seconds), seconds — then history (one residual estimate per
    /// iteration, `history`) and notes. Non-finite numbers are null.
    public var json: String {
        var f: [String] = []
        func add(_ key: String, _ value: String) { f.append("\"\(key)\": \(value)") }
        add("schema", Self.string("tessera.report"))
        add("schema_version", "\(Self.schemaVersion)")
        add("problem", Self.string(problem.name))
        add("method", Self.string(method.rawValue))
        add("reason", Self.string(reason))
        add("rows", "\(rows)")
        add("cols", "\(cols)")
        switch problem {
        case .gram(let j), .lstsq(let j):
            add("power", "\(j)")
            add("factor", Self.string(factor))
            add("sketch", Self.string(sketchKind))
            add("sketch_rows", sketchRows.map(String.init) ?? "null")
            add("iterations", "[\(iterations.map(String.init).joined(separator: ", "))]")
            add("status", Self.string(status.rawValue))
            add("converged", "\(converged)")
            add("x_representable", "\(solutionRepresentable)")
            add("tolerance", Self.number(tolerance))
            add("relative_residual", Self.number(relativeResidual))
            add("backward_error", Self.number(backwardError))
            add("optimality", Self.number(optimality))
            add("accuracy_floor", Self.number(accuracyFloor))
            add("condition_A", Self.number(conditionA))
            add("condition_AR_inverse", Self.number(conditionPreconditioned))
            add("norm_A", Self.number(normA))
            add("rank", rank.map(String.init) ?? "null")
            add("rcond", Self.number(rcond))
            add("smallest_kept_singular_value", Self.number(smallestKeptSingularValue))
            add("largest_dropped_singular_value", Self.number(largestDroppedSingularValue))
            add("rank_route", Self.string(route))
            add("seconds", secondsJSON(withTotal: true))
            add("threads", "\(threads)")
            add("tile_rows", "\(tileRows)")
            add("seed", "\(seed)")
        case .attention(let lambda):
            add("ridge", Self.number(lambda))
            add("iterations", "\(iterations.reduce(0, +))")
            add("status", Self.string(status.rawValue))
            add("relative_residual", Self.number(relativeResidual))
            add("tolerance", Self.number(tolerance))
            add("converged", "\(converged)")
            add("rank", lowRank.map { String($0.rank) } ?? "null")
            add("shift", Self.number(lowRank?.shift))
            add("low_rank", Self.string(lowRank?.kind))
            add("rank_stop", Self.string(lowRank?.stopReason))
            add("rank_trace", "[" + (lowRank?.traceHistory ?? []).map { "[\($0.rank), \(Self.number($0.trace))]" }.joined(separator: ", ") + "]")
            add("iteration", Self.string(iteration))
            add("products", "{" + kernelProducts.sorted { $0.key < $1.key }.map {
                "\(Self.string($0.key.rawValue)): {\"count\": \($0.value.count), \"seconds\": \(Self.number($0.value.seconds))}"
            }.joined(separator: ", ") + "}")
            add("seconds", secondsJSON(withTotal: false))
        }
        add("history", "[" + history.map { Self.number($0) }.joined(separator: ", ") + "]")
        add("notes", "[" + notes.map { Self.string($0) }.joined(separator: ", ") + "]")
        return "{\n  " + f.joined(separator: ",\n  ") + "\n}\n"
    }

    /// The phase times as a JSON object with sorted keys ("factor.<step>" for factor steps).
    func secondsJSON(withTotal: Bool) -> String {
        var entries: [(String, Double)] = [("sketch", seconds.sketch), ("factor", seconds.factor), ("iterate", seconds.iterate),
                                           ("verify", seconds.verify)].compactMap { k, v in v.map { (k, $0) } }
        entries += seconds.factorSteps.map { ("factor." + $0.key.rawValue, $0.value) }
        if withTotal { entries.append(("total", seconds.total)) }
        return "{" + entries.sorted { $0.0 < $1.0 }.map { "\"\($0.0)\": \(Self.number($0.1))" }.joined(separator: ", ") + "}"
    }

    static func number(_ v: Double?) -> String {
        guard let v, v.isFinite else { return "null" }
        return "\(v)"
    }

    static func string(_ s: String?) -> String { s.map { "\"" + Format.escape($0) + "\"" } ?? "null" }
}
