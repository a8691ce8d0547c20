import CHwloc
import TesseraCore

/// Binds the calling thread to the cores of one NUMA domain and later restores its previous
/// CPU mask. Dispatch reuses pool threads, so a binding must never outlive the work it was made
/// for: the scheduler binds a worker when it starts draining a domain's queue and restores the
/// mask before giving the thread back. On a single-domain or synthetic machine it does nothing.
public struct ThreadBinding: ~Copyable {
    private let topology: HwlocTopology
    private let previous: hwloc_cpuset_t?

    /// Binds the current thread to `domain` of `profile` when placement matters; otherwise a no-op.
    public init(domain: Int, profile: MachineProfile) {
        topology = profile.topology
        guard profile.placementMatters, let node = profile.topology.numaNode(domain),
              let saved = hwloc_bitmap_alloc() else {
            previous = nil
            return
        }
        let flags = Int32(HWLOC_CPUBIND_THREAD.rawValue)
        if hwloc_get_cpubind(profile.topology.handle, saved, flags) == 0,
           hwloc_set_cpubind(profile.topology.handle, node.pointee.cpuset, flags) == 0 {
            previous = saved
        } else {
            hwloc_bitmap_free(saved)
            previous = nil
        }
    }

    /// Whether this binding changed the thread's mask (and will restore it).
    public var isActive: Bool { previous != nil }

    deinit {
        if let previous {
            _ = hwloc_set_cpubind(topology.handle, previous, Int32(HWLOC_CPUBIND_THREAD.rawValue))
            hwloc_bitmap_free(previous)
        }
    }
}
