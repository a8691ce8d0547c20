import TesseraCore

/// How many kernel products an attention solve ran, of which kind, and their wall time — the
/// figures behind "time per product" in the report (`SolveReport.kernelProducts`). Shared by a
/// `KernelOperator` and the operators derived from it (`storing()`, `inSinglePrecision()`);
/// recording costs one lock per product. Thread-safe; never throws.
public final class ProductLedger: Sendable {
    /// The kinds of product, as the report names them.
    public enum Kind: String, Sendable, CaseIterable, Comparable {
        /// Exact, over tile pairs with float64 panels (n²d flops, n²/2 exps).
        case onTheFly = "float64 on the fly"
        /// Exact, one pass over the stored upper triangle.
        case stored = "float64 stored"
        /// K̃ with float32 panels (mixed precision's inner products).
        case singlePanels = "float32 panels"

        public static func < (a: Kind, b: Kind) -> Bool { a.rawValue < b.rawValue }
    }

    /// Products of one kind: how many and their total seconds.
    public struct Tally: Sendable, Equatable {
        public var count = 0
        public var seconds = 0.0
    }

    private let tallies = Locked<[Kind: Tally]>([:])

    public init() {}

    func record(_ kind: Kind, seconds: Double) {
        tallies.withLock { $0[kind, default: Tally()].count += 1; $0[kind, default: Tally()].seconds += seconds }
    }

    /// The tallies so far.
    public func snapshot() -> [Kind: Tally] { tallies.withLock { $0 } }

    /// What happened between two snapshots (kinds with no product left out).
    public static func difference(_ after: [Kind: Tally], _ before: [Kind: Tally]) -> [Kind: Tally] {
        var out: [Kind: Tally] = [:]
        for (kind, tally) in after {
            let earlier = before[kind] ?? Tally()
            if tally.count > earlier.count {
                out[kind] = Tally(count: tally.count - earlier.count, seconds: tally.seconds - earlier.seconds)
            }
        }
        return out
    }
}
