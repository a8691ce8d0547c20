import CHwloc
import TesseraCore
#if canImport(Glibc)
import Glibc
#endif

/// One NUMA domain: the unit of thread and memory placement.
public struct NUMADomain: Sendable, Hashable {
    /// Logical index (0 ..< domainCount), the index Tessera uses everywhere.
    public let index: Int
    /// The operating system's node number.
    public let osIndex: Int
    /// Physical cores whose memory is local to this domain.
    public let coreCount: Int
    /// Hardware threads (PUs) of this domain.
    public let processingUnitCount: Int
    /// Memory local to this domain, in bytes (0 when unknown).
    public let localMemoryBytes: UInt64
}

/// Cache sizes in bytes (0 when hwloc reports none), taken from the first cache of each level.
public struct CacheSizes: Sendable, Hashable {
    public let l1d: Int
    public let l2: Int
    public let l3: Int

    public init(l1d: Int, l2: Int, l3: Int) {
        self.l1d = l1d
        self.l2 = l2
        self.l3 = l3
    }
}

/// The machine as placement sees it: NUMA domains with their cores, cache sizes, and the hwloc
/// topology used to bind threads and memory. Built from the real machine (`current()`) or from a
/// synthetic description (`synthetic(_:)`), so placement logic can be tested anywhere.
public struct MachineProfile: Sendable {
    public let domains: [NUMADomain]
    public let caches: CacheSizes
    public let topology: HwlocTopology

    public var isSynthetic: Bool { topology.isSynthetic }
    public var domainCount: Int { domains.count }
    public var coreCount: Int { domains.reduce(0) { $0 + $1.coreCount } }

    /// True when binding threads or memory can make a difference: several real domains.
    public var placementMatters: Bool { !isSynthetic && domains.count > 1 }

    /// The machine this process runs on.
    public static func current() throws(TesseraError) -> MachineProfile {
        try MachineProfile(topology: HwlocTopology())
    }

    /// A synthetic machine, e.g. `"pack:2 numa:2 core:4 pu:1"` (4 domains of 4 cores).
    public static func synthetic(_ description: String) throws(TesseraError) -> MachineProfile {
        try MachineProfile(topology: HwlocTopology(synthetic: description))
    }

    public init(topology: HwlocTopology) throws(TesseraError) {
        self.topology = topology
        var found: [NUMADomain] = []
        let nodes = topology.count(HWLOC_OBJ_NUMANODE)
        for i in 0..<nodes {
            guard let node = topology.numaNode(i) else { continue }
            let set = node.pointee.cpuset
            let cores = Int(hwloc_get_nbobjs_inside_cpuset_by_type(topology.handle, set, HWLOC_OBJ_CORE))
            let pus = Int(hwloc_get_nbobjs_inside_cpuset_by_type(topology.handle, set, HWLOC_OBJ_PU))
            let memory = node.pointee.attr?.pointee.numanode.local_memory ?? 0
            found.append(NUMADomain(index: i, osIndex: Int(node.pointee.os_index),
                                    coreCount: max(1, cores), processingUnitCount: max(1, pus),
                                    localMemoryBytes: memory))
        }
        if found.isEmpty {
            let pus = max(1, topology.count(HWLOC_OBJ_PU))
            let cores = max(1, topology.count(HWLOC_OBJ_CORE))
            found = [NUMADomain(index: 0, osIndex: 0, coreCount: cores, processingUnitCount: pus, localMemoryBytes: 0)]
        }
        domains = found
        caches = CacheSizes(l1d: Self.cacheSize(topology, HWLOC_OBJ_L1CACHE),
                            l2: Self.cacheSize(topology, HWLOC_OBJ_L2CACHE),
                            l3: Self.cacheSize(topology, HWLOC_OBJ_L3CACHE))
    }

    static func cacheSize(_ t: HwlocTopology, _ type: hwloc_obj_type_t) -> Int {
        guard t.count(type) > 0, let obj = t.object(type, 0) else { return 0 }
        return Int(obj.pointee.attr?.pointee.cache.size ?? 0)
    }

    /// Memory the system reports as available now (`MemAvailable` of /proc/meminfo), in bytes;
    /// nil where it cannot be read.
    public static func availableMemoryBytes() -> UInt64? {
        guard let f = fopen("/proc/meminfo", "r") else { return nil }
        defer { fclose(f) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), f) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if text.hasPrefix("MemAvailable:") {
                let digits = text.filter(\.isNumber)
                if let kb = UInt64(digits) { return kb * 1024 }
            }
        }
        return nil
    }
}
