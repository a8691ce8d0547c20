import TesseraCore
#if canImport(Glibc)
import Glibc
#endif

/// Writes a file all-or-nothing: the bytes go to a temporary file in the destination's
/// directory, are flushed to disk (`fsync`), and the temporary is renamed over the destination.
/// On any failure the temporary is removed and the destination is left as it was.
///
/// While it exists the temporary is registered with `TemporaryFiles`, so a signal watchdog that
/// has to end the process removes it; a stop requested before the rename discards it.
///
/// A destination that exists and is not a regular file is never replaced: a character device
/// or FIFO (`/dev/null`, `/dev/full`, a pipe) is written in place — a write error such as
/// "no space left on device" is reported — and anything else (a directory, a socket) is refused.
public enum AtomicFile {
    /// Writes `chunks` in order to `path`. Throws `io` naming the path and the system's reason.
    public static func write(_ chunks: [[UInt8]], to path: String) throws(TesseraError) {
        let group = AtomicFileGroup()
        try group.stage(chunks, to: path)
        try group.commit()
    }

    /// Writes UTF-8 text atomically.
    public static func write(text: String, to path: String) throws(TesseraError) {
        try write([Array(text.utf8)], to: path)
    }

    /// Writes every byte of `bytes` to `fd`, retrying short writes; the error, if any.
    /// 0666 less the process umask (read once: umask can only be read by setting it).
    static let creationMode: mode_t = {
        let mask = umask(0o022)
        umask(mask)
        return 0o666 & ~mask
    }()

    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) -> TesseraError? {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                return .io("cannot write \(path): \(SystemError.text(errno))")
            }
            offset += n
        }
        return nil
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let dir = String(path[..<slash])
        return dir.isEmpty ? "/" : dir
    }
}

/// Several output files written all-or-nothing, e.g. x.npy with its report: `stage` writes and
/// flushes each file to a temporary beside its destination; `commit` renames them all into
/// place once every one was written. If a stage fails, or the group is dropped without
/// `commit`, or a stop (SIGINT/SIGTERM) is pending at commit, every temporary is removed and no
/// destination changes. Not thread-safe: one group per writer.
public final class AtomicFileGroup {
    private var staged: [(temporary: String, path: String)] = []

    public init() {}

    deinit { discard() }

    /// Writes `chunks` to a temporary for `path` (devices and FIFOs are written in place).
    public func stage(_ chunks: [[UInt8]], to path: String) throws(TesseraError) {
        do throws(TesseraError) { try stageOne(chunks, to: path) } catch {
            discard()
            throw error
        }
    }

    /// Stages UTF-8 text.
    public func stage(text: String, to path: String) throws(TesseraError) { try stage([Array(text.utf8)], to: path) }

    /// Renames every staged temporary into place.
    public func commit() throws(TesseraError) {
        if let signal = Interruption.pendingSignal {
            discard()
            throw .interrupted(signal: signal)
        }
        for (k, entry) in staged.enumerated() where rename(entry.temporary, entry.path) != 0 {
            let failure = TesseraError.io("cannot write \(entry.path): \(SystemError.text(errno))")
            for done in staged[..<k] { TemporaryFiles.untrack(done.temporary) }
            staged.removeFirst(k)
            discard()
            throw failure
        }
        for entry in staged { TemporaryFiles.untrack(entry.temporary) }
        staged = []
    }

    private func discard() {
        for entry in staged {
            unlink(entry.temporary)
            TemporaryFiles.untrack(entry.temporary)
        }
        staged = []
    }

    private func stageOne(_ chunks: [[UInt8]], to path: String) throws(TesseraError) {
        let directory = AtomicFile.directory(of: path)
        var dirInfo = stat()
        guard stat(directory, &dirInfo) == 0, (dirInfo.st_mode & S_IFMT) == S_IFDIR else {
            throw .io("cannot write \(path): directory \(directory) does not exist")
        }
        guard !staged.contains(where: { $0.path == path }) else { throw .invalidArgument("\(path) is named as two outputs; choose distinct paths") }
        var target = stat()
        if stat(path, &target) == 0, (target.st_mode & S_IFMT) != S_IFREG {
            return try Self.writeInPlace(chunks, to: path, mode: target.st_mode & S_IFMT)
        }
        try Interruption.check()
        var template = Array((path + ".tmp-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw .io("cannot write \(path): \(SystemError.text(errno))") }
        let temporary = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        TemporaryFiles.track(temporary)
        var failure: TesseraError?
        // mkstemp makes the file 0600; give it the mode a plain create would (0666 less the umask).
        if fchmod(fd, AtomicFile.creationMode) != 0 { failure = .io("cannot write \(path): \(SystemError.text(errno))") }
        for chunk in chunks where failure == nil {
            failure = chunk.withUnsafeBytes { AtomicFile.writeAll(fd, $0, path: path) }
        }
        if failure == nil, fsync(fd) != 0 { failure = .io("cannot write \(path): \(SystemError.text(errno))") }
        if close(fd) != 0, failure == nil { failure = .io("cannot write \(path): \(SystemError.text(errno))") }
        if let failure {
            unlink(temporary)
            TemporaryFiles.untrack(temporary)
            throw failure
        }
        staged.append((temporary, path))
    }

    /// Streams into an existing device or FIFO (no temporary: it cannot be renamed over).
    private static func writeInPlace(_ chunks: [[UInt8]], to path: String, mode: mode_t) throws(TesseraError) {
        guard mode == S_IFCHR || mode == S_IFIFO else {
            throw .io("cannot write \(path): it exists and is not a regular file\(mode == S_IFDIR ? " (a directory)" : ""); choose a file path")
        }
        try Interruption.check()
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io("cannot write \(path): \(SystemError.text(errno))") }
        var failure: TesseraError?
        for chunk in chunks where failure == nil {
            failure = chunk.withUnsafeBytes { AtomicFile.writeAll(fd, $0, path: path) }
        }
        if close(fd) != 0, failure == nil { failure = .io("cannot write \(path): \(SystemError.text(errno))") }
        if let failure { throw failure }
    }

}
