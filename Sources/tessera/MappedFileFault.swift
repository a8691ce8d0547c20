import CStopSignals
import TesseraIO
#if canImport(Glibc)
import Glibc
#endif

/// The end of a run whose read of a memory-mapped input faulted (SIGBUS): another process
/// truncated the file while Tessera was reading it. Called by `StopWatchdog` on its own thread
/// once the C handler has parked the faulting thread: removes every temporary registered in
/// `TemporaryFiles` (nothing half-written survives), prints one line and exits without running
/// anything else (`_exit`):
/// - the address lies in a mapped file (`MappedRegions`): "tessera: error: PATH was truncated
///   while it was being read; nothing was written", exit 2 (the input is the user's to fix);
/// - anywhere else (a bug, or a SIGBUS sent with kill): "tessera: internal error: SIGBUS at
///   address 0x…; nothing was written", exit 1.
enum MappedFileFault {
    static func end() -> Never {
        let address = UInt(tessera_fault_address())
        for path in TemporaryFiles.registered { unlink(path) }
        let line: String, status: Int32
        if let path = MappedRegions.path(containing: address) {
            line = "tessera: error: \(path) was truncated while it was being read; nothing was written\n"
            status = 2
        } else {
            line = "tessera: internal error: SIGBUS at address 0x\(String(address, radix: 16)); nothing was written\n"
            status = 1
        }
        let bytes = Array(line.utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        _exit(status)
    }
}
