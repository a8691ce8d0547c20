/// Wall-clock seconds of a solve's phases: sketch (SA), factor (the preconditioner or exact
/// factor, with its named steps), iterate, verify (the independent accuracy pass), and their sum.
/// A phase that did not run is nil.
public struct PhaseTimes: Sendable, Equatable {
    /// The named steps inside the factor phase (attention: storing K, the low-rank factor, …).
    public enum FactorStep: String, Sendable, CaseIterable, Comparable {
        case cholesky
        case features
        case lowRank = "low-rank"
        case storeKernel = "store-kernel"
        case roundToSingle = "round-to-float32"
        case woodbury

        public static func < (a: FactorStep, b: FactorStep) -> Bool { a.rawValue < b.rawValue }
    }

    public var sketch: Double?
    public var factor: Double?
    public var factorSteps: [FactorStep: Double] = [:]
    public var iterate: Double?
    public var verify: Double?

    public init(sketch: Double? = nil, factor: Double? = nil) {
        self.sketch = sketch
        self.factor = factor
    }

    /// sketch + factor + iterate + verify (phases that did not run count 0).
    public var total: Double { [sketch, factor, iterate, verify].reduce(0) { $0 + ($1 ?? 0) } }

    /// Adds `seconds` to the iterate phase.
    mutating func addIterate(_ seconds: Double) { iterate = (iterate ?? 0) + seconds }

    /// Adds `seconds` to the verify phase.
    mutating func addVerify(_ seconds: Double) { verify = (verify ?? 0) + seconds }
}
