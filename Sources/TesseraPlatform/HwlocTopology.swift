import CHwloc
import TesseraCore

/// Owner of one loaded hwloc topology (`hwloc_topology_t`), real or synthetic.
///
/// Invariant: the topology is loaded once in `init` and never modified afterwards; hwloc
/// documents concurrent read-only queries, binding and allocation calls on a loaded topology as
/// thread-safe, which is what makes this class `@unchecked Sendable`. The raw handle never
/// leaves this module.
public final class HwlocTopology: @unchecked Sendable {
    let handle: hwloc_topology_t
    /// True for a topology built from a synthetic description: it describes no real hardware,
    /// so binding threads or memory to it is never attempted.
    public let isSynthetic: Bool

    /// Loads the topology of the machine this process runs on.
    public convenience init() throws(TesseraError) { try self.init(synthetic: nil) }

    /// Loads a synthetic topology such as `"pack:2 numa:2 core:4 pu:1"` (hwloc's synthetic
    /// syntax), or the real machine when `description` is nil.
    public init(synthetic description: String?) throws(TesseraError) {
        var topo: hwloc_topology_t?
        guard hwloc_topology_init(&topo) == 0, let t = topo else {
            throw .internalFailure("hwloc_topology_init failed")
        }
        if let description {
            guard hwloc_topology_set_synthetic(t, description) == 0 else {
                hwloc_topology_destroy(t)
                throw .invalidArgument("invalid synthetic topology \"\(description)\"; example: \"pack:2 numa:2 core:4 pu:1\"")
            }
        }
        guard hwloc_topology_load(t) == 0 else {
            hwloc_topology_destroy(t)
            throw .internalFailure("hwloc_topology_load failed")
        }
        handle = t
        isSynthetic = description != nil
    }

    deinit { hwloc_topology_destroy(handle) }

    /// Number of objects of a type.
    func count(_ type: hwloc_obj_type_t) -> Int { Int(hwloc_get_nbobjs_by_type(handle, type)) }

    /// The i-th object of a type.
    func object(_ type: hwloc_obj_type_t, _ i: Int) -> hwloc_obj_t? {
        hwloc_get_obj_by_type(handle, type, UInt32(i))
    }

    /// The NUMA node object for domain `i` (domains are NUMA nodes in logical order).
    func numaNode(_ i: Int) -> hwloc_obj_t? { object(HWLOC_OBJ_NUMANODE, i) }
}
