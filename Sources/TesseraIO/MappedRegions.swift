import TesseraCore
#if canImport(Glibc)
import Glibc
#endif

/// The file mappings alive in this process (every `MappedFile`), by address range, so that a
/// program that catches SIGBUS — the fault of a read from a mapped file that another process
/// truncated — can name the file. The CLI's watchdog asks `path(containing:)` with the fault's
/// address (`Sources/tessera`); the library itself installs no handler.
///
/// A range is [base, base + size rounded up to whole pages): a read past the new end of a
/// truncated file faults anywhere in the pages the mapping had. Thread-safe (one lock); cost
/// O(1) to register or remove, O(k) to look up among k mappings. Throws nothing.
public enum MappedRegions {
    private struct Region {
        let end: UInt
        let path: String
    }

    private static let regions = Locked<[UInt: Region]>([:])

    /// Records the mapping of `path` at `base` (`byteCount` bytes).
    static func register(base: UnsafeRawPointer, byteCount: Int, path: String) {
        let page = max(1, Int(sysconf(Int32(_SC_PAGESIZE))))
        let start = UInt(bitPattern: base), length = UInt((byteCount + page - 1) / page * page)
        regions.withLock { $0[start] = Region(end: start + length, path: path) }
    }

    /// Forgets the mapping at `base` (about to be unmapped).
    static func unregister(base: UnsafeRawPointer) {
        _ = regions.withLock { $0.removeValue(forKey: UInt(bitPattern: base)) }
    }

    /// The path of the mapped file whose pages hold `address`, or nil.
    public static func path(containing address: UInt) -> String? {
        regions.withLock { all in all.first { address >= $0.key && address < $0.value.end }?.value.path }
    }
}
