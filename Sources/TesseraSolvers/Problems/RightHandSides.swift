import TesseraCore

/// The right-hand sides of a request, validated once: a vector b, or the columns of a 2-D array
/// (one solve per column), each of the length the problem needs and all finite.
///
/// Built from values as a file or a caller holds them (`shape`, row-major unless
/// `columnMajor`); `source` names them in messages. Throws `.invalidInput` for a non-finite entry
/// (by flat index), a wrong length, an empty block, or a shape that is neither 1-D nor 2-D. A
/// solver given a `RightHandSides` checks only that the columns have its length (values built
/// for another problem or shape are refused, never read out of bounds). Cost: one pass over the
/// values, and a copy per column.
public struct RightHandSides: Sendable {
    /// One array per right-hand side.
    public let columns: [[Double]]
    /// True when the values came as a 2-D array (the solutions are written the same way).
    public let isMatrix: Bool
    /// Warm starts, one per column (nil: none): the iterative methods start there instead of
    /// at their own first guess (exact factors have nothing to iterate and ignore them).
    public private(set) var starts: [[Double]]? = nil

    public init(values: [Double], shape: [Int], columnMajor: Bool = false, source: String = "b",
                problem: Problem, rows n: Int, cols d: Int) throws(TesseraError) {
        let expected = problem.rightHandSideLength(rows: n, cols: d), what = problem.rightHandSideMeaning
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw .invalidInput("\(source) holds a non-finite value at flat index \(bad); remove or replace NaN/Inf entries")
        }
        let text = Format.shape(shape)
        switch shape.count {
        case 1:
            guard shape[0] == expected, values.count == expected else {
                throw .invalidInput("\(source) has \(shape[0]) entries; \(problem.name) needs \(what) = \(expected)")
            }
            columns = [values]
            isMatrix = false
        case 2:
            let (m, k) = (shape[0], shape[1])
            let (count, overflow) = m.multipliedReportingOverflow(by: k)
            guard k >= 1 else {
                throw .invalidInput("\(source) has shape \(text): no right-hand side (0 columns); give at least one column")
            }
            guard m == expected, !overflow, values.count == count else {
                throw .invalidInput("\(source) has shape \(text); \(problem.name) needs \(what) = \(expected) rows")
            }
            columns = (0..<k).map { c in (0..<m).map { r in columnMajor ? values[r + c * m] : values[r * k + c] } }
            isMatrix = true
        default:
            throw .invalidInput("\(source) has shape \(text); b must be a vector or a 2-D array of columns")
        }
    }

    /// Refuses columns whose length is not `length` (values validated for another problem or
    /// shape), before any of them is read.
    func requireLength(_ length: Int) throws(TesseraError) {
        guard !columns.isEmpty else { throw .invalidInput("the block of right-hand sides is empty; give at least one b") }
        if let bad = columns.first(where: { $0.count != length }) {
            throw .invalidArgument("a right-hand side has \(bad.count) entries; this solver needs \(length)")
        }
    }

    /// One vector b, checked as `init(values:shape:…)` would.
    public init(vector b: [Double], problem: Problem, rows n: Int, cols d: Int) throws(TesseraError) {
        try self.init(values: b, shape: [b.count], problem: problem, rows: n, cols: d)
    }

    /// The same right-hand sides with a warm start per column, each of the solution's length
    /// (`problem.solutionLength`) and finite. Throws `.invalidInput` otherwise.
    public func withStarts(_ guesses: [[Double]], problem: Problem, rows n: Int, cols d: Int) throws(TesseraError) -> RightHandSides {
        let length = problem.solutionLength(rows: n, cols: d)
        guard guesses.count == columns.count else {
            throw .invalidInput("\(guesses.count) warm starts for \(columns.count) right-hand sides; give one per column")
        }
        for (k, x0) in guesses.enumerated() {
            guard x0.count == length else { throw .invalidInput("warm start \(k) has \(x0.count) entries; x has \(length)") }
            if let bad = x0.firstIndex(where: { !$0.isFinite }) {
                throw .invalidInput("warm start \(k) holds a non-finite value at index \(bad); remove or replace NaN/Inf entries")
            }
        }
        var copy = self
        copy.starts = guesses
        return copy
    }

    /// Several vectors (at least one), each checked.
    public init(block: [[Double]], problem: Problem, rows n: Int, cols d: Int) throws(TesseraError) {
        guard !block.isEmpty else { throw .invalidInput("the block of right-hand sides is empty; give at least one b") }
        var checked: [[Double]] = []
        for b in block { checked += try RightHandSides(vector: b, problem: problem, rows: n, cols: d).columns }
        columns = checked
        isMatrix = block.count > 1
    }
}
