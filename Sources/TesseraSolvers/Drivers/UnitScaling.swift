#if canImport(Glibc)
import Glibc
#endif
import TesseraCore
import TesseraTiles

/// Magnitudes far from 1: a problem is solved at unit scale and mapped back, exactly.
///
/// attention is linear in b only ((K + λI)x = b: b' = 2^t·b gives x = 2^{-t}·x'; A enters
/// through exp and is not rescaled).
/// With A' = 2^s·A and b' = 2^t·b (powers of two: exact), gram (A'ᵀA')^j x' = b' and lstsq
/// A'(A'ᵀA')^j x' ≈ b' have x = 2^{e·s − t}·x' with e = 2j (gram) or 2j + 1 (lstsq); the
/// residual, backward error and optimality are ratios of homogeneous quantities, so the
/// certificate computed at unit scale *is* the certificate of x. Rescaling happens only where it
/// is needed — ‖A‖₂ from the first factor outside [2^-100, 2^100], not finite or zero, or x's
/// scale ‖A‖^{-e} beyond 2^±600; b outside [2^-100, 2^100] or whenever A is rescaled — so
/// ordinary problems are solved exactly as before. Rescaling A costs one scan of A for its
/// largest entry and an owned copy of 2^s·A (n·d doubles, within the memory budget).
/// When x = 2^{e·s − t}·x' is not a float64 (its largest entry beyond 2^1024 or below the
/// normal range), the solution is reported as not converged, with the reason.
enum UnitScaling {
    /// Whether a factor of A with ‖A‖₂ ≈ `normA` leaves the solve or its certificates at risk of
    /// overflow or underflow, for x ∝ ‖A‖^{-e}.
    static func needsRescaling(normA: Double, solutionExponent e: Int) -> Bool {
        guard normA.isFinite, normA > 0 else { return true }
        let magnitude = abs(log2(normA))
        return magnitude > 100 || Double(e) * magnitude > 600
    }

    /// x = 2^k·x' for x' solved at unit scale, with `note` added to the report; not converged,
    /// with the reason and `solutionRepresentable` false, when x is not a float64.
    static func mapBack(_ solution: Solution, exponent k: Int, note: String?) -> Solution {
        var report = solution.report
        if let note { report.notes.append(note) }
        let largest = PowerOfTwo.largestMagnitude(solution.x)
        if largest > 0 {
            let log2x = log2(largest) + Double(k)
            if log2x >= 1024 || log2x < -1022 {
                report.converged = false
                report.solutionRepresentable = false
                report.notes.append("x is not representable in float64: its largest entry is ≈ 10^\(Int((log2x * 0.30103).rounded())), "
                                    + (log2x >= 1024 ? "beyond the largest double (1.8e308)" : "below the smallest normal double (2.2e-308)")
                                    + "; the certificate above is that of x at unit scale. Rescale A or b so that x is in range")
            }
        }
        return Solution(x: PowerOfTwo.scale(solution.x, by: k), report: report)
    }

    /// The t that brings b's largest entry into [1, 2) when b lies outside [2^-100, 2^100] or
    /// A was rescaled; 0 (b as given) otherwise, and for b = 0.
    static func rightHandSideExponent(_ b: [Double], matrixRescaled: Bool) -> Int {
        let largest = PowerOfTwo.largestMagnitude(b)
        guard largest > 0 else { return 0 }
        let outside = abs(log2(largest)) > 100
        return matrixRescaled || outside ? PowerOfTwo.normalizingExponent(of: largest) : 0
    }
}

extension TallSolver {
    /// e: x scales as ‖A‖^{-e} (2j for gram, 2j + 1 for lstsq).
    var solutionExponent: Int { plan.kind == .gram ? 2 * power : 2 * power + 1 }

    /// Solves each column at unit scale when its b (or A) is far from it, and maps x back
    /// (`UnitScaling`); otherwise solves as given.
    func solveRescaled(_ rhs: RightHandSides, _ solve: (RightHandSides) throws(TesseraError) -> [Solution]) throws(TesseraError) -> [Solution] {
        let exponents = rhs.columns.map { UnitScaling.rightHandSideExponent($0, matrixRescaled: scaleExponent != 0) }
        guard scaleExponent != 0 || exponents.contains(where: { $0 != 0 }) else { return try solve(rhs) }
        var out: [Solution] = []
        for (k, b) in rhs.columns.enumerated() {
            let t = exponents[k], back = solutionExponent * scaleExponent - t
            var column = try RightHandSides(vector: PowerOfTwo.scale(b, by: t), problem: problem, rows: op.rows, cols: op.cols)
            if let start = rhs.starts?[k] {
                column = try column.withStarts([PowerOfTwo.scale(start, by: -back)], problem: problem, rows: op.rows, cols: op.cols)
            }
            guard let solved = try solve(column).first else { throw .internalFailure("a rescaled solve gave no solution") }
            let note = back != 0 || t != 0 ? "solved at unit scale (A·2^\(scaleExponent), b·2^\(t); exact) and x scaled back by 2^\(back)" : nil
            out.append(UnitScaling.mapBack(solved, exponent: back, note: note))
        }
        return out
    }
}

