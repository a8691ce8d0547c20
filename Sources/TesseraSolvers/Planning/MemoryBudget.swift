import TesseraCore
import TesseraPlatform

/// What a solve may allocate, and the check that refuses a plan over it before any work starts.
///
/// The default is 60% of the memory the system reports available (`MemAvailable`, bounded by
/// the cgroup limit; 8 GiB when neither can be read). Estimates count Tessera's own allocations
/// (the tiled copy of A, factors, stored kernels, work vectors), not the memory-mapped input.
public struct MemoryBudget: Sendable, Equatable {
    public let bytes: UInt64
    /// True when no budget was given and the default fraction of available memory applies.
    public let isDefault: Bool

    public init(bytes: UInt64) {
        self.bytes = bytes
        isDefault = false
    }

    private init(defaultBytes: UInt64) {
        bytes = defaultBytes
        isDefault = true
    }

    /// 60% of available memory.
    public static func systemDefault() -> MemoryBudget {
        MemoryBudget(defaultBytes: UInt64(Double(MachineProfile.availableMemoryBytes() ?? (8 << 30)) * 0.6))
    }

    /// `bytes` when given, else the system default.
    public static func resolve(_ bytes: UInt64?) -> MemoryBudget { bytes.map(MemoryBudget.init(bytes:)) ?? .systemDefault() }

    /// Throws `resourceLimit` when `needed` exceeds the budget; `what` names the plan and
    /// `advice` says what to change.
    public func require(_ needed: UInt64, for what: String, advice: String) throws(TesseraError) {
        guard needed > bytes else { return }
        let source = isDefault ? "the default budget (60% of available memory)" : "the memory budget"
        throw .resourceLimit("\(what) needs about \(Format.bytes(needed)), over \(source) of \(Format.bytes(bytes)); \(advice)")
    }
}
