import TesseraCore
#if canImport(Glibc)
import Glibc
#endif

/// A whole file mapped read-only into memory (`mmap`, `MAP_PRIVATE`).
///
/// Its pages are read when they are first touched, possibly long after `init` (during a solve).
/// If another process truncates the file meanwhile, that read faults with SIGBUS, which would
/// end the process; so every mapping is registered in `MappedRegions` while it lives, and the
/// CLI's SIGBUS handler turns such a fault into a one-line error naming the file (exit 2,
/// nothing written). A library caller without such a handler gets the default: the process dies.
///
/// Invariant (why `@unchecked Sendable` is sound): the mapping is never written through and is
/// unmapped only in `deinit`, so any number of threads may read it while the object lives.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let byteCount: Int
    private let base: UnsafeRawPointer?

    /// A file type in words, for messages.
    static func kind(of mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: return "a directory"
        case S_IFIFO: return "a FIFO"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        default: return "a special file"
        }
    }

    /// Maps `path`. Throws `io` with the system's reason when it cannot be opened or mapped.
    public init(path: String) throws(TesseraError) {
        self.path = path
        // O_NONBLOCK: opening a FIFO with no writer would otherwise block forever; the type is
        // checked right after, so no special file is ever read.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw .io("cannot read \(path): \(SystemError.text(errno))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .io("cannot read \(path): \(SystemError.text(errno))") }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw .io("cannot read \(path): it is \(Self.kind(of: info.st_mode)), not a regular file; give a .npy file")
        }
        byteCount = Int(info.st_size)
        if byteCount == 0 {
            base = nil
            return
        }
        let p = mmap(nil, byteCount, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else { throw .io("cannot map \(path): \(SystemError.text(errno))") }
        base = UnsafeRawPointer(p)
        MappedRegions.register(base: UnsafeRawPointer(p), byteCount: byteCount, path: path)
    }

    deinit {
        guard let base else { return }
        MappedRegions.unregister(base: base)
        munmap(UnsafeMutableRawPointer(mutating: base), byteCount)
    }

    /// The bytes of the file.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: byteCount) }

    /// Tells the kernel the mapping will be read in order (larger read-ahead, pages freed sooner).
    public func adviseSequential() {
        guard let base else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base), byteCount, MADV_SEQUENTIAL)
    }

    /// Drops the whole pages inside `range` (bytes) from this process's resident memory: the
    /// mapping is read-only and private, so nothing is lost (a later read faults the page in
    /// again from the file or the page cache). Used once a block of rows has been copied.
    public func dropPages(_ range: Range<Int>) {
        guard let base, !range.isEmpty else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard page > 0 else { return }
        let first = (max(0, range.lowerBound) + page - 1) / page * page
        let last = min(byteCount, range.upperBound) / page * page
        guard last > first else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base + first), last - first, MADV_DONTNEED)
    }
}

/// The text of a C `errno`.
enum SystemError {
    static func text(_ code: Int32) -> String {
        guard let s = strerror(code) else { return "error \(code)" }
        return String(cString: s)
    }
}