extension TallSolver {
    /// What `init` builds before the Richardson step: the matrix the solver works on (A or
    /// 2^s·A), its factor and ‖·‖₂.
    struct Prepared {
        let matrix: TiledMatrix
        let made: (factor: TriangularFactor, method: SolveMethod, notes: [String], minNorm: TruncatedSVDFactor?)
        let normA: Double
        let exponent: Int
        var notes: [String]
        /// v for `CertifiedNorm` when the certificates' ‖A‖ is still to be measured (float32 Gram).
        var normProbe: [Double]? = nil
    }

    /// Factors A; when A's magnitude puts the solve or its certificates at risk
    /// (`UnitScaling.needsRescaling`, or a factorization that failed for it), factors 2^s·A
    /// instead, s from A's largest entry. Throws what factoring throws, and `resourceLimit`
    /// when the rescaled copy does not fit the memory budget and A alone cannot be solved.
    static func prepare(matrix: TiledMatrix, engine: Engine, plan: TallPlan) throws(TesseraError) -> Prepared {
        let e = plan.kind == .gram ? 2 * plan.power : 2 * plan.power + 1
        var asGiven: Prepared? = nil
        var failure: TesseraError? = nil
        do throws(TesseraError) {
            let p = try factored(matrix, engine: engine, plan: plan, exponent: 0)
            if !UnitScaling.needsRescaling(normA: p.normA, solutionExponent: e) { return p }
            asGiven = p
        } catch {
            switch error {
            case .rankDeficient, .numerical: failure = error
            default: throw error
            }
        }
        let largest = try matrix.largestMagnitude(engine: engine)
        let s = PowerOfTwo.normalizingExponent(of: largest)
        func asGivenOr(_ error: TesseraError?) throws(TesseraError) -> Prepared {
            if let asGiven { return asGiven }
            throw error ?? .internalFailure("rescaling A: no factor and no error")
        }
        guard s != 0 else { return try asGivenOr(failure) }
        let magnitude = "A's largest entry is ≈ 1e\(Int((log2(largest) * 0.30103).rounded()))"
        do throws(TesseraError) {
            try MemoryBudget.resolve(plan.options.memoryBudget).require(
                ByteCount.sum(plan.requiredBytes, ByteCount.doubles(plan.rows, plan.cols)),
                for: "solving at unit scale (\(magnitude)) with a rescaled copy of A", advice: "raise --memory-budget, or scale A by a power of two near 2^\(s) yourself")
        } catch {
            guard var p = asGiven else { throw error }
            p.notes.append("\(magnitude), far from 1, but a rescaled copy does not fit the memory budget: solved as given, certificates may over- or underflow")
            return p
        }
        let scaled = try matrix.scaled(byPowerOfTwo: s, engine: engine)
        var p = try factored(scaled, engine: engine, plan: plan, exponent: s)
        p.notes.append("\(magnitude): solved with 2^\(s)·A (exact), whose products and certificates stay in float64's range")
        return p
    }

    /// The factor of `matrix` (`TallPlanner.factorOrRankRevealing`) and ‖matrix‖₂.
    static func factored(_ matrix: TiledMatrix, engine: Engine, plan: TallPlan, exponent: Int) throws(TesseraError) -> Prepared {
        let made = try TallPlanner().factorOrRankRevealing(plan, matrix: matrix, engine: engine)
        let normA: Double
        if let svd = made.minNorm {
            normA = svd.largest
        } else if made.factor.origin == .float32Gram,
                  let v = unit(made.factor.dominantVector ?? made.factor.r.dominantSingularPair.vector) {
            // ‖R‖ (from below, by R's dominant vector v) steers the iteration; the certificates
            // take ‖Av‖, a lower bound, in a pass they make anyway (`CertifiedNorm`).
            return Prepared(matrix: matrix, made: made, normA: made.factor.r.times(v).norm2, exponent: exponent, notes: made.notes,
                            normProbe: v)
        } else if made.factor.origin == .sketch || made.factor.origin == .float32Gram {
            // ‖SA‖ may exceed ‖A‖ by the sketch's distortion (or a float32 Gram's R without a
            // usable dominant vector by its rounding), which would make every certificate
            // optimistic by up to (1+ε)^{2j+1}. Power steps on AᵀA from R's top right singular
            // vector give ‖Av‖/‖v‖, a lower bound on ‖A‖₂ close to it (the Rayleigh quotient's
            // error is quadratic in the angle), so the certificates stay upper bounds: two steps
            // (two passes over A), as the sketch's distortion ε is tens of percent.
            let op = TallOperator(matrix: matrix, engine: engine)
            var v = made.factor.dominantVector ?? made.factor.r.dominantSingularPair.vector
            var estimate = 0.0
            for _ in 0..<2 {
                let w = try op.applyGram(v)
                estimate = max(estimate, CertifiedNorm.rayleigh(v, w))
                guard let next = unit(w) else { break }
                v = next
            }
            normA = estimate
        } else {
            normA = made.factor.r.norm2
        }
        return Prepared(matrix: matrix, made: made, normA: normA, exponent: exponent, notes: made.notes)
    }

    /// v/‖v‖, or nil when v has no finite nonzero norm.
    static func unit(_ v: [Double]) -> [Double]? {
        let size = v.norm2
        guard size > 0, size.isFinite else { return nil }
        return v.map { $0 / size }
    }
}
