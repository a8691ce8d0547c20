import TesseraCore

/// The three problems Tessera solves, for A ∈ ℝ^{n×d}:
/// - `gram(power: j)`:  min ‖(AᵀA)^j x − b‖₂, b, x ∈ ℝ^d, 1 ≤ j ≤ `maximumPower`, n ≥ d;
/// - `lstsq(power: j)`: min ‖A(AᵀA)^j x − b‖₂, b ∈ ℝⁿ, x ∈ ℝ^d, 0 ≤ j ≤ `maximumPower`, n ≥ d
///   (j = 0 is ordinary least squares);
/// - `attention(ridge: λ)`: min ‖(exp(AAᵀ) + λI)x − b‖₂, b, x ∈ ℝⁿ, λ ≥ 0 finite.
///
/// One value travels from the CLI (or a library caller) through the planner and the solver to the
/// report. `validate()` is the one check of its parameters; it throws `.invalidArgument`.
public enum Problem: Sendable, Equatable, CustomStringConvertible {
    case gram(power: Int)
    case lstsq(power: Int)
    case attention(ridge: Double)

    /// gram, lstsq or attention.
    public var name: String {
        switch self {
        case .gram: return "gram"
        case .lstsq: return "lstsq"
        case .attention: return "attention"
        }
    }

    public var description: String { name }

    /// The tall family (gram or lstsq), or nil for attention.
    public var tallKind: TallProblem? {
        switch self {
        case .gram: return .gram
        case .lstsq: return .lstsq
        case .attention: return nil
        }
    }

    /// j for gram and lstsq; nil for attention.
    public var power: Int? {
        switch self {
        case .gram(let j), .lstsq(let j): return j
        case .attention: return nil
        }
    }

    /// λ for attention; nil otherwise.
    public var ridge: Double? {
        if case .attention(let lambda) = self { return lambda }
        return nil
    }

    /// The tall problem of `kind` with power j.
    public static func tall(_ kind: TallProblem, power j: Int) -> Problem {
        kind == .gram ? .gram(power: j) : .lstsq(power: j)
    }

    /// Checks j's range (gram 1…64, lstsq 0…64) and λ (finite, ≥ 0).
    public func validate() throws(TesseraError) {
        switch self {
        case .gram(let j), .lstsq(let j):
            let minimum = self.tallKind == .gram ? 1 : 0
            guard j >= minimum, j <= maximumPower else {
                throw .invalidArgument("--power must lie in \(minimum)...\(maximumPower) for \(name) (got \(j))")
            }
        case .attention(let lambda):
            guard lambda >= 0, lambda.isFinite else { throw .invalidArgument("--ridge must be a finite number ≥ 0 (got \(lambda))") }
        }
    }

    /// Checks that `shape` is a matrix's, whatever the problem: 2-D with n, d ≥ 1 (`.invalidInput`).
    public static func checkMatrix(_ shape: [Int], source: String = "A") throws(TesseraError) {
        let text = Format.shape(shape)
        guard shape.count == 2 else { throw .invalidInput("\(source) has shape \(text); A must be 2-D (n, d)") }
        guard shape[0] >= 1, shape[1] >= 1 else {
            throw .invalidInput("\(source) has shape \(text); A needs at least one row and one column")
        }
    }

    /// Checks the shape of A (`source` names it in messages): 2-D with n, d ≥ 1, and n ≥ d for the
    /// tall problems. Throws `.invalidInput`.
    public func checkMatrixShape(_ shape: [Int], source: String = "A") throws(TesseraError) {
        try Self.checkMatrix(shape, source: source)
        if tallKind != nil && shape[0] < shape[1] {
            throw .invalidInput("\(source) has \(shape[0]) rows and \(shape[1]) columns; Tessera needs n ≥ d (a tall matrix)")
        }
    }

    /// The length of b for A of n × d: d for gram, n otherwise.
    public func rightHandSideLength(rows n: Int, cols d: Int) -> Int { tallKind == .gram ? d : n }

    /// The length of x: d for gram and lstsq, n for attention.
    public func solutionLength(rows n: Int, cols d: Int) -> Int { tallKind == nil ? n : d }

    /// What that length is, in words, for messages.
    var rightHandSideMeaning: String { tallKind == .gram ? "d (the columns of A)" : "n (the rows of A)" }
}

/// The tall problem kinds (gram and lstsq), for A ∈ ℝ^{n×d}, n ≥ d.
public enum TallProblem: String, Sendable, CaseIterable {
    case gram, lstsq
}

/// The largest power Tessera accepts: beyond it (AᵀA)^j under/overflows for any useful A.
public let maximumPower = 64
