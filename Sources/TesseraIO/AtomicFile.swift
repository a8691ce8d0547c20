import TesseraCore
#if canImport(Glibc)
import Glibc
#endif

/// Writes a file all-or-nothing: the bytes go to a temporary file in the destination's
/// directory, are flushed to disk (`fsync`), and the temporary is renamed over the destination.
/// On any failure the temporary is removed and the destination is left as it was.
public enum AtomicFile {
    /// Writes `chunks` in order to `path`. Throws `io` naming the path and the system's reason.
    public static func write(_ chunks: [[UInt8]], to path: String) throws(TesseraError) {
        let directory = Self.directory(of: path)
        var dirInfo = stat()
        guard stat(directory, &dirInfo) == 0, (dirInfo.st_mode & S_IFMT) == S_IFDIR else {
            throw .io("cannot write \(path): directory \(directory) does not exist")
        }
        var template = Array((path + ".tmp-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw .io("cannot write \(path): \(SystemError.text(errno))") }
        let temporary = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var failure: TesseraError?
        for chunk in chunks where failure == nil {
            failure = chunk.withUnsafeBytes { Self.writeAll(fd, $0, path: path) }
        }
        if failure == nil, fsync(fd) != 0 { failure = .io("cannot write \(path): \(SystemError.text(errno))") }
        if close(fd) != 0, failure == nil { failure = .io("cannot write \(path): \(SystemError.text(errno))") }
        if failure == nil, rename(temporary, path) != 0 {
            failure = .io("cannot write \(path): \(SystemError.text(errno))")
        }
        if let failure {
            unlink(temporary)
            throw failure
        }
    }

    /// Writes UTF-8 text atomically.
    public static func write(text: String, to path: String) throws(TesseraError) {
        try write([Array(text.utf8)], to: path)
    }

    /// Writes every byte of `bytes` to `fd`, retrying short writes; the error, if any.
    private static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) -> TesseraError? {
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
