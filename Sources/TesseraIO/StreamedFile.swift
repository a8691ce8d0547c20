import Synchronization
import TesseraCore
#if canImport(Glibc)
import Glibc
#endif

/// An output file being written in pieces, each at its own byte offset (`pwrite`), handed to the
/// body of `AtomicFileGroup.stage(path:_:)`. Any number of threads may write at once (the
/// pieces should not overlap); the file is the group's temporary (or a device written in
/// place), flushed and staged once the body returns.
///
/// Valid only while that body runs: the descriptor is closed after it, and a later `write`
/// throws instead of writing into whatever file reuses the number. `write` throws `io` naming
/// the destination and the system's reason (“No space left on device”). Cost: one system call
/// per piece (more when the kernel takes part of it).
public final class StreamedFile: Sendable {
    /// The destination path (for messages; the bytes go to its temporary).
    public let path: String
    private let descriptor: Atomic<Int32>

    init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = Atomic(descriptor)
    }

    /// Writes every byte of `bytes` at `offset`, retrying short writes and interruptions.
    public func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(TesseraError) {
        let fd = descriptor.load(ordering: .acquiring)
        guard fd >= 0 else { throw .internalFailure("\(path) was written after its stage ended") }
        guard let base = bytes.baseAddress else { return }
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, base + done, bytes.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw .io("cannot write \(path): \(SystemError.text(errno))")
            }
            if n == 0 { throw .io("cannot write \(path): the system wrote nothing") }
            done += n
        }
    }

    /// Writes `bytes` at `offset`.
    public func write(_ bytes: [UInt8], at offset: Int) throws(TesseraError) {
        try bytes.withUnsafeBufferPointer { (raw) throws(TesseraError) in try write(UnsafeRawBufferPointer(raw), at: offset) }
    }

    /// Closes the descriptor (once); the result of `close`, 0 when already closed.
    func close() -> Int32 {
        let fd = descriptor.exchange(-1, ordering: .acquiringAndReleasing)
        return fd >= 0 ? Glibc.close(fd) : 0
    }
}
