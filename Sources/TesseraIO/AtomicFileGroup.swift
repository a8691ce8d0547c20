import TesseraCore
#if canImport(Glibc)
import Glibc
#endif

/// Several output files written all-or-nothing, e.g. x.npy with its report, or A.npy, b.npy and
/// x_true.npy: each `stage` writes and flushes one file to a temporary beside its destination;
/// `commit` renames them all into place once every one was written. If a stage fails, or the
/// group is dropped without `commit`, or a stop (SIGINT/SIGTERM) is pending at commit, every
/// temporary is removed and no destination changes.
///
/// A file is staged either from bytes in memory (`stage(_:to:)`) or streamed
/// (`stage(path:_:)`): the body receives a `StreamedFile` and writes it in pieces at their
/// offsets, from any number of tasks, so a file larger than memory (a generated A) is never held
/// whole. Either way the temporary is registered with `TemporaryFiles` from its creation to its
/// rename or removal, so a watchdog that has to end the process removes it.
///
/// A destination that exists and is not a regular file is never replaced: a character device
/// (`/dev/null`, `/dev/full`) is written in place and its write errors (“No space left on
/// device”) are reported; a FIFO is written in place by `stage(_:to:)` and refused by the streamed
/// stage (its pieces need offsets); anything else (a directory, a socket) is refused. Errors are
/// `io` naming the destination and the system's reason, or `invalidArgument` for a path staged
/// twice. Not thread-safe: one group per writer (the `StreamedFile` a stage hands out is).
public final class AtomicFileGroup {
    private var staged: [(temporary: String, path: String)] = []

    public init() {}

    deinit { discard() }

    /// Writes `chunks` one after the other to a temporary for `path`.
    public func stage(_ chunks: [[UInt8]], to path: String) throws(TesseraError) {
        if let mode = try inPlaceMode(of: path) {
            do throws(TesseraError) { try Self.writeInPlace(chunks, to: path, mode: mode) } catch {
                discard()
                throw error
            }
            return
        }
        try stageTemporary(path: path) { (file) throws(TesseraError) in
            var offset = 0
            for chunk in chunks {
                try chunk.withUnsafeBufferPointer { (bytes) throws(TesseraError) in try file.write(UnsafeRawBufferPointer(bytes), at: offset) }
                offset += chunk.count
            }
        }
    }

    /// Stages UTF-8 text.
    public func stage(text: String, to path: String) throws(TesseraError) { try stage([Array(text.utf8)], to: path) }

    /// Streams a file: `body` writes it through the `StreamedFile` (at any offsets, from any
    /// thread, while `body` runs), then the temporary is flushed and staged. Returns what `body`
    /// returns; if `body` throws, the temporary is removed and the whole group discarded.
    public func stage<R>(path: String, _ body: (StreamedFile) throws(TesseraError) -> R) throws(TesseraError) -> R {
        if let mode = try inPlaceMode(of: path) {
            do throws(TesseraError) {
                guard mode == S_IFCHR else {
                    throw .io("cannot write \(path): it is a FIFO, which cannot take a file written in pieces; choose a regular file")
                }
                try Interruption.check()
                let fd = open(path, O_WRONLY | O_CLOEXEC)
                guard fd >= 0 else { throw .io("cannot write \(path): \(SystemError.text(errno))") }
                let file = StreamedFile(path: path, descriptor: fd)
                let result = Result { () throws(TesseraError) in try body(file) }
                if file.close() != 0, case .success = result { throw .io("cannot write \(path): \(SystemError.text(errno))") }
                return try result.get()
            } catch {
                discard()
                throw error
            }
        }
        return try stageTemporary(path: path, body)
    }

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

    /// Checks the destination: its directory exists, it is not staged already; returns the file
    /// type of an existing destination that is not a regular file (to be written in place), nil
    /// for a regular file or none. Discards the group when it throws.
    private func inPlaceMode(of path: String) throws(TesseraError) -> mode_t? {
        do throws(TesseraError) {
            let directory = AtomicFile.directory(of: path)
            var dirInfo = stat()
            guard stat(directory, &dirInfo) == 0, (dirInfo.st_mode & S_IFMT) == S_IFDIR else {
                throw .io("cannot write \(path): directory \(directory) does not exist")
            }
            guard !staged.contains(where: { $0.path == path }) else { throw .invalidArgument("\(path) is named as two outputs; choose distinct paths") }
            var target = stat()
            guard stat(path, &target) == 0, (target.st_mode & S_IFMT) != S_IFREG else { return nil }
            let mode = target.st_mode & S_IFMT
            guard mode == S_IFCHR || mode == S_IFIFO else {
                throw .io("cannot write \(path): it exists and is not a regular file\(mode == S_IFDIR ? " (a directory)" : ""); choose a file path")
            }
            return mode
        } catch {
            discard()
            throw error
        }
    }

    /// The mkstemp template of the temporary beside `path`: `NAME.tmp-XXXXXX` in the same
    /// directory, with NAME cut (at a character boundary) so that the temporary's name stays
    /// within the 255 bytes a file name may have — a legal 250-byte output name still works.
    static func temporaryTemplate(for path: String) -> String {
        let suffix = ".tmp-XXXXXX", limit = 255
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[...$0]) } ?? ""
        var name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        while name.utf8.count + suffix.utf8.count > limit, !name.isEmpty { name.removeLast() }
        return directory + name + suffix
    }

    /// Creates and registers the temporary beside `path`, runs `body` on it, flushes and closes
    /// it and records it as staged; on any failure removes it and discards the group.
    private func stageTemporary<R>(path: String, _ body: (StreamedFile) throws(TesseraError) -> R) throws(TesseraError) -> R {
        do throws(TesseraError) {
            try Interruption.check()
            var template = Array(Self.temporaryTemplate(for: path).utf8CString)
            let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            guard fd >= 0 else { throw .io("cannot write \(path): \(SystemError.text(errno))") }
            let temporary = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            TemporaryFiles.track(temporary)
            let file = StreamedFile(path: path, descriptor: fd)
            var result: Result<R, TesseraError>
            // mkstemp makes the file 0600; give it the mode a plain create would (0666 less the umask).
            if fchmod(fd, AtomicFile.creationMode) != 0 {
                result = .failure(.io("cannot write \(path): \(SystemError.text(errno))"))
            } else {
                result = Result { () throws(TesseraError) in try body(file) }
            }
            if case .success = result, fsync(fd) != 0 { result = .failure(.io("cannot write \(path): \(SystemError.text(errno))")) }
            if file.close() != 0, case .success = result { result = .failure(.io("cannot write \(path): \(SystemError.text(errno))")) }
            if case .failure = result {
                unlink(temporary)
                TemporaryFiles.untrack(temporary)
            } else {
                staged.append((temporary, path))
            }
            return try result.get()
        } catch {
            discard()
            throw error
        }
    }

    /// Streams into an existing device or FIFO (no temporary: it cannot be renamed over).
    private static func writeInPlace(_ chunks: [[UInt8]], to path: String, mode: mode_t) throws(TesseraError) {
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
