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

    /// 0666 less the process umask (read once: umask can only be read by setting it).
    static let creationMode: mode_t = {
        let mask = umask(0o022)
        umask(mask)
        return 0o666 & ~mask
    }()

    /// Writes every byte of `bytes` to `fd`, retrying short writes; the error, if any.
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
