import CHwloc
import TesseraCore
#if canImport(Glibc)
import Glibc
#endif

/// A block of `Double`s whose pages are requested from one NUMA domain.
///
/// On a machine with several real domains the block comes from `hwloc_alloc_membind` with the
/// domain's nodeset and `HWLOC_MEMBIND_BIND` (falling back to ordinary memory, recorded in
/// `placement`, if the kernel refuses); elsewhere from 64-byte-aligned `posix_memalign`. The
/// requested domain is kept, so tests can check placement decisions on synthetic machines.
///
/// Invariant: the block is owned by exactly one `PlacedMemory` and freed in its `deinit`; it is
/// `@unchecked Sendable` because concurrent writers touch disjoint ranges, which the task graph
/// guarantees (one writer per tile handle).
public final class PlacedMemory: @unchecked Sendable {
    public enum Placement: Sendable, Equatable {
        /// Bound to the domain with hwloc.
        case bound
        /// Ordinary memory: one domain, a synthetic topology, or a refused binding.
        case unbound
    }

    public let count: Int
    public let requestedDomain: Int
    public let placement: Placement
    public let baseAddress: UnsafeMutablePointer<Double>
    private let topology: HwlocTopology
    private let byteCount: Int

    /// Allocates `count` doubles requested from `domain`, zeroed unless `zeroed` is false (for a
    /// block its first task overwrites whole: its pages are then first touched by that task, in
    /// parallel and on its domain, instead of by a serial memset here). Throws `resourceLimit`
    /// when the size overflows or the system has no memory for it.
    public init(count: Int, domain: Int, profile: MachineProfile, zeroed: Bool = true) throws(TesseraError) {
        let bytes = try Checked.multiply(max(count, 1), MemoryLayout<Double>.stride, "allocation of \(count) doubles")
        self.count = count
        self.byteCount = bytes
        self.requestedDomain = domain
        self.topology = profile.topology
        if profile.placementMatters, let node = profile.topology.numaNode(domain),
           let raw = hwloc_alloc_membind(profile.topology.handle, bytes, node.pointee.nodeset,
                                         HWLOC_MEMBIND_BIND, Int32(HWLOC_MEMBIND_BYNODESET.rawValue)) {
            baseAddress = raw.bindMemory(to: Double.self, capacity: max(count, 1))
            placement = .bound
        } else {
            var raw: UnsafeMutableRawPointer?
            let alignment = bytes >= Self.hugePageBytes ? Self.hugePageBytes : 64
            guard posix_memalign(&raw, alignment, bytes) == 0, let raw else {
                throw .resourceLimit("could not allocate \(bytes) bytes; reduce the problem size or free memory")
            }
            baseAddress = raw.bindMemory(to: Double.self, capacity: max(count, 1))
            placement = .unbound
        }
        if bytes >= Self.hugePageAdviceBytes {
            // Transparent huge pages (where the kernel allows them on request): a stored 20,000²
            // kernel is then 1,600 faults instead of 800,000, which cost ~10 s in a VM. Not for
            // smaller blocks (Gram partials, panel scratch): in the same VM a fresh huge page
            // took 4–10× longer to fault than 512 recycled small ones (64 MiB: 0.12–0.33 s
            // against 0.02–0.05 s), for no gain in blocks read a few times.
            _ = madvise(UnsafeMutableRawPointer(baseAddress), bytes, MADV_HUGEPAGE)
        }
        if zeroed { baseAddress.initialize(repeating: 0, count: max(count, 1)) }
    }

    /// Blocks at least this large are 2 MiB-aligned (a huge page's alignment).
    static let hugePageBytes = 2 << 20
    /// Blocks at least this large are advised for transparent huge pages (128 MiB: stored
    /// kernels, low-rank factors, tiles of large matrices).
    static let hugePageAdviceBytes = 128 << 20

    deinit {
        switch placement {
        case .bound: hwloc_free(topology.handle, UnsafeMutableRawPointer(baseAddress), byteCount)
        case .unbound: free(UnsafeMutableRawPointer(baseAddress))
        }
    }

    /// The logical NUMA domains holding this block's pages now (touched pages only), via
    /// `hwloc_get_area_memlocation`; empty when the system cannot say.
    public func residentDomains(profile: MachineProfile) -> [Int] {
        guard !profile.isSynthetic, let set = hwloc_bitmap_alloc() else { return [] }
        defer { hwloc_bitmap_free(set) }
        guard hwloc_get_area_memlocation(profile.topology.handle, UnsafeRawPointer(baseAddress), byteCount, set,
                                         Int32(HWLOC_MEMBIND_BYNODESET.rawValue)) == 0 else { return [] }
        return profile.domains.filter { domain in
            guard let node = profile.topology.numaNode(domain.index) else { return false }
            return hwloc_bitmap_isset(set, node.pointee.os_index) != 0
        }.map(\.index)
    }
}
